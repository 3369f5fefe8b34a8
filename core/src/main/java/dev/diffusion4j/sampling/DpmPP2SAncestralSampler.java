package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Tensor;

/**
 * Ancestral DPM-Solver++(2S): Lu et al. 2022 ("DPM-Solver++", Algorithm 1, second-order singlestep
 * with r = ½) from σ_i down to σ_down, then fresh noise of standard deviation σ_up·S_noise (see
 * {@link Ancestral}; η = 1 by default). With h = log(σ_i/σ_down) and σ_s = √(σ_i·σ_down):
 * <pre>
 * u       = (σ_s/σ_i)·x + (1 − e^{−h/2})·x̂₀
 * x_down  = (σ_down/σ_i)·x + (1 − e^{−h})·D(u; σ_s)
 * </pre>
 * Two evaluations per step. Final step: to σ = 0 it returns x̂₀.
 */
public final class DpmPP2SAncestralSampler extends SigmaSampler {
    public DpmPP2SAncestralSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "dpmpp_2s_ancestral";
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
        double h = Math.log(s.sigma() / a.down());
        double sigmaMid = Math.sqrt(s.sigma() * a.down());
        Tensor u = s.x().mul(sigmaMid / s.sigma()).add(denoised.mul(-Math.expm1(-h / 2)));
        Tensor down = s.x().mul(a.down() / s.sigma()).add(s.denoise(u, sigmaMid).mul(-Math.expm1(-h)));
        return a.up() > 0 ? down.add(s.noise().mul(a.up() * options.sNoise())) : down;
    }
}
