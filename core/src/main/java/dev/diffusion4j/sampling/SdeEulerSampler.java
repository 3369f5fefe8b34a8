package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.process.Sde;
import dev.diffusion4j.tensor.Tensor;

/**
 * Euler–Maruyama on the reverse-time SDE of a score SDE (Song et al. 2021, eq. 6 after Anderson
 * 1982; {@link Sde} says how VP, VE and sub-VP see the Denoiser). In the SDE's state y = α·x and
 * time t, with η scaling the diffusion as in the family of SDEs that share the marginals (Karras
 * et al. 2022, eq. 6; η = 1 is the reverse SDE, η = 0 the probability-flow ODE of eq. 13):
 * <pre>
 * dy = [f(t)·y − ½(1 + η²)·g(t)²·∇log p_t(y)] dt + η·g(t) dw̄
 * </pre>
 * one step from t_i down to t_{i+1}, Δt = t_i − t_{i+1} &gt; 0, reads
 * <pre>
 * y_{i+1} = y_i − [f(t_i)·y_i − ½(1 + η²)·g(t_i)²·∇log p(y_i)]·Δt + η·g(t_i)·√Δt·S_noise·z
 * </pre>
 * The grid is uniform in the SDE's own time (or the options' σ schedule, mapped to t). Weak order 1;
 * first order at η = 0. One evaluation per step. Final step: to σ = 0 it returns x̂₀ = D(x; σ_{N−1}).
 */
public final class SdeEulerSampler extends ScoreSdeSampler {
    /** Default steps: Euler–Maruyama is only first order, so it needs many. */
    static final int DEFAULT_STEPS = 500;

    public SdeEulerSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "sde_euler";
    }

    @Override
    protected int defaultSteps(Denoiser model) {
        return DEFAULT_STEPS;
    }


    @Override
    protected Tensor step(Step s) {
        if (s.sigmaNext() == 0) {
            return s.denoised();
        }
        Sde.Process sde = process(s.model());
        Tensor y = s.x().mul(sde.scale(s.sigma()));
        Tensor next = eulerMaruyama(s, sde, y, s.denoised(), options.etaOr(1), options.sNoise());
        return next.div(sde.scale(s.sigmaNext()));
    }

    /** One Euler–Maruyama step of the reverse SDE from σ_i to σ_{i+1} in SDE coordinates, given x̂₀ = D(y/α; σ_i). */
    static Tensor eulerMaruyama(Step s, Sde.Process sde, Tensor y, Tensor denoised, double eta, double sNoise) {
        double t = sde.time(s.sigma());
        double dt = t - sde.time(s.sigmaNext());
        double g2 = sde.diffusionSquared(t);
        Tensor score = sde.score(y, denoised, s.sigma());
        Tensor drift = y.mul(sde.drift(t)).sub(score.mul(0.5 * (1 + eta * eta) * g2));
        Tensor next = y.sub(drift.mul(dt));
        return eta > 0 ? next.add(s.noise().mul(eta * Math.sqrt(g2 * dt) * sNoise)) : next;
    }
}
