package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;
import java.util.function.Supplier;

/**
 * DDIM (Song, Meng &amp; Ermon 2021, eq. 12): with ε̂ = (x − x̂₀)/σ_t and ᾱ = 1/(1+σ²),
 * <pre>
 * x_s = √ᾱ_s·x̂₀ + √(1 − ᾱ_s − σ_η²)·ε̂ + σ_η·z,   σ_η = η·√((1−ᾱ_s)/(1−ᾱ_t))·√(1 − ᾱ_t/ᾱ_s)
 * </pre>
 * in VP coordinates. η = 0 (the default) is the deterministic probability-flow discretisation;
 * η = 1 matches DDPM's posterior variance. The previous timestep always comes from the actual grid.
 * Final step: to σ = 0 it returns x̂₀.
 */
public final class DdimSampler extends GridSampler {
    public DdimSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "ddim";
    }

    @Override
    protected Tensor step(Tensor x, Tensor denoised, double sigma, double sigmaNext, Supplier<Tensor> noise) {
        double abT = 1 / (1 + sigma * sigma);
        double abS = 1 / (1 + sigmaNext * sigmaNext);
        Tensor eps = x.sub(denoised).div(sigma);
        double sigmaEta = options.etaOr(0) * Math.sqrt((1 - abS) / (1 - abT)) * Math.sqrt(1 - abT / abS);
        Tensor xs = denoised.mul(Math.sqrt(abS)).add(eps.mul(Math.sqrt(Math.max(0, 1 - abS - sigmaEta * sigmaEta))));
        if (sigmaEta > 0) {
            xs = xs.add(noise.get().mul(sigmaEta));
        }
        return xs.div(Math.sqrt(abS));
    }
}
