package dev.diffusion4j.sampling;

import dev.diffusion4j.schedule.GridSpec;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.eval.SampleMetrics;
import dev.diffusion4j.oracle.MixtureDenoiser;
import dev.diffusion4j.oracle.Oracles;
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
 * the expected distance between two independent data sets of the same size. The ratio of one
 * draw of exact samples scatters widely (0.8 to 2.5 over seeds), so each sampler's ratio is the
 * mean over three independent noise draws.
 */
class OracleQualityTest {
    @Test
    void everySamplerReachesTheQualityBarOnTheExactDenoiser() {
        MixtureDenoiser oracle = Oracles.open("8gaussians").withSchedule(NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
        DataSource truth = DataSources.open("8gaussians");
        double floor;
        try (Scope s = Scope.open()) {
            floor = SampleMetrics.expectedEnergyFloor(truth.sample(new Generator(99), 20_000), 2000);
        }
        StringBuilder report = new StringBuilder();
        for (String name : Samplers.names()) {
            double ratio = 0;
            for (int seed = 0; seed < 3; seed++) {
                try (Scope s = Scope.open()) {
                    Tensor noise = Tensor.randn(new Generator(11 + seed), 2000, 2);
                    Tensor samples = Samplers.run(Samplers.create(name, SamplerOptions.DEFAULTS), oracle, noise, GridSpec.DEFAULT, new Generator(21 + seed));
                    ratio += SampleMetrics.energyDistance(samples, truth.sample(new Generator(31 + seed), 2000)) / floor / 3;
                }
            }
            report.append(String.format(Locale.ROOT, "%s %.2f; ", name, ratio));
            assertTrue(ratio <= 3.0, name + ": energy distance " + ratio + "× the floor");
        }
        System.out.println("energy-distance ratios on the 8gaussians oracle: " + report);
    }
}
