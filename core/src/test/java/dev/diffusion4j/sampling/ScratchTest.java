package dev.diffusion4j.sampling;

import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.eval.SampleQuality;
import dev.diffusion4j.model.MixtureDenoiser;
import dev.diffusion4j.model.Oracles;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class ScratchTest {
    static String[] names() {
        String p = System.getProperty("scratch.names", "sde_euler,pc,annealed_langevin,flow_euler,flow_midpoint,flow_heun,flow_rk4,dpm_fast,dpm_adaptive");
        return p.split(",");
    }

    @Test
    void oracle() {
        MixtureDenoiser oracle = Oracles.open("8gaussians").withSchedule(NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
        for (String name : names()) {
            for (String sde : System.getProperty("scratch.sdes", "vp").split(",")) {
            try (Scope s = Scope.open()) {
                long t0 = System.nanoTime();
                Tensor noise = Tensor.randn(new Generator(11), 2000, 2);
                SamplerOptions o = SamplerOptions.DEFAULTS.withSde(Sde.parse(sde));
                int steps = Integer.getInteger("scratch.steps", 0);
                if (steps > 0) o = o.withSteps(steps);
                Tensor samples = Samplers.create(name, o).sample(oracle, noise, new Generator(12));
                SampleQuality.Report r = SampleQuality.evaluate(samples, DataSources.open("8gaussians"), 3, 0);
                System.out.printf(Locale.ROOT, "ORACLE %s %s %.2f  (%.1f s)%n", name, sde, r.energyRatio(), (System.nanoTime() - t0) / 1e9);
            }
            }
        }
    }

    @Test
    void gaussian() {
        double mu = 0.5, sd = 0.8;
        int n = 20000;
        GaussianDenoiser d = new GaussianDenoiser(mu, sd, 0.002, 80);
        for (String name : names()) {
            for (String sde : System.getProperty("scratch.sdes", "vp").split(",")) {
            try (Scope s = Scope.open()) {
                SamplerOptions o = SamplerOptions.DEFAULTS.withSde(Sde.parse(sde));
                int steps = Integer.getInteger("scratch.steps", 0);
                if (steps > 0) o = o.withSteps(steps);
                Tensor out = Samplers.create(name, o).sample(d, Tensor.randn(new Generator(3), n, 1), new Generator(4));
                System.out.printf(Locale.ROOT, "GAUSS %s %s mean %.4f std %.4f (tol %.4f/%.4f)%n", name, sde, out.mean().item(), out.std(0, false).item(), 4*sd/Math.sqrt(n), 4*sd/Math.sqrt(2.0*n));
            }
            }
        }
    }
}
