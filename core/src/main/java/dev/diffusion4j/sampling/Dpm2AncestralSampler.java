package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Tensor;

/**
 * Ancestral DPM-Solver-2: a {@link Dpm2Sampler} midpoint step from σ_i down to σ_down, then fresh
 * noise of standard deviation σ_up·S_noise (see {@link Ancestral}; η = 1 by default, η = 0 gives
 * dpm2 without churn). Final step: to σ = 0 it returns x̂₀.
 */
public final class Dpm2AncestralSampler extends SigmaSampler {
    public Dpm2AncestralSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "dpm2_ancestral";
    }

    @Override
    protected int defaultSteps(Denoiser model) {
        return Math.min(HeunSampler.DEFAULT_STEPS, SigmaSampler.trainingSteps(model, HeunSampler.DEFAULT_STEPS));
    }

    @Override
    protected Tensor step(Step s) {
        Tensor denoised = s.denoised();
        if (s.sigmaNext() == 0) {
            return denoised;
        }
        Ancestral a = Ancestral.split(s.sigma(), s.sigmaNext(), options.etaOr(1));
        Tensor down = Dpm2Sampler.midpointStep(s, s.x(), denoised, s.sigma(), a.down());
        return a.up() > 0 ? down.add(s.noise().mul(a.up() * options.sNoise())) : down;
    }
}
