package dev.diffusion4j.sampling;

import dev.diffusion4j.schedule.GridSpec;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The VP-family samplers — PNDM/PLMS, DEIS, DPM-Solver (multistep and singlestep) and UniPC —
 * against the exact denoiser of Gaussian data x₀ ~ N(μ, s²), whose probability-flow ODE has the
 * closed-form solution x(σ) = μ + (x(σ₀) − μ)·√((s² + σ²)/(s² + σ₀²)).
 */
class VpSolversTest {
    private static final double MU = 0.5;
    private static final double SD = 0.8;
    private static final double SIGMA_MIN = 0.002;
    private static final double SIGMA_MAX = 80;
    private static final NoiseSchedule LINEAR = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
    /** Every registered sampler of this family, with the options that select its variants. */
    private static final Map<String, SamplerOptions> SAMPLERS = new LinkedHashMap<>();

    static {
        SAMPLERS.put("pndm", SamplerOptions.DEFAULTS);
        SAMPLERS.put("plms", SamplerOptions.DEFAULTS);
        SAMPLERS.put("deis", SamplerOptions.DEFAULTS);
        SAMPLERS.put("dpm_solver", SamplerOptions.DEFAULTS);
        SAMPLERS.put("dpm_solver_singlestep", SamplerOptions.DEFAULTS);
        SAMPLERS.put("unipc", SamplerOptions.DEFAULTS);
        SAMPLERS.put("unipc bh1", SamplerOptions.DEFAULTS.withVariant("bh1"));
    }

    private static GaussianDenoiser edm() {
        return new GaussianDenoiser(MU, SD, SIGMA_MIN, SIGMA_MAX);
    }

    private static SigmaSampler create(String name, SamplerOptions o) {
        return (SigmaSampler) Samplers.create(name.split(" ")[0], o);
    }

    private static double[] karras(int steps) {
        return SigmaSchedule.karras(steps + 1, SIGMA_MIN, SIGMA_MAX, SigmaSchedule.KARRAS_RHO);
    }

    private static double[] exponential(int steps) {
        return SigmaSchedule.exponential(steps + 1, SIGMA_MIN, SIGMA_MAX);
    }

