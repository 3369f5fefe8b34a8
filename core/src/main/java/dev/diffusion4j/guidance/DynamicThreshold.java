package dev.diffusion4j.guidance;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.ForwardingDenoiser;
import dev.diffusion4j.model.LearnedVariance;
import dev.diffusion4j.tensor.Tensor;

/**
 * Imagen's dynamic thresholding of x̂₀ (Saharia et al. 2022, sec. 2.3), for data in [−1, 1]: per
 * sample, s = max(the p-quantile of |x̂₀|, 1), then x̂₀ ← clip(x̂₀, −s, s)/s. Saturated pixels are
 * pushed inwards instead of piling up at ±1, which keeps large guidance weights from burning out
 * images. Static thresholding is plain clipping to [−1, 1] ({@link ClippedDenoiser}).
 */
public final class DynamicThreshold extends ForwardingDenoiser {
    /** Imagen's percentile. */
    public static final double DEFAULT_PERCENTILE = 0.995;

    private final double percentile;

    public DynamicThreshold(Denoiser inner, double percentile) {
        super(inner);
        if (!(percentile > 0 && percentile <= 1)) {
            throw new DiffusionException("dynamic-threshold percentile must be in (0, 1], got " + percentile);
        }
        this.percentile = percentile;
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        return threshold(inner.denoise(x, sigma));
    }

    @Override
    protected LearnedVariance.Estimate estimate(LearnedVariance wrapped, Tensor x, Tensor sigma) {
        LearnedVariance.Estimate e = wrapped.estimate(x, sigma);
        return new LearnedVariance.Estimate(threshold(e.denoised()), e.fraction());
    }

    /** The thresholded x̂₀ (any shape [B, …]). */
    public Tensor threshold(Tensor x0) {
        Tensor s = x0.flatten(1, -1).abs().quantile(percentile, 1, false).clampMin(1.0).broadcastTo(x0);
        return x0.clamp(s.neg(), s).div(s);
    }
}
