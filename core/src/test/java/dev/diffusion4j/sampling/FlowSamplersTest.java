package dev.diffusion4j.sampling;

import dev.diffusion4j.schedule.GridSpec;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.LinearFlow;
import dev.diffusion4j.oracle.MixtureDenoiser;
import dev.diffusion4j.process.DormandPrince;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The flow-matching samplers and {@link LinearFlow}, the view of a denoiser as the velocity field of
 * the linear path x_t = (1 − t)·x₀ + t·n.
 */
class FlowSamplersTest {
    private static final double SIGMA_MIN = 0.002;
    private static final double SIGMA_MAX = 80;
    private static final double[] START = {-2.1, -1.3, -0.4, 0.2, 0.9, 1.7, 2.4, 3.0};

    /** Two unequal 1-D components: curved trajectories, unlike Gaussian data's, on which midpoint happens to be third order. */
    private static MixtureDenoiser mixture() {
        return MixtureDenoiser.diagonal(new double[][] {{-1}, {1.5}}, new double[][] {{0.09}, {0.25}}, new double[] {0.4, 0.6})
                .withSigmaRange(SIGMA_MIN, SIGMA_MAX);
    }

    private static SigmaSampler create(String name) {
        return (SigmaSampler) Samplers.create(name, SamplerOptions.DEFAULTS);
    }

    /** Max |x − reference| at σ_min after {@code steps} steps uniform in t (no final 0), in float64. */
    private static double error(SigmaSampler sampler, Denoiser model, Tensor reference, int steps) {
        double[] grid = Arrays.copyOf(SigmaSchedule.uniformIn(LinearFlow.CLOCK, steps + 1, SIGMA_MIN, SIGMA_MAX), steps + 1);
        try (Scope s = Scope.open()) {
            Tensor out = sampler.sample(model, Tensor.of(START, START.length, 1), grid, new Generator(1), SamplingListener.NONE);
            return out.sub(reference).abs().amax().item();
        }
    }

    /**
     * Each method converges at its order to the probability-flow solution from σ_max to σ_min (the
     * flow ODE has the same trajectories), computed by RK45 at 1e-11. Measured fitted slopes over
     * 16–128 steps: euler 0.98, midpoint 1.91, heun 1.93, rk4 4.03 (rk4 reaches the reference's own
     * accuracy, ~2e-9, at 256 steps, so the range stops at 128).
     */
    @Test
    void flowSamplersShowTheirOrderAgainstAnRk45Reference() {
        MixtureDenoiser model = mixture();
        Map<String, Double> expected = new LinkedHashMap<>();
        expected.put("flow_euler", 1.0);
        expected.put("flow_midpoint", 2.0);
        expected.put("flow_heun", 2.0);
        expected.put("flow_rk4", 4.0);
        try (Scope s = Scope.open()) {
            Tensor x0 = Tensor.of(START, START.length, 1).mul(model.initNoiseScale(SIGMA_MAX));
            Tensor reference = s.keep(new DormandPrince(1e-11, 1e-11, 1_000_000).solve(ProbabilityFlowSampler.field(model), Math.log(SIGMA_MAX), x0,
                    Math.log(SIGMA_MIN), DormandPrince.StepObserver.NONE).y());
            for (var e : expected.entrySet()) {
                SigmaSampler sampler = create(e.getKey());
                double slope = Orders.of(new int[] {16, 32, 64, 128}, n -> error(sampler, model, reference, n));
                assertEquals(e.getValue(), slope, 0.3, e.getKey() + " convergence order");
            }
            assertTrue(error(create("flow_rk4"), model, reference, 64) < 1e-6, "rk4 at 64 steps");
        }
    }

