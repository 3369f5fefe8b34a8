package dev.diffusion4j.models.vae;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * The encoder's posterior q(z|x) = N(mean, diag(exp(logVariance))) (Kingma &amp; Welling 2014), with
 * the log-variance clamped to [−30, 20] as diffusers does, so exp never overflows.
 */
public record DiagonalGaussian(Tensor mean, Tensor logVariance) {
    /** Splits the encoder's moments [B, 2·C, h, w] into mean and clamped log-variance. */
    public static DiagonalGaussian fromMoments(Tensor moments) {
        long c = moments.size(1) / 2;
        return new DiagonalGaussian(moments.narrow(1, 0, c), moments.narrow(1, c, c).clamp(-30, 20));
    }

    /** The most likely latent: the mean. */
    public Tensor mode() {
        return mean;
    }

    /** z = mean + σ·ε, ε ~ N(0, I) from {@code g}. */
    public Tensor sample(Generator g) {
        return mean.add(logVariance.mul(0.5).exp().mul(Tensor.randn(g, mean.shape())));
    }

    /**
     * KL(q ‖ N(0, I)) per item, summed over latent dimensions: ½ Σ (μ² + σ² − 1 − log σ²),
     * the autoencoder's regulariser.
     */
    public Tensor klToStandardNormal() {
        Tensor perElement = mean.square().add(logVariance.exp()).sub(1).sub(logVariance).mul(0.5);
        return perElement.flatten(1, -1).sum(1, false);
    }
}
