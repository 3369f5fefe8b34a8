package dev.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NormalizerTest {

    @Test
    void fitsHandComputedMeanAndPopulationStd() {
        try (Scope s = Scope.open()) {
            // Column 0: {1, 3} → μ 2, σ 1 (population). Column 1: constant 5 → σ floored.
            Normalizer n = Normalizer.fit(Tensor.of(new float[] {1, 5, 3, 5}, 2, 2));
            assertArrayEquals(new double[] {2, 5}, n.mean(), 1e-12);
            assertArrayEquals(new double[] {1, Normalizer.MIN_STD}, n.std(), 1e-12);
            Tensor z = n.normalize(Tensor.of(new float[] {4, 5, 0, 5}, 2, 2));
            assertEquals(DType.FLOAT32, z.dtype());
            assertArrayEquals(new float[] {2, 0, -2, 0}, z.toFloatArray(), 0);
        }
    }

    @Test
    void standardisesLargeOffsetDataAndInvertsIt() {
        try (Scope s = Scope.open()) {
            // Offset 1e4 with spread 0.5: a float32 E[x²] − E[x]² would lose the variance entirely.
            Tensor x = Tensor.randn(new Generator(1), 10000, 3).mul(Tensor.of(new float[] {0.5f, 2f, 1e-3f}, 3))
                    .add(Tensor.of(new float[] {1e4f, -3f, 0f}, 3));
            Normalizer n = Normalizer.fit(x);
            assertEquals(3, n.dim());
            Tensor z = n.normalize(x);
            Tensor z64 = z.to(DType.FLOAT64);
            double[] mean = z64.mean(0, false).toDoubleArray();
            double[] var = z64.sub(z64.mean(0, true)).square().mean(0, false).toDoubleArray();
            for (int c = 0; c < 3; c++) {
                // float32 rounding of 1e4 + 0.5·ε (ulp ≈ 1e-3) bounds how exact column 0 can be.
                assertEquals(0, mean[c], 1e-4, "mean of column " + c);
                assertEquals(1, var[c], 1e-4, "variance of column " + c);
            }
            assertEquals(0.5, n.std()[0], 0.02);
            assertEquals(1e4, n.mean()[0], 0.05);
            assertTrue(n.denormalize(z).allClose(x, 1e-6, 1e-4));
            // Any leading shape works; the last axis is the data dimension.
            assertArrayEquals(new long[] {5, 2, 3}, n.normalize(Tensor.zeros(5, 2, 3)).shape());
            assertThrows(DiffusionException.class, () -> n.normalize(Tensor.zeros(4, 2)));
        }
    }

    @Test
    void roundTripsThroughAMapOfDoubleLists() {
        try (Scope s = Scope.open()) {
            Normalizer n = Normalizer.fit(Tensor.of(new float[] {1, 10, 2, 30, 4, 20}, 3, 2));
            Map<String, Object> m = n.toMap();
            assertEquals(List.of("mean", "std"), List.copyOf(m.keySet()));
            assertTrue(((List<?>) m.get("mean")).get(0) instanceof Double);
            Normalizer back = Normalizer.fromMap(m);
            assertArrayEquals(n.mean(), back.mean(), 0);
            assertArrayEquals(n.std(), back.std(), 0);
            // JSON readers may hand back integers or other number types.
            Normalizer ints = Normalizer.fromMap(Map.of("mean", List.of(1, 2L), "std", List.of(2.0f, 4)));
            assertArrayEquals(new double[] {1, 2}, ints.mean(), 0);
            assertArrayEquals(new float[] {0, 0}, ints.normalize(Tensor.of(new float[] {1, 2}, 1, 2)).toFloatArray(), 0);
        }
        assertThrows(DiffusionException.class, () -> Normalizer.fromMap(Map.of("mean", List.of(1.0))));
        assertThrows(DiffusionException.class, () -> Normalizer.fromMap(Map.of("mean", List.of(1.0), "std", List.of(1.0, 2.0))));
        assertThrows(DiffusionException.class, () -> Normalizer.fromMap(Map.of("mean", List.of(1.0), "std", List.of(0.0))));
        assertThrows(DiffusionException.class, () -> Normalizer.fromMap(Map.of("mean", List.of("a"), "std", List.of(1.0))));
    }

    @Test
    void identityPassesDataThroughAndFitRejectsBadData() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(new Generator(2), 7, 4);
            Normalizer id = Normalizer.identity(4);
            assertTrue(id.normalize(x).equal(x));
            assertTrue(id.denormalize(x).equal(x));
            assertThrows(DiffusionException.class, () -> Normalizer.fit(Tensor.of(new float[] {1, Float.NaN}, 1, 2)));
            assertThrows(DiffusionException.class, () -> Normalizer.fit(Tensor.zeros(5)));
        }
        assertThrows(DiffusionException.class, () -> Normalizer.identity(0));
    }
}
