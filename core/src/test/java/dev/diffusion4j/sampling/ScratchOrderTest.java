package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class ScratchOrderTest {
    static final double MU = 0.5, SD = 0.8, LO = 0.002, HI = 80;

    static double err(SigmaSampler sm, double[] grid) {
        GaussianDenoiser d = new GaussianDenoiser(MU, SD, LO, HI);
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.of(new double[] {-2.1, -1.3, -0.4, 0.2, 0.9, 1.7, 2.4, 3.0}, 8, 1);
            Tensor out = sm.sample(d, noise, grid, new Generator(1), SamplingListener.NONE);
            Tensor exact = d.flow(noise.mul(Math.sqrt(1 + grid[0] * grid[0])), grid[0], grid[grid.length - 1]);
            return out.sub(exact).abs().amax().item();
        }
    }

    static double mixErr(SigmaSampler sm, double[] grid) {
        dev.diffusion4j.model.MixtureDenoiser d = dev.diffusion4j.model.MixtureDenoiser.diagonal(new double[][] {{-1}, {1.5}}, new double[][] {{0.09}, {0.25}}, new double[] {0.4, 0.6}).withSigmaRange(LO, HI);
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.of(new double[] {-2.1, -1.3, -0.4, 0.2, 0.9, 1.7, 2.4, 3.0}, 8, 1);
            Tensor x0 = noise.mul(Math.sqrt(1 + grid[0] * grid[0]));
            Tensor out = sm.sample(d, noise, grid, new Generator(1), SamplingListener.NONE);
            Tensor exact = new DormandPrince(1e-11, 1e-11, 1_000_000).solve(ProbabilityFlowSampler.field(d), Math.log(grid[0]), x0, Math.log(grid[grid.length - 1]), DormandPrince.StepObserver.NONE).y();
            return out.sub(exact).abs().amax().item();
        }
    }

    @Test
    void mixture() {
        int[] ns = {16, 32, 64, 128, 256};
        for (String name : new String[] {"flow_euler", "flow_midpoint", "flow_heun", "flow_rk4"}) {
            StringBuilder sb = new StringBuilder(name);
            SigmaSampler sm = (SigmaSampler) Samplers.create(name, SamplerOptions.DEFAULTS);
            double prev = 0;
            for (int n : ns) {
                double[] g = Arrays.copyOf(FlowSampler.uniformTime(LO, HI, n + 1), n + 1);
                double e = mixErr(sm, g);
                sb.append(String.format(Locale.ROOT, " n=%d e=%.3e slope=%.2f;", n, e, prev == 0 ? 0 : Math.log(prev / e) / Math.log(2)));
                prev = e;
            }
            System.out.println("MIX " + sb);
        }
        for (Sde sde : Sde.values()) {
            StringBuilder sb = new StringBuilder("sde_euler eta0 " + sde);
            SigmaSampler sm = (SigmaSampler) Samplers.create("sde_euler", SamplerOptions.DEFAULTS.withEta(0).withSde(sde));
            double prev = 0;
            for (int n : ns) {
                double[] g = Arrays.copyOf(new Sde.Process(sde, LO, HI).grid(n + 1), n + 1);
                double e = mixErr(sm, g);
                sb.append(String.format(Locale.ROOT, " n=%d e=%.3e slope=%.2f;", n, e, prev == 0 ? 0 : Math.log(prev / e) / Math.log(2)));
                prev = e;
            }
            System.out.println("MIX " + sb);
        }
        for (int rem = 0; rem < 3; rem++) {
            StringBuilder sb = new StringBuilder("dpm_fast rem " + rem);
            double prev = 0;
            int prevK = 0;
            for (int k : new int[] {8, 16, 32, 64}) {
                int budget = 3 * (k - 1) + rem;
                SigmaSampler sm = (SigmaSampler) Samplers.create("dpm_fast", SamplerOptions.DEFAULTS.withSteps(budget));
                double[] g = SigmaSchedule.exponential(k + 1, LO, HI);
                double e = mixErr(sm, g);
                double eg = err(sm, g);
                sb.append(String.format(Locale.ROOT, " K=%d e=%.3e (gauss %.3e) slope=%.2f;", k, e, eg, prev == 0 ? 0 : Math.log(prev / e) / Math.log(2)));
                prev = e;
            }
            System.out.println("MIX " + sb);
        }
    }

    @Test
    void adaptive() {
        for (int order : new int[] {2, 3}) {
            for (double tol : new double[] {0.05, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6}) {
                GaussianDenoiser d = new GaussianDenoiser(MU, SD, LO, HI);
                try (Scope s = Scope.open()) {
                    Tensor noise = Tensor.randn(new Generator(3), 256, 1).to(dev.diffusion4j.tensor.DType.FLOAT64);
                    int[] steps = {0};
                    Tensor out = Samplers.create("dpm_adaptive", SamplerOptions.DEFAULTS.withOrder(order).withRtol(tol).withAtol(tol * 0.156))
                        .sample(d, noise, new Generator(1), new SamplingListener() { public void onStep(SamplingStep st) { steps[0]++; } });
                    Tensor x1 = d.flow(noise.mul(d.initNoiseScale()), HI, LO);
                    Tensor exact = d.denoise(x1, Tensor.full(LO, 1));
                    double e = out.sub(exact).abs().amax().item();
                    System.out.printf(Locale.ROOT, "ADAPT order %d tol %.0e: err %.3e nfe %d steps %d%n", order, tol, e, d.calls.size(), steps[0]);
                }
            }
        }
    }

    @Test
    void orders() {
        int[] ns = {16, 32, 64, 128, 256};
        for (String name : new String[] {"flow_euler", "flow_midpoint", "flow_heun", "flow_rk4"}) {
            StringBuilder sb = new StringBuilder(name);
            SigmaSampler sm = (SigmaSampler) Samplers.create(name, SamplerOptions.DEFAULTS);
            double prev = 0;
            for (int n : ns) {
                double[] g = Arrays.copyOf(FlowSampler.uniformTime(LO, HI, n + 1), n + 1);
                double e = err(sm, g);
                sb.append(String.format(Locale.ROOT, " n=%d e=%.3e slope=%.2f;", n, e, prev == 0 ? 0 : Math.log(prev / e) / Math.log(2)));
                prev = e;
            }
            System.out.println("ORDER " + sb);
        }
        for (Sde sde : Sde.values()) {
            StringBuilder sb = new StringBuilder("sde_euler eta0 " + sde);
            SigmaSampler sm = (SigmaSampler) Samplers.create("sde_euler", SamplerOptions.DEFAULTS.withEta(0).withSde(sde));
            double prev = 0;
            for (int n : ns) {
                double[] g = Arrays.copyOf(new Sde.Process(sde, LO, HI).grid(n + 1), n + 1);
                double e = err(sm, g);
                sb.append(String.format(Locale.ROOT, " n=%d e=%.3e slope=%.2f;", n, e, prev == 0 ? 0 : Math.log(prev / e) / Math.log(2)));
                prev = e;
            }
            System.out.println("ORDER " + sb);
        }
        for (int k = 1; k <= 3; k++) {
            final int order = k;
            SigmaSampler sm = new SigmaSampler(SamplerOptions.DEFAULTS) {
                public String name() { return "dpm" + order; }
                protected Tensor step(Step s) {
                    DpmSolver.Eps eps = (y, sigma) -> DpmSolver.eps(y, s.denoise(y, sigma), sigma);
                    return DpmSolver.step(order, eps, s.x(), DpmSolver.eps(s.x(), s.denoised(), s.sigma()), s.sigma(), s.sigmaNext());
                }
            };
            StringBuilder sb = new StringBuilder("dpm-solver-" + k);
            double prev = 0;
            for (int n : new int[] {8, 16, 32, 64, 128}) {
                double[] g = SigmaSchedule.exponential(n + 1, LO, HI);
                double e = err(sm, g);
                sb.append(String.format(Locale.ROOT, " n=%d e=%.3e slope=%.2f;", n, e, prev == 0 ? 0 : Math.log(prev / e) / Math.log(2)));
                prev = e;
            }
            System.out.println("ORDER " + sb);
        }
    }
}
