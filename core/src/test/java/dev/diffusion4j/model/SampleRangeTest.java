package dev.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.guidance.ClippedDenoiser;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SampleRangeTest {
    @Test
    void rangeIsTheDataBoxWidenedByTheMargin() {
        try (Scope s = Scope.open()) {
            Tensor data = Tensor.of(new float[] {0, 10, 1, 30, 2, 20}, 3, 2);
            SampleRange r = SampleRange.of(data, 0.1);
            assertArrayEquals(new double[] {-0.2, 8}, r.min(), 1e-6);
            assertArrayEquals(new double[] {2.2, 32}, r.max(), 1e-6);
            assertEquals(r, SampleRange.fromMap(r.toMap()));
        }
    }

    @Test
    void clippedDenoiserBoundsEveryEstimatePerDimension() {
        SampleRange r = new SampleRange(new double[] {-1, 0}, new double[] {1, 5});
        Denoiser wild = new Denoiser() {
            @Override
            public Tensor denoise(Tensor x, Tensor sigma) {
                return x.mul(100);
            }

            @Override
            public double[] trainingSigmas() {
                return new double[] {0.1, 1};
            }

            @Override
            public double sigmaMin() {
                return 0.1;
            }

            @Override
            public double sigmaMax() {
                return 1;
            }
        };
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {0.005f, 0.02f, -3, -3, 3, 3}, 3, 2);
            float[] out = new ClippedDenoiser(wild, r).denoise(x, Tensor.full(0.5, 1)).toFloatArray();
            assertArrayEquals(new float[] {0.5f, 2f, -1, 0, 1, 5}, out, 1e-6f);
        }
    }

    @Test
    void malformedRangesAreRejected() {
        assertThrows(DiffusionException.class, () -> new SampleRange(new double[] {1}, new double[] {0}));
        assertThrows(DiffusionException.class, () -> SampleRange.fromMap(Map.of("min", "x")));
    }
}
