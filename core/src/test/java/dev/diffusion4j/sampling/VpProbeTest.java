package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.*;
import org.junit.jupiter.api.Test;

class VpProbeTest {
    static double err(SigmaSampler sampler, int steps) {
        GaussianDenoiser d = new GaussianDenoiser(0.5, 0.8, 0.002, 80);
        double[] grid = SigmaSchedule.karras(steps + 1, 0.002, 80, 7);
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.of(new double[] {-2.1, -1.3, -0.4, 0.2, 0.9, 1.7, 2.4, 3.0}, 8, 1);
            Tensor out = sampler.sample(d, noise, grid, new Generator(1), SamplingListener.NONE);
            Tensor exact = d.flow(noise.mul(Math.sqrt(1 + 80 * 80)), 80, 0.002);
            Tensor diff = out.sub(exact); return diff.abs().amax().item();
        }
    }

    @Test
    void discrete() {
        dev.diffusion4j.schedule.NoiseSchedule lin = dev.diffusion4j.schedule.NoiseSchedule.of(dev.diffusion4j.schedule.BetaSchedule.LINEAR, 1000);
        GaussianDenoiser d = new GaussianDenoiser(0.5, 0.8, lin);
        for (String name : new String[] {"ddim", "dpmpp_2m", "dpmpp_3m_sde", "lms", "pndm", "plms", "deis", "dpm_solver", "dpm_solver_singlestep", "unipc"}) {
            for (int steps : new int[] {10, 20, 50}) {
            try (Scope s = Scope.open()) {
                Tensor noise = Tensor.randn(new Generator(3), 4096, 1).to(DType.FLOAT64);
                Tensor out = Samplers.create(name, SamplerOptions.DEFAULTS.withEta(0).withSteps(steps)).sample(d, noise, new Generator(4));
                double smax = d.sigmaMax;
                Tensor exact = d.flow(noise.mul(Math.sqrt(1 + smax * smax)), smax, 0);
                System.out.printf("%s %d: max err %.3e, std ratio %.5f%n", name, steps, out.sub(exact).abs().amax().item(), out.std(0, false).item() / exact.std(0, false).item());
            }
            }
        }
    }

    @Test
    void probe() {
        String[][] unused = {{"dpm_solver_singlestep", "3"}};
        String[][] cases = {{"pndm", "0"}, {"plms", "0"}, {"deis", "1"}, {"deis", "2"}, {"deis", "3"}, {"dpm_solver", "1"}, {"dpm_solver", "2"}, {"dpm_solver", "3"},
                {"dpm_solver_singlestep", "1"}, {"dpm_solver_singlestep", "2"}, {"dpm_solver_singlestep", "3"}, {"unipc", "1"}, {"unipc", "2"}, {"unipc", "3"}, {"lms", "4"}};
        int[] steps = {64, 128, 256, 512};
        for (String[] c : cases) {
            for (String v : new String[] {"bh2", "bh1"}) {
                if (!c[0].equals("unipc") && v.equals("bh1")) continue;
                SamplerOptions o = SamplerOptions.DEFAULTS.withOrder(Integer.parseInt(c[1])).withVariant(v);
                SigmaSampler sm = (SigmaSampler) Samplers.create(c[0], o);
                StringBuilder sb = new StringBuilder(c[0] + " " + c[1] + " " + v + ":");
                double prev = Double.NaN;
                for (int n : steps) {
                    double e = err(sm, n);
                    sb.append(String.format(" %d:%.2e", n, e));
                    if (!Double.isNaN(prev)) sb.append(String.format("(%.2f)", Math.log(prev / e) / Math.log(2)));
                    prev = e;
                }
                System.out.println(sb);
            }
        }
    }
}
