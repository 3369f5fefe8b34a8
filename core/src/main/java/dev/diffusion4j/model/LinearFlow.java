package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.schedule.NoiseClock;
import dev.diffusion4j.tensor.Tensor;

/**
 * The linear interpolation path of flow matching and rectified flow (Lipman et al. 2023, Liu et al.
 * 2023), x_t = (1 − t)·x₀ + t·n for t ∈ [0, 1] (data at 0, noise at 1), whose velocity
 * v = dx_t/dt = n − x₀ a model learns as v(x_t, t) = E[n − x₀ | x_t]. It is the {@link Denoiser}'s
 * process x = x₀ + σ·n in other coordinates: x_t = (1 − t)·(x₀ + t/(1 − t)·n), so
 * <pre>
 *   σ = t/(1 − t),   t = σ/(1 + σ),   x_t = x/(1 + σ)
 * </pre>
 * and, since E[x₀ | x] = D(x; σ) and E[n | x] = (x − D)/σ,
 * <pre>
 *   v(x_t, t) = (x − D)/σ − D = (x − (1 + σ)·D)/σ = (x_t − D(x_t/(1 − t); t/(1 − t)))/t
 * </pre>
 * — the conditional mean of (x_t − x₀)/t. Conversely a velocity model is a Denoiser through
 * D(x; σ) = x_t − t·v(x_t, t). The flow ODE dx_t/dt = v is the probability-flow ODE of
 * dx/dσ = (x − D)/σ in these coordinates, so both have the same trajectories.
 */
public final class LinearFlow {
    /** A network that predicts the velocity v(x_t, t) of the linear path; {@code t}: [B] or [1]. */
    @FunctionalInterface
    public interface VelocityModel {
        Tensor velocity(Tensor xt, Tensor t);
    }

    /** The path's own time t = σ/(1 + σ), for grids uniform in t. */
    public static final NoiseClock CLOCK = new NoiseClock() {
        @Override
        public double time(double sigma) {
            return LinearFlow.time(sigma);
        }

        @Override
        public double sigma(double t) {
            return LinearFlow.sigma(t);
        }
    };

    private LinearFlow() {
    }

    /** t = σ/(1 + σ). */
    public static double time(double sigma) {
        return sigma / (1 + sigma);
    }

    /** σ = t/(1 − t). */
    public static double sigma(double t) {
        return t / (1 - t);
    }

    /** v = (x_t − x̂₀)/t from the state x_t and its denoised estimate x̂₀ = D(x_t/(1 − t); σ(t)). */
    public static Tensor velocity(Tensor xt, Tensor denoised, double t) {
        return xt.sub(denoised).div(t);
    }

    /** v(x_t, t) of the data a denoiser has learnt, for 0 &lt; t &lt; 1. */
    public static Tensor velocity(Denoiser model, Tensor xt, double t) {
        if (!(t > 0 && t < 1)) {
            throw new DiffusionException("flow time t must lie strictly between 0 and 1, got " + t);
        }
        double sigma = sigma(t);
        Tensor denoised = model.denoise(xt.mul(1 + sigma), Tensor.full(xt.dtype(), sigma, 1));
        return velocity(xt, denoised, t);
    }

    /**
     * A velocity model seen as a Denoiser on t ∈ [tMin, tMax], i.e. σ ∈ [tMin/(1 − tMin), tMax/(1 − tMax)]:
     * D(x; σ) = x_t − t·v(x_t, t) with x_t = x/(1 + σ), t = σ/(1 + σ).
     */
    public static Denoiser denoiser(VelocityModel model, double tMin, double tMax) {
        if (!(tMin > 0 && tMax > tMin && tMax < 1)) {
            throw new DiffusionException("a velocity model's time range needs 0 < t_min < t_max < 1 (t = 1 is pure noise, "
                    + "σ = ∞), got " + tMin + " .. " + tMax);
        }
        double sigmaMin = sigma(tMin);
        double sigmaMax = sigma(tMax);
        return new Denoiser() {
            @Override
            public Tensor denoise(Tensor x, Tensor sigma) {
                Tensor s = sigma.to(x.dtype());
                Tensor t = s.div(s.add(1.0));
                Tensor xt = x.div(s.add(1.0).broadcastTo(x));
                return xt.sub(t.broadcastTo(x).mul(model.velocity(xt, t)));
            }

            @Override
            public double[] trainingSigmas() {
                return new double[0];
            }

            @Override
            public double sigmaMin() {
                return sigmaMin;
            }

            @Override
            public double sigmaMax() {
                return sigmaMax;
            }
        };
    }
}
