package dev.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.ToyDatasets;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class SampleQualityTest {
    /** The closed-form floor equals the average energy distance of many independent pairs of samples. */
    @Test
    void expectedEnergyFloorMatchesTheMeanOverIndependentPairs() {
        DataSource d = ToyDatasets.get("moons");
        Generator g = new Generator(5);
        int n = 300;
        int pairs = 200;
        double[] v = new double[pairs];
        try (Scope s = Scope.open()) {
            double floor = SampleMetrics.expectedEnergyFloor(d.sample(g, 20_000), n);
            double mean = 0;
            for (int i = 0; i < pairs; i++) {
                try (Scope p = Scope.open()) {
                    v[i] = SampleMetrics.energyDistance(d.sample(g, n), d.sample(g, n));
                }
                mean += v[i] / pairs;
            }
            double var = 0;
            for (double x : v) {
                var += (x - mean) * (x - mean) / (pairs - 1);
            }
            double se = Math.sqrt(var / pairs);
            assertEquals(mean, floor, 4 * se, "floor " + floor + " vs mean of pairs " + mean + " ± " + se);
            // and it is not simply half or twice the right value
            assertTrue(se < 0.1 * floor, "test has the resolution to see a factor-of-two error");
        }
    }

    @Test
    void trueSamplesScoreNearOneAndShiftedSamplesFarAbove() {
        DataSource d = ToyDatasets.get("8gaussians");
        try (Scope s = Scope.open()) {
            Tensor good = d.sample(new Generator(11), 2000);
            SampleQuality.Report r = SampleQuality.evaluate(good, d, 5, 0);
            assertTrue(r.energyRatio() > 0.3 && r.energyRatio() < 2.5, "true samples: " + r.energyRatio());
            SampleQuality.Report bad = SampleQuality.evaluate(good.add(0.2), d, 5, 0);
            assertTrue(bad.energyRatio() > 5, "a shift of 0.2 is obvious: " + bad.energyRatio());
            assertTrue(bad.mmd() > bad.mmdFloor() && bad.slicedWasserstein() > bad.slicedWassersteinFloor());
        }
    }

    @Test
    void dimensionMismatchIsAClearError() {
        try (Scope s = Scope.open()) {
            DiffusionException e = assertThrows(DiffusionException.class,
                    () -> SampleQuality.evaluate(Tensor.zeros(10, 3), ToyDatasets.get("moons"), 1, 0));
            assertTrue(e.getMessage().contains("2 dimensions"), e.getMessage());
        }
    }
}