    /** Max |x − exact| at the grid's last level, in float64 (the grid has no trailing 0). */
    private static double odeError(SigmaSampler sampler, double[] grid) {
        GaussianDenoiser d = edm();
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.of(new double[] {-2.1, -1.3, -0.4, 0.2, 0.9, 1.7, 2.4, 3.0}, 8, 1);
            Tensor out = sampler.sample(d, noise, grid, new Generator(1), SamplingListener.NONE);
            assertEquals(DType.FLOAT64, out.dtype());
            Tensor exact = d.flow(noise.mul(Math.sqrt(1 + grid[0] * grid[0])), grid[0], grid[grid.length - 1]);
            return out.sub(exact).abs().amax().item();
        }
    }

    private static double order(SigmaSampler sampler, IntFunction<double[]> grid, int... steps) {
        return Orders.of(steps, n -> odeError(sampler, grid.apply(n)));
    }

    /**
     * Every sampler and order converges to the exact ODE solution at its theoretical order: the
     * fitted slope of −log(error) against log(steps) on Karras's grid (ρ = 7, σ from 80 to 0.002,
     * no final 0, float64) at 64, 128 and 256 steps. Below ~60 steps the third-order methods are
     * still pre-asymptotic here (dpm_solver order 3: local slopes 1.1, 1.9, 2.6 from 8 to 64 steps).
     * UniPC-p has order p + 1: its corrector re-uses the next step's evaluation.
     *
     * dpm_solver_singlestep order 3 is measured on the log-uniform grid (uniform in λ, as in the
     * DPM-Solver paper) at 32–256 steps instead: on Karras's grid the N⁻³ term of its error is
     * cancelled in part by higher-order terms of the other sign up to a few hundred steps (local
     * slopes 4.3, 5.0, 4.2, 1.6, 2.6, 2.8, 2.9 from 16 to 2048 steps, errors 4e-4 down to 3e-11),
     * which makes any short fit there meaningless; on the log-uniform grid it is 3.1 throughout.
     *
     * Measured fitted slopes: pndm 2.02, plms 2.02; deis order 1/2/3: 0.99/1.96/2.98; dpm_solver
     * 0.99/2.02/2.89; dpm_solver_singlestep 0.99/2.01/3.11 (log-uniform); unipc bh2 order 1/2/3:
     * 1.99/3.02/4.01, bh1 2.05/3.06/4.01.
     */
    @Test
    void deterministicSamplersShowTheirOrder() {
        StringBuilder report = new StringBuilder();
        check(report, "pndm", SamplerOptions.DEFAULTS, 2, order(create("pndm", SamplerOptions.DEFAULTS), VpSolversTest::karras, 64, 128, 256));
        check(report, "plms", SamplerOptions.DEFAULTS, 2, order(create("plms", SamplerOptions.DEFAULTS), VpSolversTest::karras, 64, 128, 256));
        for (int k = 1; k <= 3; k++) {
            SamplerOptions o = SamplerOptions.DEFAULTS.withOrder(k);
            check(report, "deis", o, k, order(create("deis", o), VpSolversTest::karras, 64, 128, 256));
            check(report, "dpm_solver", o, k, order(create("dpm_solver", o), VpSolversTest::karras, 64, 128, 256));
            double single = k < 3 ? order(create("dpm_solver_singlestep", o), VpSolversTest::karras, 64, 128, 256)
                    : order(create("dpm_solver_singlestep", o), VpSolversTest::exponential, 32, 64, 128, 256);
            check(report, "dpm_solver_singlestep", o, k, single);
            for (String variant : new String[] {"bh2", "bh1"}) {
                SamplerOptions v = o.withVariant(variant);
                check(report, "unipc " + variant, v, k + 1, order(create("unipc", v), VpSolversTest::karras, 64, 128, 256));
            }
        }
        System.out.println("fitted convergence orders: " + report);
    }

    private static void check(StringBuilder report, String name, SamplerOptions o, double expected, double slope) {
        String label = name + (o.order() > 0 ? " order " + o.order() : "");
        report.append(String.format(Locale.ROOT, "%s %.2f; ", label, slope));
        assertEquals(expected, slope, 0.3, label + " convergence order");
    }

    /**
     * PNDM and PLMS are built from fourth-order formulas (Runge–Kutta 4 and Adams–Bashforth 4), yet
     * converge at order 2. The reason: in σ coordinates the DDIM transfer is x + (σ′ − σ)·ε′, so
     * PLMS is exactly Adams–Bashforth 4 in σ with the weights (55, −59, 37, −9)/24 of equal steps.
     * On a grid uniform in σ these are the true weights (first check: the update from step 3 on
     * equals x_i + Σ_j c_j·ε̂_{i−j} with the Lagrange weights c_j of the actual levels, as lms computes
     * them); on any other grid they are off by O(h) relative, an O(h³) local error, hence global
     * order 2 (the paper's own grids are uniform in t, not in σ). lms uses the weights of the actual
     * steps and, with a cruder Euler warm-up, reaches order ~3.8 on the same grid where PNDM and
     * PLMS show 2.0, so the warm-up is not what limits them.
     */
    @Test
    void pseudoLinearMultistepIsEqualStepAdamsBashforthInSigma() {
        double[] uniform = new double[13];
        for (int i = 0; i < uniform.length; i++) {
            uniform[i] = 3 - i * 0.2;
        }
        assertEquals(0, plmsMismatch(uniform), 1e-12, "grid uniform in σ: PLMS = Adams–Bashforth 4 with the actual weights");
        assertTrue(plmsMismatch(SigmaSchedule.exponential(13, 0.6, 3)) > 1e-5, "log-uniform grid: the equal-step weights are off");

        SigmaSampler lms = create("lms", SamplerOptions.DEFAULTS);
        assertTrue(order(lms, VpSolversTest::karras, 64, 128, 256) > 3.4, "lms, the variable-step form");
    }

    /** Max over the steps from 3 on of |x_{i+1} − (x_i + Σ_j c_j·ε̂_{i−j})| for plms on {@code grid}. */
    private static double plmsMismatch(double[] grid) {
        List<double[]> states = new ArrayList<>();
        List<double[]> eps = new ArrayList<>();
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.of(new double[] {-1.5, 0.3, 2.2}, 3, 1);
            states.add(noise.mul(Math.sqrt(1 + grid[0] * grid[0])).toDoubleArray());
            create("plms", SamplerOptions.DEFAULTS).sample(edm(), noise, grid, new Generator(1), new SamplingListener() {
                @Override
                public void onStep(SamplingStep step) {
                    Tensor x = Tensor.of(states.get(step.index()), 3, 1);
                    eps.add(SigmaSampler.derivative(x, step.denoised(), grid[step.index()]).toDoubleArray());
                    states.add(step.x().toDoubleArray());
                }
            });
        }
        double worst = 0;
        for (int i = 3; i < grid.length - 1; i++) {
            double[] nodes = {grid[i], grid[i - 1], grid[i - 2], grid[i - 3]};
            for (int c = 0; c < 3; c++) {
                double x = states.get(i)[c];
                for (int j = 0; j < 4; j++) {
                    x += LmsSampler.lagrangeIntegral(nodes, j, grid[i], grid[i + 1]) * eps.get(i - j)[c];
                }
                worst = Math.max(worst, Math.abs(x - states.get(i + 1)[c]));
            }
        }
        return worst;
    }

    /**
     * The published third-order multistep DPM-Solver weights its second divided difference
     * D₂ ≈ h²·ε̂″/2 by h·φ₃(h) instead of 2h·φ₃(h) (the same slip as DPM-Solver++(3M), see
     * {@link KSamplersTest#publishedThirdOrderWeightIsOnlySecondOrder}): with that weight the method
     * is only second order, which is why {@link DpmSolverSampler} uses 2φ₃.
     */
    @Test
    void publishedThirdOrderMultistepWeightIsOnlySecondOrder() {
        SigmaSampler published = new SigmaSampler(SamplerOptions.DEFAULTS) {
            @Override
            public String name() {
                return "dpm_solver_published";
            }

            @Override
            protected int history() {
                return 2;
            }

            @Override
            protected Tensor step(Step s) {
                Tensor eps = derivative(s.x(), s.denoised(), s.sigma());
                s.remember(eps);
                double h = Math.log(s.sigma() / s.sigmaNext());
                double c = s.sigmaNext() * h;
                Tensor x = s.x().sub(eps.mul(c * Phi.phi(1, h)));
                if (s.past(2) != null) {
                    double r0 = Math.log(s.sigma(-1) / s.sigma()) / h;
                    double r1 = Math.log(s.sigma(-2) / s.sigma(-1)) / h;
                    Tensor slope0 = eps.sub(s.past(1)).div(r0);
                    Tensor d2 = slope0.sub(s.past(1).sub(s.past(2)).div(r1)).div(r0 + r1);
                    x = x.sub(slope0.add(d2.mul(r0)).mul(c * Phi.phi(2, h))).sub(d2.mul(c * Phi.phi(3, h)));
                } else if (s.past(1) != null) {
                    x = x.sub(eps.sub(s.past(1)).mul(c * Phi.phi(2, h) * h / Math.log(s.sigma(-1) / s.sigma())));
                }
                return x;
            }
        };
        assertEquals(2.0, order(published, VpSolversTest::karras, 128, 256, 512), 0.25, "published h·φ₃ weight");
        assertEquals(3.0, order(create("dpm_solver", SamplerOptions.DEFAULTS), VpSolversTest::karras, 128, 256, 512), 0.25, "2h·φ₃");
    }

    /** DPM-Solver-2 with r₁ = ½ takes exactly the dpm2 step (the midpoint in log σ). */
    @Test
    void singlestepSecondOrderIsTheDpm2Step() {
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.randn(new Generator(5), 64, 2).to(DType.FLOAT64);
            SamplerOptions o = SamplerOptions.DEFAULTS.withOrder(2);
            GridSpec grid = GridSpec.steps(12).withSchedule(SigmaSchedule.KARRAS);
            Tensor a = Samplers.run(Samplers.create("dpm_solver_singlestep", o), edm(), noise, grid, new Generator(6));
            Tensor b = Samplers.run(Samplers.create("dpm2", o), edm(), noise, grid, new Generator(6));
            assertTrue(a.allClose(b, 1e-12, 1e-12));
        }
    }

    /**
     * On a discrete model's own grid every step lands on a training level, and PNDM's Runge–Kutta
     * midpoints sit halfway in the diffusion time: between timesteps 999 and 899 of the trailing
     * 10-step grid, at the level of timestep 949.
     */
    @Test
    void pndmStepsOnTheTrainingGridWithMidpointsHalfwayInTime() {
        GaussianDenoiser d = new GaussianDenoiser(MU, SD, LINEAR);
        try (Scope s = Scope.open()) {
            Samplers.run(Samplers.create("pndm", SamplerOptions.DEFAULTS), d, Tensor.randn(new Generator(1), 8, 1), GridSpec.steps(10), new Generator(2));
        }
        double[] sig = LINEAR.sigmasForSampling();
        assertEquals(19, d.calls.size(), "3 Runge–Kutta steps of 4 evaluations, then one per step");
        assertEquals(sig[999], d.calls.get(0), 1e-6 * sig[999]);
        assertEquals(sig[949], d.calls.get(1), 1e-3 * sig[949]);
        assertEquals(sig[949], d.calls.get(2), 1e-3 * sig[949]);
        assertEquals(sig[899], d.calls.get(3), 1e-6 * sig[899]);
        assertEquals(sig[99], d.calls.get(18), 1e-6 * sig[99]);
    }

    /**
     * The fitted VP time of the linear-β DDPM schedule: β₀ = 0.090 and β₁ = 20.15 (the continuous
     * limit of β from 10⁻⁴ to 0.02 over 1000 steps is 0.1 to 20), training step n within 10⁻³ of
     * t = (n+1)/T (at most 8.3·10⁻⁴), and σ(t) inverts t(σ).
     */
    @Test
    void vpTimeOfTheLinearScheduleMatchesTheTrainingSteps() {
        VpTime time = VpTime.of(new GaussianDenoiser(MU, SD, LINEAR));
        assertEquals(0.090, time.beta0(), 5e-4);
        assertEquals(20.15, time.beta0() + time.betaD(), 0.01);
        double[] sig = LINEAR.sigmasForSampling();
        for (int n = 0; n < sig.length; n++) {
            assertEquals((n + 1) / 1000.0, time.t(sig[n]), 1e-3, "timestep " + n);
            assertEquals(sig[n], time.sigma(time.t(sig[n])), 1e-9 * sig[n]);
        }
    }

    /** φ_k against the closed forms where those are accurate, and against φ_k(0) = 1/k! near 0 (the series branch). */
    @Test
    void phiFunctionsMatchTheirClosedForms() {
        for (double z : new double[] {-3, -1.0001, -0.9999, -0.3, 0.3, 0.9999, 1.0001, 2}) {
            double phi1 = Math.expm1(z) / z;
            double phi2 = (phi1 - 1) / z;
            double phi3 = (phi2 - 0.5) / z;
            assertEquals(Math.exp(z), Phi.phi(0, z), 1e-15 * Math.exp(z), "φ₀(" + z + ")");
            assertEquals(phi1, Phi.phi(1, z), 1e-14, "φ₁(" + z + ")");
            assertEquals(phi2, Phi.phi(2, z), 1e-14, "φ₂(" + z + ")");
            assertEquals(phi3, Phi.phi(3, z), 1e-13, "φ₃(" + z + ")");
        }
        for (double z : new double[] {-1e-9, 0, 1e-9}) {
            assertEquals(1, Phi.phi(1, z), 1e-8);
            assertEquals(0.5, Phi.phi(2, z), 1e-8);
            assertEquals(1.0 / 6, Phi.phi(3, z), 1e-8);
        }
    }

    /**
     * Each sampler recovers N(μ, s²) from the exact denoiser of the discrete linear-β schedule (its
     * trailing training grid) at 50 steps: with n = 20,000 samples, mean and std within 4 standard
     * errors (0.023 and 0.016). At 50 steps the last level before 0 is training step 19 (σ ≈ 0.08),
     * where returning x̂₀ shrinks the std by only 0.5%.
     */
    @Test
    void samplersRecoverTheGaussianOnTheDiscreteSchedule() {
        int n = 20_000;
        GaussianDenoiser d = new GaussianDenoiser(MU, SD, LINEAR);
        for (var e : SAMPLERS.entrySet()) {
            try (Scope s = Scope.open()) {
                Tensor out = Samplers.run(create(e.getKey(), e.getValue()), d, Tensor.randn(new Generator(3), n, 1), GridSpec.steps(50), new Generator(4));
                assertEquals(MU, out.mean().item(), 4 * SD / Math.sqrt(n), e.getKey() + " mean");
                assertEquals(SD, out.std(0, false).item(), 4 * SD / Math.sqrt(2.0 * n), e.getKey() + " std");
            }
        }
    }

    /**
     * The same noise gives bit-identical samples, whatever the generator (none draws noise); every
     * sampler ends on the x̂₀ it reports; evaluations per run of 8 steps ending at 0: pndm N + 9,
     * plms N + 1 (the improved-Euler warm-up), dpm_solver_singlestep (N − 1)·order + 1, the others N.
     */
    @Test
    void samplesAreReproducibleAndEvaluationsAsDocumented() {
        Map<String, Integer> evaluations = Map.of("pndm", 17, "plms", 9, "dpm_solver_singlestep", 22);
        for (var e : SAMPLERS.entrySet()) {
            GaussianDenoiser d = edm();
            Sampler sampler = create(e.getKey(), e.getValue());
            boolean[] endsOnDenoised = {false};
            try (Scope s = Scope.open()) {
                Tensor noise = Tensor.randn(new Generator(1), 64, 2);
                Tensor a = Samplers.run(sampler, d, noise, GridSpec.steps(8), new Generator(9), new SamplingListener() {
                    @Override
                    public void onStep(SamplingStep step) {
                        endsOnDenoised[0] = step.x().equal(step.denoised());
                    }
                });
                assertEquals(evaluations.getOrDefault(e.getKey(), 8), d.calls.size(), e.getKey() + " evaluations");
                assertTrue(endsOnDenoised[0], e.getKey() + " must end on x̂₀");
                assertTrue(a.equal(Samplers.run(sampler, edm(), noise, GridSpec.steps(8), new Generator(9))), e.getKey() + " must be bit-identical for a seed");
                assertTrue(a.equal(Samplers.run(sampler, edm(), noise, GridSpec.steps(8), new Generator(10))), e.getKey() + " is deterministic");
            }
        }
    }

    @Test
    void badOptionsAreClearErrors() {
        for (String name : new String[] {"deis", "dpm_solver", "dpm_solver_singlestep", "unipc"}) {
            DiffusionException e = assertThrows(DiffusionException.class, () -> Samplers.create(name, SamplerOptions.DEFAULTS.withOrder(4)));
            assertEquals(name + " supports orders 1 to 3, got 4; pass an order between 1 and 3", e.getMessage());
        }
        DiffusionException v = assertThrows(DiffusionException.class, () -> Samplers.create("unipc", SamplerOptions.DEFAULTS.withVariant("bh3")));
        assertEquals("unknown unipc variant 'bh3': use bh1 or bh2", v.getMessage());
        assertEquals("unipc", Samplers.create("unipc", SamplerOptions.DEFAULTS.withVariant(" BH1 ")).name());
        for (int bad : new int[] {-1, 5}) {
            DiffusionException o = assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withOrder(bad));
            assertTrue(o.getMessage().startsWith("sampler order must be between 1 and 4"), o.getMessage());
        }
    }
}
