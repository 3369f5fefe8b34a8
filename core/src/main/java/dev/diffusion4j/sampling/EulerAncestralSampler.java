package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;
import java.util.function.Supplier;

/**
 * Euler ancestral: an Euler step of the probability-flow ODE down to σ_down, then fresh noise of
 * standard deviation σ_up (see {@link Ancestral}; η = 1 by default, S_noise scales the noise):
 * <pre>
 * x_{i+1} = x + (σ_down − σ_i)·(x − x̂₀)/σ_i + σ_up·S_noise·z
 * </pre>
 * At η = 1 this is DDPM's ancestral step on an arbitrary σ grid; at η = 0 it is {@link EulerSampler}.
 * Final step: to σ = 0 (σ_down = σ_up = 0) it returns x̂₀.
 */
public final class EulerAncestralSampler extends GridSampler {
    public EulerAncestralSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "euler_ancestral";
    }

    @Override
    protected Tensor step(Tensor x, Tensor denoised, double sigma, double sigmaNext, Supplier<Tensor> noise) {
        if (sigmaNext == 0) {
            return denoised;
        }
        Ancestral a = Ancestral.split(sigma, sigmaNext, options.etaOr(1));
        Tensor down = x.add(derivative(x, denoised, sigma).mul(a.down() - sigma));
        return a.up() > 0 ? down.add(noise.get().mul(a.up() * options.sNoise())) : down;
    }
}
