package dev.diffusion4j.models.vae;

import static dev.diffusion4j.models.GoldenFixtures.assertClose;

import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.models.GoldenFixtures;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity with diffusers' own AutoencoderKL: folders written by the reference implementation on tiny
 * random configurations (tools/golden/make_vae_fixture.py), loaded as a user's {@code vae/} folder
 * would be, must give the reference's posterior and decodes, on a square and a non-square input,
 * within {@link GoldenFixtures#assertClose} (the kernels' rounding here is about 3e-6).
 */
class AutoencoderKLGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"vae_tiny_attn", "vae_tiny_noattn_noquant"})
    void matchesDiffusers(String fixture) {
        Path dir = GoldenFixtures.folder("vae/" + fixture);
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open(); SafetensorsFile io = Safetensors.open(dir.resolve("io.safetensors"))) {
            AutoencoderKL vae = AutoencoderKL.load(dir);
            for (String prefix : new String[] {"", "rect_"}) {
                Tensor x = io.read(prefix.isEmpty() ? "input" : "rect_input");
                DiagonalGaussian q = vae.encode(x);
                assertClose(io.read(prefix + "posterior_mean"), q.mean(), fixture + " " + prefix + "mean");
                assertClose(io.read(prefix + "posterior_logvar"), q.logVariance(), fixture + " " + prefix + "logvar (clamped)");
                assertClose(io.read(prefix + "forward_sample"), vae.reconstruct(x), fixture + " " + prefix + "forward");
            }
            assertClose(io.read("decoded_mean"), vae.decode(io.read("posterior_mean")), fixture + " decode");
        }
    }
}
