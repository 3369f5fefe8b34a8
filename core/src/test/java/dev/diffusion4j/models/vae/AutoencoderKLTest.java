package dev.diffusion4j.models.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutoencoderKLTest {
    private static final String D = AutoencoderKLConfig.DOWN;
    private static final String U = AutoencoderKLConfig.UP;

    static AutoencoderKLConfig tiny(boolean attention, boolean quantConv) {
        return new AutoencoderKLConfig(3, 3, List.of(D, D), List.of(U, U), List.of(8, 16), 1, Activation.SILU, 4, 4, 16, 0.5, null,
                quantConv, quantConv, attention);
    }

    /** Stable Diffusion's published autoencoder has 83,653,863 parameters; the same config builds exactly that many. */
    @Test
    void stableDiffusionConfigHasTheReferenceParameterCount() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.stableDiffusion(), new Generator(0));
            assertEquals(83_653_863L, vae.parameterCount());
            assertEquals(8, vae.config().downsampleFactor());
        }
    }

    @Test
    void moduleNamesAreDiffusers() {
        try (Scope s = Scope.open()) {
            Set<String> keys = new AutoencoderKL(tiny(true, true), new Generator(0)).stateDict().keySet();
            for (String k : List.of("encoder.conv_in.weight", "encoder.down_blocks.0.resnets.0.norm1.weight",
                    "encoder.down_blocks.0.downsamplers.0.conv.weight", "encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
                    "encoder.mid_block.attentions.0.group_norm.weight", "encoder.mid_block.attentions.0.to_q.weight",
                    "encoder.mid_block.attentions.0.to_out.0.bias", "encoder.mid_block.resnets.1.conv2.bias",
                    "encoder.conv_norm_out.weight", "encoder.conv_out.weight", "quant_conv.weight", "post_quant_conv.bias",
                    "decoder.conv_in.weight", "decoder.up_blocks.0.resnets.1.conv1.weight", "decoder.up_blocks.0.upsamplers.0.conv.weight",
                    "decoder.up_blocks.1.resnets.0.conv_shortcut.weight", "decoder.conv_out.bias")) {
                assertTrue(keys.contains(k), k);
            }
            assertFalse(keys.stream().anyMatch(k -> k.contains("time_emb_proj")), "no timestep in an autoencoder");
            assertFalse(keys.contains("decoder.up_blocks.1.upsamplers.0.conv.weight"), "the last level does not resample");
            Set<String> plain = new AutoencoderKL(tiny(false, false), new Generator(0)).stateDict().keySet();
            assertFalse(plain.stream().anyMatch(k -> k.contains("attentions") || k.contains("quant_conv")));
        }
    }

    @Test
    void encodesToLatentsAndDecodesBack() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            AutoencoderKL vae = new AutoencoderKL(tiny(true, true), new Generator(1));
            Tensor x = Tensor.rand(new Generator(2), 2, 3, 16, 24).mul(2).sub(1);
            DiagonalGaussian q = vae.encode(x);
            assertArrayEquals(new long[] {2, 4, 8, 12}, q.mean().shape());
            assertArrayEquals(new long[] {2, 4, 8, 12}, q.logVariance().shape());
            assertArrayEquals(new long[] {2, 3, 16, 24}, vae.decode(q.mode()).shape());
            assertTrue(vae.reconstruct(x).equal(vae.decode(q.mean())));
            Tensor z = q.sample(new Generator(3));
            assertTrue(z.equal(q.sample(new Generator(3))), "seeded");
            assertEquals(0, vae.fromDiffusionLatent(vae.toDiffusionLatent(z)).sub(z).abs().amax().item(), 1e-6);
            assertEquals(0, vae.toDiffusionLatent(z).sub(z.mul(0.5)).abs().amax().item(), 1e-7);
            DiffusionException e = assertThrows(DiffusionException.class, () -> vae.encode(Tensor.zeros(1, 3, 15, 16)));
            assertTrue(e.getMessage().contains("multiples of 2"), e.getMessage());
            assertThrows(DiffusionException.class, () -> vae.decode(Tensor.zeros(1, 3, 8, 8)));
        }
    }

    @Test
    void posteriorSamplesAndKlFollowTheirClosedForms() {
        try (Scope s = Scope.open()) {
            // mean 1, variance 4 in every element of 4 x 32 x 32: sample mean 1, std 2 (n = 4096 per item)
            Tensor moments = Tensor.cat(List.of(Tensor.ones(2, 4, 32, 32), Tensor.full(Math.log(4), 2, 4, 32, 32)), 1);
            DiagonalGaussian q = DiagonalGaussian.fromMoments(moments);
            Tensor z = q.sample(new Generator(4));
            assertEquals(1.0, z.mean().item(), 0.05);
            assertEquals(2.0, z.sub(1).square().mean().sqrt().item(), 0.05);
            // KL(N(1, 4) || N(0, 1)) = ½ (1 + 4 − 1 − ln 4) per element
            double perElement = 0.5 * (1 + 4 - 1 - Math.log(4));
            assertArrayEquals(new double[] {perElement * 4096, perElement * 4096}, q.klToStandardNormal().toDoubleArray(), 1e-2);
            // the log-variance is clamped as diffusers does: exp(±large) stays finite
            DiagonalGaussian wild = DiagonalGaussian.fromMoments(Tensor.cat(List.of(Tensor.zeros(1, 1, 1, 1),
                    Tensor.full(100, 1, 1, 1, 1)), 1));
            assertEquals(20, wild.logVariance().item(), 0);
        }
    }

    @Test
    void tiledDecodingBlendsTilesIntoTheWholeDecode(@TempDir Path dir) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            AutoencoderKL vae = new AutoencoderKL(tiny(true, true), new Generator(5));
            Tensor z = Tensor.randn(new Generator(6), 2, 4, 24, 20);
            Tensor whole = vae.decode(z);
            // one tile is the whole decode (item by item, so up to the batched kernels' rounding)
            assertEquals(0, vae.decodeTiled(z, 24, 4).sub(whole).abs().amax().item(), 1e-5);
            Tensor tiled = vae.decodeTiled(z, 12, 4);
            assertArrayEquals(whole.shape(), tiled.shape());
            // a random decoder is far from local (GroupNorm and attention see a whole tile), so tiles stay
            // near the whole decode rather than equal to it; overlapping, blended tiles come closer than cut ones
            double blended = tiled.sub(whole).abs().mean().item();
            double cut = vae.decodeTiled(z, 12, 0).sub(whole).abs().mean().item();
            double otherLatent = vae.decode(Tensor.randn(new Generator(7), 2, 4, 24, 20)).sub(whole).abs().mean().item();
            assertTrue(blended < cut && blended < 0.3 * otherLatent, "blended tiles " + blended + ", cut tiles " + cut
                    + ", another latent " + otherLatent);
            Tensor second = vae.decodeTiled(z.narrow(0, 1, 1), 12, 4);
            assertTrue(second.equal(tiled.narrow(0, 1, 1)), "one item at a time: a batch decodes as its items do");
            assertThrows(DiffusionException.class, () -> vae.decodeTiled(z, 8, 8));
        }
    }

    @Test
    void tiledEncodingBlendsTheMoments() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            AutoencoderKL vae = new AutoencoderKL(tiny(true, true), new Generator(10));
            Tensor x = Tensor.rand(new Generator(11), 2, 3, 48, 40).mul(2).sub(1);
            DiagonalGaussian whole = vae.encode(x);
            assertEquals(0, vae.encodeTiled(x, 48, 8).mean().sub(whole.mean()).abs().amax().item(), 1e-5);
            DiagonalGaussian tiled = vae.encodeTiled(x, 24, 8);
            assertArrayEquals(whole.mean().shape(), tiled.mean().shape());
            double blended = tiled.mean().sub(whole.mean()).abs().mean().item();
            double cut = vae.encodeTiled(x, 24, 0).mean().sub(whole.mean()).abs().mean().item();
            assertTrue(blended < cut, "blended " + blended + ", cut " + cut);
            assertTrue(assertThrows(DiffusionException.class, () -> vae.encodeTiled(x, 25, 8)).getMessage().contains("multiples of 2"));
        }
    }

    @Test
    void savesAndLoadsDiffusersFolders(@TempDir Path dir) throws Exception {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            AutoencoderKL vae = new AutoencoderKL(tiny(true, true), new Generator(8));
            vae.save(dir.resolve("vae"));
            AutoencoderKL back = AutoencoderKL.load(dir.resolve("vae"));
            assertEquals(vae.config(), back.config());
            Tensor x = Tensor.rand(new Generator(9), 1, 3, 16, 16);
            assertTrue(vae.reconstruct(x).equal(back.reconstruct(x)));
            // half-precision weights, as Stable Diffusion folders often ship them, load as float32
            Map<String, Tensor> half = new LinkedHashMap<>();
            vae.stateDict().forEach((k, v) -> half.put(k, v.to(DType.FLOAT16)));
            Safetensors.write(dir.resolve("vae").resolve(ModelFolder.DIFFUSERS_WEIGHTS), half, Map.of());
            Tensor fromHalf = AutoencoderKL.load(dir.resolve("vae")).reconstruct(x);
            assertEquals(0, fromHalf.sub(vae.reconstruct(x)).abs().amax().item(), 0.05);
            // a weight too many is named, not ignored
            half.put("encoder.extra.weight", Tensor.zeros(1));
            Safetensors.write(dir.resolve("vae").resolve(ModelFolder.DIFFUSERS_WEIGHTS), half, Map.of());
            assertTrue(assertThrows(DiffusionException.class, () -> AutoencoderKL.load(dir.resolve("vae"))).getMessage()
                    .contains("encoder.extra.weight"));
            Files.delete(dir.resolve("vae").resolve(ModelFolder.DIFFUSERS_WEIGHTS));
            assertTrue(assertThrows(DiffusionException.class, () -> AutoencoderKL.load(dir.resolve("vae"))).getMessage()
                    .contains("has no diffusion_pytorch_model.safetensors"));
        }
    }

    @Test
    void configReadsDiffusersKeysAndRefusesUnknownOnes() {
        AutoencoderKLConfig sd = AutoencoderKLConfig.stableDiffusion();
        assertEquals(sd, AutoencoderKLConfig.fromConfig(sd.toConfig()));
        Map<String, Object> m = new LinkedHashMap<>(sd.toConfig());
        m.put("_diffusers_version", "0.6.0");
        m.put("force_upcast", true);
        assertEquals(sd, AutoencoderKLConfig.fromConfig(m));
        m.put("use_tiling_magic", true);
        DiffusionException e = assertThrows(DiffusionException.class, () -> AutoencoderKLConfig.fromConfig(m));
        assertTrue(e.getMessage().contains("unknown keys [use_tiling_magic]"), e.getMessage());
        Map<String, Object> temporal = new LinkedHashMap<>(sd.toConfig());
        temporal.put("down_block_types", List.of("DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "TemporalDown"));
        assertTrue(assertThrows(DiffusionException.class, () -> AutoencoderKLConfig.fromConfig(temporal)).getMessage()
                .contains("'TemporalDown' is not supported"));
    }
}
