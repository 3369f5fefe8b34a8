package dev.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.*;

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

/**
 * Every registered sampler, at its default step count, on the exact denoiser of 8gaussians (no
 * training noise): the squared energy distance of 2,000 samples to fresh data is within 3× of
 * the expected distance between two independent data sets of the same size.
 */
class OracleQualityTest {
    @Test
    void everySamplerReachesTheQualityBarOnTheExactDenoiser() {
        MixtureDenoiser oracle = Oracles.open("8gaussians").withSchedule(NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
        StringBuilder report = new StringBuilder();
        for (String name : Samplers.names()) {
            try (Scope s = Scope.open()) {
                Tensor noise = Tensor.randn(new Generator(11), 2000, 2);
                Tensor samples = Samplers.create(name, SamplerOptions.DEFAULTS).sample(oracle, noise, new Generator(12));
                SampleQuality.Report r = SampleQuality.evaluate(samples, DataSources.open("8gaussians"), 3, 0);
                report.append(String.format(Locale.ROOT, "%s %.2f; ", name, r.energyRatio()));
                assertTrue(r.energyRatio() <= 3.0, name + ": energy distance " + r.energyRatio() + "× the floor");
            }
        }
        System.out.println("energy-distance ratios on the 8gaussians oracle: " + report);
    }
}
