package dev.diffusion4j.sampling;

import dev.diffusion4j.schedule.GridSpec;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The single-step DPM-Solvers of Lu et al. 2022 ({@link DpmSolver}), DPM-Solver-fast and the
 * adaptive DPM-Solver, against the exact probability flow of Gaussian data N(μ, s²).
 */
class DpmSolverSamplersTest {
    private static final double MU = 0.5;
    private static final double SD = 0.8;
    private static final double SIGMA_MIN = 0.002;
    private static final double SIGMA_MAX = 80;
    private static final double[] START = {-2.1, -1.3, -0.4, 0.2, 0.9, 1.7, 2.4, 3.0};

    private static GaussianDenoiser edm() {
        return new GaussianDenoiser(MU, SD, SIGMA_MIN, SIGMA_MAX);
    }

    /** Max |x − exact| at the grid's last level, in float64. */
    private static double odeError(SigmaSampler sampler, double[] grid) {
        GaussianDenoiser d = edm();
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.of(START, START.length, 1);
            Tensor out = sampler.sample(d, noise, grid, new Generator(1), SamplingListener.NONE);
            Tensor exact = d.flow(noise.mul(Math.sqrt(1 + grid[0] * grid[0])), grid[0], grid[grid.length - 1]);
            return out.sub(exact).abs().amax().item();
        }
    }

    /** Every step DPM-Solver-{@code order}. */
    private static SigmaSampler fixedOrder(int order) {
        return new SigmaSampler(SamplerOptions.DEFAULTS) {
            @Override
            public String name() {
                return "dpm_solver_" + order;
            }

            @Override
            protected Tensor step(Step s) {
                DpmSolver.Eps eps = (y, sigma) -> SigmaSampler.derivative(y, s.denoise(y, sigma), sigma);
                return DpmSolver.step(order, eps, s.x(), SigmaSampler.derivative(s.x(), s.denoised(), s.sigma()), s.sigma(), s.sigmaNext());
            }
        };
    }

    /**
     * DPM-Solver-k has global order k in λ = −log σ (Lu et al. 2022, Thm. 3.2). Steps uniform in λ from
     * σ_max = 80 to σ_min = 0.002; measured fitted slopes over 16–128 steps: 0.97, 2.04, 3.20.
     */
    @Test
    void dpmSolverStepsHaveTheirOrder() {
        for (int k = 1; k <= 3; k++) {
            SigmaSampler sampler = fixedOrder(k);
            double slope = Orders.of(new int[] {16, 32, 64, 128}, n -> odeError(sampler, SigmaSchedule.exponential(n + 1, SIGMA_MIN, SIGMA_MAX)));
            assertEquals(k, slope, 0.3, "DPM-Solver-" + k);
        }
    }

    /**
     * DPM-Solver-fast spends 3K − 1 evaluations of its budget N (plus the final x̂₀) in
     * K = ⌊(N + 1)/3⌋ steps uniform in λ: all of the budget when N mod 3 = 2, one or two short
     * otherwise; and its error falls at third order (measured slope 3.25 for K = 16, 32, 64).
     */
    @Test
    void dpmFastSpendsItsBudgetAtThirdOrder() {
        for (int budget : new int[] {18, 19, 20}) {
            GaussianDenoiser d = edm();
            try (Scope s = Scope.open()) {
                Samplers.run(Samplers.create("dpm_fast", SamplerOptions.DEFAULTS), d, Tensor.randn(new Generator(1), 16, 1),
                        GridSpec.steps(budget), new Generator(2));
            }
            int k = (budget + 1) / 3;
            assertEquals(3 * k - 1 + 1, d.calls.size(), "evaluations at budget " + budget);
            assertTrue(d.calls.size() - 1 <= budget, "never more than the budget");
            double[] levels = SigmaSchedule.exponential(k + 1, SIGMA_MIN, SIGMA_MAX);
            // levels pass through float32 tensors here
            assertEquals(levels[0], d.calls.get(0), 1e-6 * levels[0]);
            assertEquals(levels[1], d.calls.get(3), 1e-6 * levels[1], "the first step is third order: 3 evaluations");
            assertEquals(levels[k - 1], d.calls.get(3 * (k - 1)), 1e-6 * levels[k - 1], "the last step is second order: 2 evaluations");
            assertEquals(SIGMA_MIN, d.calls.get(d.calls.size() - 1), 1e-6 * SIGMA_MIN, "final x̂₀ at σ_min");
        }
        assertThrows(DiffusionException.class, () -> Samplers.create("dpm_fast", SamplerOptions.DEFAULTS)
                .sigmas(edm(), GridSpec.steps(1)), "a budget of 1 pays for no step");
        double slope = Orders.of(new int[] {16, 32, 64}, k -> {
            SigmaSampler sampler = (SigmaSampler) Samplers.create("dpm_fast", SamplerOptions.DEFAULTS);
            return odeError(sampler, SigmaSchedule.exponential(k + 1, SIGMA_MIN, SIGMA_MAX));
        });
        assertEquals(3.0, slope, 0.4, "dpm_fast order");
    }

    /** The error of dpm_adaptive's result, x̂₀ at σ_min, against the exact flow, and the evaluations it made. */
    private static double[] adaptiveRun(int order, double rtol) {
        GaussianDenoiser d = edm();
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.randn(new Generator(3), 256, 1).to(DType.FLOAT64);
            Tensor out = Samplers.run(Samplers.create("dpm_adaptive", SamplerOptions.DEFAULTS.withOrder(order).withRtol(rtol).withAtol(rtol * 0.156)), d, noise, GridSpec.DEFAULT, new Generator(1));
            int evaluations = d.calls.size();
            Tensor atMin = d.flow(noise.mul(d.initNoiseScale()), SIGMA_MAX, SIGMA_MIN);
            Tensor exact = d.denoise(atMin, Tensor.full(DType.FLOAT64, SIGMA_MIN, 1));
            return new double[] {out.sub(exact).abs().amax().item(), evaluations};
        }
    }

    /**
     * Error control: tightening rtol (atol in the paper's ratio 0.0078/0.05) must shrink the error
     * and cost more evaluations, and the error must stay within a small multiple of the tolerance.
     * Measured, DPM-Solver-23: rtol 1e-2, 1e-3, 1e-4 give max errors 7.5e-3, 5.4e-4, 7.4e-5 with 39,
     * 77, 133 evaluations; DPM-Solver-12 needs 72, 122, 312 for 1.2e-2, 2.0e-3, 2.8e-4.
     */
    @Test
    void dpmAdaptiveErrorFollowsTheToleranceAndTheWorkAdapts() {
        for (int order : new int[] {2, 3}) {
            double previousError = Double.MAX_VALUE;
            double previousEvaluations = 0;
            for (double rtol : new double[] {1e-2, 1e-3, 1e-4}) {
                double[] run = adaptiveRun(order, rtol);
                assertTrue(run[0] < previousError, "order " + order + ", rtol " + rtol + ": error " + run[0] + " must shrink");
                assertTrue(run[1] > previousEvaluations, "order " + order + ", rtol " + rtol + ": more evaluations than " + previousEvaluations);
                assertTrue(run[0] < 5 * rtol, "order " + order + ", rtol " + rtol + ": error " + run[0]);
                previousError = run[0];
                previousEvaluations = run[1];
            }
        }
        // the higher-order pair needs fewer evaluations for the same tolerance
        assertTrue(adaptiveRun(3, 1e-4)[1] < adaptiveRun(2, 1e-4)[1]);
    }

    @Test
    void badOptionsAreRejectedWithAClearMessage() {
        Sampler adaptive = Samplers.create("dpm_adaptive", SamplerOptions.DEFAULTS);
        DiffusionException steps = assertThrows(DiffusionException.class, () -> adaptive.sigmas(edm(), GridSpec.steps(10)));
        assertTrue(steps.getMessage().contains("rtol/atol"), steps.getMessage());
        DiffusionException schedule = assertThrows(DiffusionException.class,
                () -> adaptive.sigmas(edm(), GridSpec.DEFAULT.withSchedule(SigmaSchedule.KARRAS)));
        assertTrue(schedule.getMessage().contains("karras"), schedule.getMessage());
        DiffusionException order = assertThrows(DiffusionException.class,
                () -> Samplers.create("dpm_adaptive", SamplerOptions.DEFAULTS.withOrder(4)));
        assertTrue(order.getMessage().contains("order 4"), order.getMessage());
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withRtol(1.5));
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withAtol(-1));
    }
}
