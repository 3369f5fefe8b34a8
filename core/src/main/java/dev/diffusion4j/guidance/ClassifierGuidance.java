package dev.diffusion4j.guidance;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.ForwardingDenoiser;
import dev.diffusion4j.model.LearnedVariance;
import dev.diffusion4j.model.NoisyClassifier;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Tensor;

/**
 * Classifier guidance (Dhariwal &amp; Nichol 2021, Algorithm 1 and eq. 14) as a denoiser:
 * <pre>
 * D̂(x; σ) = D(x; σ) + s·σ²·∇ₓ log p(y | x; σ)
 * </pre>
 * Tweedie's formula makes D = x + σ²·∇ log p_σ(x), so this adds s times the classifier's gradient
 * to the score; it is their ε̂ = ε − s·√(1 − ᾱ)·∇ log p(y | x_t) in these coordinates. With s = 1 and
 * an exact classifier it is the exact conditional denoiser. The gradient comes from autograd, with
 * gradient recording switched on for the classifier alone.
 */
public final class ClassifierGuidance extends ForwardingDenoiser {
    private final NoisyClassifier classifier;
    private final int label;
    private final double scale;

    public ClassifierGuidance(Denoiser model, NoisyClassifier classifier, int label, double scale) {
        super(model);
        if (!(scale >= 0) || Double.isInfinite(scale)) {
            throw new DiffusionException("classifier scale must be a number ≥ 0, got " + scale);
        }
        if (label < 0) {
            throw new DiffusionException("class must be ≥ 0, got " + label);
        }
        this.classifier = classifier;
        this.label = label;
        this.scale = scale;
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        return guided(inner.denoise(x, sigma), x, sigma);
    }

    /** d + s·σ²·∇ₓ log p(y | x; σ). */
    private Tensor guided(Tensor d, Tensor x, Tensor sigma) {
        if (scale == 0) {
            return d;
        }
        Tensor grad = gradient(x, sigma);
        Tensor sigma2 = sigma.to(grad.dtype()).square();
        return d.add(grad.mul(sigma2.numel() == 1 ? sigma2 : sigma2.broadcastTo(grad)).mul(scale).to(d.dtype()));
    }

    /** ∇ₓ log p(y | x; σ) [B, ...], shaped like x. */
    Tensor gradient(Tensor x, Tensor sigma) {
        try (NoGrad ignored = NoGrad.enableGrad()) {
            Tensor xg = x.detach().to(DType.FLOAT64).clone().requiresGrad_(true);   // a copy: x may be an inference tensor
            Tensor logp = classifier.logProbabilities(xg, sigma);
            if (label >= logp.size(1)) {
                throw new DiffusionException("unknown class " + label + ": the classifier knows classes 0 to " + (logp.size(1) - 1));
            }
            Tensor chosen = logp.narrow(1, label, 1).sum();
            return chosen.vjp(xg, Tensor.ones(1).to(chosen.dtype()).reshape(new long[0]), false).detach();
        }
    }

    @Override
    protected LearnedVariance.Estimate estimate(LearnedVariance wrapped, Tensor x, Tensor sigma) {
        LearnedVariance.Estimate e = wrapped.estimate(x, sigma);
        return new LearnedVariance.Estimate(guided(e.denoised(), x, sigma), e.fraction());
    }
}
