package dev.diffusion4j.bench;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** What guidance costs: one guided denoiser call against an unguided one, at a mid noise level. */
public final class GuidanceCost {
    /** Timed repetitions; the median is reported. */
    public static final int REPEATS = 15;

    private GuidanceCost() {
    }

    /**
     * Median time of a call of the denoiser {@code guided} resolves to (classifier-free guidance: 2B through
     * the network; classifier guidance: the network, then the classifier's gradient) over an unguided
     * call, at batch {@code batch}, after two untimed warm-up rounds.
     */
    public static double ratio(DiffusionPipeline pipe, GenerationRequest guided, int batch, long seed) {
        if (batch < 1) {
            throw new DiffusionException("a cost batch must be at least 1, got " + batch);
        }
        Denoiser plain = pipe.denoiser();
        Denoiser steered = pipe.denoiser(guided);
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.inference()) {
            long[] item = pipe.sampleShape();
            long[] shape = new long[item.length + 1];
            shape[0] = batch;
            System.arraycopy(item, 0, shape, 1, item.length);
            Tensor x = Tensor.randn(new Generator(seed), shape);
            Tensor sigma = Tensor.of(new float[] {1.0f}, 1);
            List<Double> plainTimes = new ArrayList<>();
            List<Double> guidedTimes = new ArrayList<>();
            for (int r = -2; r < REPEATS; r++) {
                long t0 = System.nanoTime();
                plain.denoise(x, sigma).sum().item();
                long t1 = System.nanoTime();
                steered.denoise(x, sigma).sum().item();
                long t2 = System.nanoTime();
                if (r >= 0) {
                    plainTimes.add((double) (t1 - t0));
                    guidedTimes.add((double) (t2 - t1));
                }
            }
            return Stats.median(guidedTimes) / Stats.median(plainTimes);
        }
    }
}