    /**
     * On Gaussian data N(μ, s²) the velocity has a closed form: the exact flow x(σ) − μ ∝ √(s² + σ²)
     * in x_t = x/(1 + σ), t = σ/(1 + σ) coordinates, differentiated in t. LinearFlow's velocity must
     * match its central difference, and a velocity model wrapped back into a denoiser must return D.
     */
    @Test
    void linearFlowVelocityIsTheTimeDerivativeOfTheExactFlow() {
        GaussianDenoiser d = new GaussianDenoiser(0.5, 0.8, SIGMA_MIN, SIGMA_MAX);
        LinearFlow.VelocityModel exactVelocity = (xt, t) -> LinearFlow.velocity(d, xt, t.item());
        Denoiser roundTrip = LinearFlow.denoiser(exactVelocity, LinearFlow.time(SIGMA_MIN), LinearFlow.time(SIGMA_MAX));
        assertEquals(SIGMA_MIN, roundTrip.sigmaMin(), 1e-15);
        assertEquals(SIGMA_MAX, roundTrip.sigmaMax(), 1e-9);
        try (Scope s = Scope.open()) {
            for (double t : new double[] {0.05, 0.4, 0.9}) {
                double sigma = LinearFlow.sigma(t);
                Tensor x = Tensor.of(START, START.length, 1).mul(Math.sqrt(1 + sigma * sigma));
                double h = 1e-6;
                Tensor ahead = d.flow(x, sigma, LinearFlow.sigma(t + h)).div(1 + LinearFlow.sigma(t + h));
                Tensor behind = d.flow(x, sigma, LinearFlow.sigma(t - h)).div(1 + LinearFlow.sigma(t - h));
                Tensor numeric = ahead.sub(behind).div(2 * h);
                Tensor xt = x.div(1 + sigma);
                assertTrue(LinearFlow.velocity(d, xt, t).allClose(numeric, 1e-6, 1e-6), "velocity at t = " + t);
                Tensor denoised = d.denoise(x, Tensor.full(DType.FLOAT64, sigma, 1));
                assertTrue(roundTrip.denoise(x, Tensor.full(DType.FLOAT64, sigma, 1)).allClose(denoised, 1e-12, 1e-12), "round trip at t = " + t);
            }
        }
        assertThrows(dev.diffusion4j.DiffusionException.class, () -> LinearFlow.denoiser(exactVelocity, 0, 0.5));
        assertThrows(dev.diffusion4j.DiffusionException.class, () -> LinearFlow.velocity(d, Tensor.zeros(1, 1), 1.0));
    }

    /**
     * At its default 13 steps (4 evaluations each) rk4 lands within 1e-4 of the exact Gaussian flow;
     * the default grid is uniform in t, and an explicit σ schedule is honoured level by level.
     */
    @Test
    void defaultGridIsUniformInTimeAndExplicitSchedulesAreHonoured() {
        GaussianDenoiser d = new GaussianDenoiser(0.5, 0.8, SIGMA_MIN, SIGMA_MAX);
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.of(START, START.length, 1);
            Tensor out = Samplers.run(Samplers.create("flow_rk4", SamplerOptions.DEFAULTS), d, noise, GridSpec.DEFAULT, new Generator(1));
            assertEquals(1 + 12 * 4, d.calls.size(), "13 steps, the last a single evaluation");
            Tensor atMin = d.flow(noise.mul(Math.sqrt(1 + SIGMA_MAX * SIGMA_MAX)), SIGMA_MAX, SIGMA_MIN);
            Tensor exact = d.denoise(atMin, Tensor.full(DType.FLOAT64, SIGMA_MIN, 1));
            assertTrue(out.sub(exact).abs().amax().item() < 1e-4, "rk4 at its default steps");
        }
        double[] uniform = SigmaSchedule.uniformIn(LinearFlow.CLOCK, 13, SIGMA_MIN, SIGMA_MAX);
        for (int i = 0; i < 13; i++) {
            assertEquals(uniform[i], d.calls.get(i == 12 ? 48 : 4 * i), 1e-12 * uniform[i], "level " + i);
        }
        assertEquals(LinearFlow.time(SIGMA_MAX) - LinearFlow.time(uniform[1]), LinearFlow.time(uniform[1]) - LinearFlow.time(uniform[2]), 1e-12);

        GaussianDenoiser karras = new GaussianDenoiser(0.5, 0.8, SIGMA_MIN, SIGMA_MAX);
        try (Scope s = Scope.open()) {
            Samplers.run(Samplers.create("flow_euler", SamplerOptions.DEFAULTS), karras, Tensor.of(START, START.length, 1), GridSpec.DEFAULT.withSteps(6).withSchedule(SigmaSchedule.KARRAS), new Generator(1));
        }
        double[] grid = SigmaSchedule.karras(6, SIGMA_MIN, SIGMA_MAX, SigmaSchedule.KARRAS_RHO);
        assertEquals(6, karras.calls.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(grid[i], karras.calls.get(i), 1e-12 * grid[i], "karras level " + i);
        }
    }
}
