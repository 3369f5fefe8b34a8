package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.LinearFlow;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.tensor.Tensor;

/**
 * An explicit Runge–Kutta method on the flow-matching ODE dx_t/dt = v(x_t, t) of the linear path
 * x_t = (1 − t)·x₀ + t·n (see {@link LinearFlow}: t = σ/(1 + σ), x_t = x/(1 + σ),
 * v = (x_t − D)/t). The grid is uniform in t from t(σ_max) to t(σ_min) (or the options' σ
 * schedule), then 0; each step converts the state to x_t, takes one step of size h = t_{i+1} − t_i
 * and converts back. Final step: to t = 0 every method takes the Euler step x_t − t·v = x̂₀, which
 * needs no evaluation at t = 0 (where v = (x_t − D)/t is 0/0).
 */
abstract class FlowSampler extends SigmaSampler {
    FlowSampler(SamplerOptions options) {
        super(options);
    }

    /** Default steps for a method of {@code stages} evaluations per step: about 50 evaluations. */
    static int defaultSteps(int stages) {
        return (DEFAULT_STEPS + stages - 1) / stages;
    }

    /** Evaluations per step. */
    protected abstract int stages();

    /** x_{t+h} from x_t (h &lt; 0); {@code v} is the velocity at (x_t, t), already evaluated. */
    protected abstract Tensor advance(Step s, Tensor x, Tensor v, double t, double h);

    @Override
    protected int defaultSteps(Denoiser model) {
        return defaultSteps(stages());
    }

    /** By default uniform in t, the usual grid of flow-matching samplers; an explicit σ schedule is honoured. */
    @Override
    protected double[] levels(Denoiser model, GridSpec spec) {
        return spec.schedule() == SigmaSchedule.DEFAULT
                ? SigmaSchedule.uniformIn(LinearFlow.CLOCK, spec.stepsOr(defaultSteps(model)), model.sigmaMin(), model.sigmaMax())
                : super.levels(model, spec);
    }

    @Override
    protected final Tensor step(Step s) {
        if (s.sigmaNext() == 0) {
            return s.denoised();
        }
        double t = LinearFlow.time(s.sigma());
        double h = LinearFlow.time(s.sigmaNext()) - t;
        Tensor x = s.x().div(1 + s.sigma());
        Tensor next = advance(s, x, LinearFlow.velocity(x, s.denoised(), t), t, h);
        return next.mul(1 + s.sigmaNext());
    }

    /** v(x_t, t) at any state and time inside the step. */
    static Tensor velocity(Step s, Tensor x, double t) {
        double sigma = LinearFlow.sigma(t);
        return LinearFlow.velocity(x, s.denoise(x.mul(1 + sigma), sigma), t);
    }
}
