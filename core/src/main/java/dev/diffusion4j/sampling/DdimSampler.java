package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * DDIM (Song, Meng &amp; Ermon 2021, eq. 12): with ε̂ = (x − x̂₀)/σ_t and ᾱ = 1/(1+σ²),
 * <pre>
 * x_s = √ᾱ_s·x̂₀ + √(1 − ᾱ_s − σ_η²)·ε̂ + σ_η·z,   σ_η = η·√((1−ᾱ_s)/(1−ᾱ_t))·√(1 − ᾱ_t/ᾱ_s)
 * </pre>
 * in VP coordinates. η = 0 is the deterministic probability-flow discretisation; η = 1 matches
 * DDPM's posterior variance. The previous timestep always comes from the actual grid.
 */
public final class DdimSampler extends GridSampler {
    /** Default number of steps when none is requested. */
    public static final int DEFAULT_STEPS = 50;

    private final SamplerOptions options;

    public DdimSampler(SamplerOptions options) {
        this.options = options;
    }

    @Override
    public String name() {
        return "ddim";
    }

    @Override
    protected double[] sigmas(Denoiser model) {
        int steps = options.stepsOr(Math.min(DEFAULT_STEPS, SigmaGrid.trainingSteps(model, DEFAULT_STEPS)));
        return SigmaGrid.forModel(model, steps, options.spacing());
    }

    @Override
    protected Tensor step(Tensor x, Tensor denoised, double sigma, double sigmaNext, Generator g) {
        double abT = 1 / (1 + sigma * sigma);
        double abS = 1 / (1 + sigmaNext * sigmaNext);
        Tensor eps = x.sub(denoised).div(sigma);
        double sigmaEta = options.eta() * Math.sqrt((1 - abS) / (1 - abT)) * Math.sqrt(1 - abT / abS);
        Tensor xs = denoised.mul(Math.sqrt(abS)).add(eps.mul(Math.sqrt(Math.max(0, 1 - abS - sigmaEta * sigmaEta))));
        if (sigmaEta > 0) {
            xs = xs.add(Tensor.randn(g, x.shape()).mul(sigmaEta));
        }
        return xs.div(Math.sqrt(abS));
    }
}
