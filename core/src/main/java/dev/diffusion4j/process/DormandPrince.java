package dev.diffusion4j.process;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;

/**
 * Adaptive explicit Runge–Kutta 5(4) of Dormand &amp; Prince (1980), "DOPRI5": a fifth-order
 * solution with an embedded fourth-order one for the error estimate, first-same-as-last (six
 * evaluations per accepted step), and the step-size control of Hairer, Nørsett &amp; Wanner,
 * "Solving ODEs I", II.4: err = RMS(e / (atol + rtol·max(|y₀|, |y₁|))), accept when err ≤ 1,
 * h ← h·min(5, max(0.2, 0.9·err^(−1/5))).
 *
 * <p>The state is one tensor; the whole batch shares the step size (the error is pooled), which
 * keeps a batch deterministic and independent of how it is split only when it is not split.
 */
public final class DormandPrince {
    /** The right-hand side dy/dt = f(t, y). */
    @FunctionalInterface
    public interface Field {
        Tensor apply(double t, Tensor y);
    }

    /**
     * Called after each accepted step with the new time, the next step size, the state and f at
     * that state (free: the first evaluation of the next step). Tensors are valid during the call only.
     */
    @FunctionalInterface
    public interface StepObserver {
        StepObserver NONE = (step, t, nextH, y, dy) -> { };

        void accepted(int step, double t, double nextH, Tensor y, Tensor dy);
    }

    /** The state at the end and how much work it took. */
    public record Result(Tensor y, int evaluations, int accepted, int rejected) {
    }

    // Butcher tableau (Dormand & Prince 1980, Table 2).
    private static final double C2 = 1.0 / 5, C3 = 3.0 / 10, C4 = 4.0 / 5, C5 = 8.0 / 9;
    private static final double A21 = 1.0 / 5;
    private static final double A31 = 3.0 / 40, A32 = 9.0 / 40;
    private static final double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9;
    private static final double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561, A54 = -212.0 / 729;
    private static final double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247, A64 = 49.0 / 176, A65 = -5103.0 / 18656;
    // fifth-order weights (also row 7 of the tableau: first same as last)
    private static final double B1 = 35.0 / 384, B3 = 500.0 / 1113, B4 = 125.0 / 192, B5 = -2187.0 / 6784, B6 = 11.0 / 84;
    // fifth minus fourth order weights: the error estimate
    private static final double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920, E5 = -17253.0 / 339200, E6 = 22.0 / 525,
            E7 = -1.0 / 40;

    private final double rtol;
    private final double atol;
    private final int maxEvaluations;

    public DormandPrince(double rtol, double atol, int maxEvaluations) {
        if (!(rtol > 0) || !(atol > 0)) {
            throw new DiffusionException("ODE tolerances must be positive, got rtol " + rtol + " and atol " + atol);
        }
        if (maxEvaluations < 7) {
            throw new DiffusionException("an adaptive RK45 solve needs at least 7 evaluations, got a budget of " + maxEvaluations);
        }
        this.rtol = rtol;
        this.atol = atol;
        this.maxEvaluations = maxEvaluations;
    }

    public double rtol() {
        return rtol;
    }

    public double atol() {
        return atol;
    }

    /** Integrates from (t0, y0) to t1 (either direction). */
    public Result solve(Field f, double t0, Tensor y0, double t1, StepObserver observer) {
        double direction = Math.signum(t1 - t0);
        if (direction == 0) {
            return new Result(y0.clone(), 0, 0, 0);
        }
        try (Scope outer = Scope.open()) {
            Tensor y = y0;
            Tensor k1 = f.apply(t0, y);
            int evaluations = 1;
            double h = direction * initialStep(f, t0, y, k1, Math.abs(t1 - t0), direction);
            evaluations++;
            double t = t0;
            int accepted = 0;
            int rejected = 0;
            while (direction * (t1 - t) > 0) {
                if (evaluations + 6 > maxEvaluations) {
                    throw new DiffusionException(String.format(Locale.ROOT,
                            "the adaptive ODE solver used its budget of %d evaluations and reached t = %.4g of %.4g; "
                                    + "loosen rtol/atol (now %.1e/%.1e) or raise the budget", maxEvaluations, t, t1, rtol, atol));
                }
                if (direction * (t + h - t1) > 0) {
                    h = t1 - t;
                }
                try (Scope s = Scope.open()) {
                    Tensor k2 = f.apply(t + C2 * h, y.add(k1.mul(A21 * h)));
                    Tensor k3 = f.apply(t + C3 * h, y.add(k1.mul(A31 * h)).add(k2.mul(A32 * h)));
                    Tensor k4 = f.apply(t + C4 * h, y.add(k1.mul(A41 * h)).add(k2.mul(A42 * h)).add(k3.mul(A43 * h)));
                    Tensor k5 = f.apply(t + C5 * h, y.add(k1.mul(A51 * h)).add(k2.mul(A52 * h)).add(k3.mul(A53 * h)).add(k4.mul(A54 * h)));
                    Tensor k6 = f.apply(t + h, y.add(k1.mul(A61 * h)).add(k2.mul(A62 * h)).add(k3.mul(A63 * h)).add(k4.mul(A64 * h))
                            .add(k5.mul(A65 * h)));
                    Tensor yNext = y.add(k1.mul(B1 * h)).add(k3.mul(B3 * h)).add(k4.mul(B4 * h)).add(k5.mul(B5 * h)).add(k6.mul(B6 * h));
                    Tensor k7 = f.apply(t + h, yNext);
                    evaluations += 6;
                    Tensor error = k1.mul(E1 * h).add(k3.mul(E3 * h)).add(k4.mul(E4 * h)).add(k5.mul(E5 * h)).add(k6.mul(E6 * h))
                            .add(k7.mul(E7 * h));
                    double err = errorNorm(error, y, yNext);
                    if (!Double.isFinite(err)) {
                        throw new DiffusionException("the ODE solution became non-finite at t = " + t + "; the model returned NaN or Inf");
                    }
                    if (err <= 1) {
                        t += h;
                        accepted++;
                        y = s.keep(yNext);
                        k1 = s.keep(k7);
                    } else {
                        rejected++;
                    }
                    h *= Math.min(5, Math.max(0.2, 0.9 * Math.pow(Math.max(err, 1e-10), -0.2)));
                    if (err <= 1) {
                        observer.accepted(accepted, t, h, y, k1);
                    }
                }
            }
            return new Result(outer.keep(y), evaluations, accepted, rejected);
        }
    }

    private double errorNorm(Tensor error, Tensor y, Tensor yNext) {
        Tensor scale = y.abs().maximum(yNext.abs()).mul(rtol).add(atol);
        return Math.sqrt(error.div(scale).square().mean().item());
    }

    /** Hairer, Nørsett &amp; Wanner II.4 "starting step size": one extra evaluation. */
    private double initialStep(Field f, double t0, Tensor y0, Tensor f0, double span, double direction) {
        try (Scope s = Scope.open()) {
            Tensor scale = y0.abs().mul(rtol).add(atol);
            double d0 = Math.sqrt(y0.div(scale).square().mean().item());
            double d1 = Math.sqrt(f0.div(scale).square().mean().item());
            double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
            h0 = Math.min(h0, span);
            Tensor f1 = f.apply(t0 + direction * h0, y0.add(f0.mul(direction * h0)));
            double d2 = Math.sqrt(f1.sub(f0).div(scale).square().mean().item()) / h0;
            double h1 = Math.max(d1, d2) <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / Math.max(d1, d2), 1.0 / 5);
            return Math.min(Math.min(100 * h0, h1), span);
        }
    }
}
