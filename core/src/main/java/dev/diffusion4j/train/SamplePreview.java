package dev.diffusion4j.train;

import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.model.DenoisingNetwork;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.sampling.Sampler;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.ImageTiles;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Sample grids written while an image model trains: the same {@value #IMAGES} noise draws each
 * time, through DDIM with {@value #STEPS} steps, from the EMA weights when there are any — so
 * successive grids show the model learning.
 */
final class SamplePreview {
    static final int IMAGES = 16;
    static final int STEPS = 50;
    private static final long SEED = 0;

    private final ModelSpec spec;
    private final DenoisingNetwork network;
    private final Sampler sampler = Samplers.create("ddim", SamplerOptions.DEFAULTS.withSteps(STEPS));

    SamplePreview(ModelSpec spec) {
        this.spec = spec;
        this.network = spec.buildNetwork(Generator.derived(SEED, 0));
        this.network.train(false);
    }

    /** Samples with {@code weights} and writes the grid as {@code dir/step-NNNNNNNN.png}; returns the file. */
    Path write(Map<String, Tensor> weights, Path dir, long step) {
        network.loadStateDict(weights);
        Path file = dir.resolve(String.format(Locale.ROOT, "step-%08d.png", step));
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Generator g = new Generator(SEED);
            long[] item = spec.sampleShape();
            Tensor noise = Tensor.randn(g, IMAGES, item[0], item[1], item[2]);
            Tensor images = sampler.sample(spec.denoiser(network, true), noise, g, dev.diffusion4j.sampling.SamplingListener.NONE);
            PngWriter.write(file, ImageTiles.grid(ImageTiles.fromTensor(images), 4, 2),
                    Map.of("Software", "diffusion4j", "step", Long.toString(step), "sampler", "ddim", "steps", Integer.toString(STEPS)));
        }
        return file;
    }
}
