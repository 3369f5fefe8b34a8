package dev.diffusion4j.tensor;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorTest {

    @Test
    void roundTripsJavaArraysAndShapes() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
            assertArrayEquals(new long[] {2, 3}, a.shape());
            assertEquals(DType.FLOAT32, a.dtype());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, a.t().toFloatArray());
            assertEquals(21.0, a.sum().item(), 1e-6);
            assertArrayEquals(new double[] {5, 7, 9}, a.sum(0, false).toDoubleArray(), 1e-9);
            Tensor l = Tensor.of(new long[] {7, -3}, 2);
            assertEquals(DType.INT64, l.dtype());
            assertArrayEquals(new long[] {7, -3}, l.toLongArray());
            assertThrows(DiffusionException.class, () -> Tensor.of(new float[] {1, 2, 3}, 2, 2));
        }
    }

    @Test
    void arithmeticMatchesHandComputedValues() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new double[] {-1, 0, 2}, 3);
            assertArrayEquals(new double[] {2, 1, -1}, x.rsub(1).toDoubleArray(), 0);
            assertArrayEquals(new double[] {1, 0, 4}, x.square().toDoubleArray(), 0);
            assertArrayEquals(new double[] {-1, 0, 1}, x.clamp(-1, 1).toDoubleArray(), 0);
            // silu(x) = x·sigmoid(x)
            double[] silu = x.silu().toDoubleArray();
            assertEquals(-1 / (1 + Math.E), silu[0], 1e-12);
            assertEquals(2 / (1 + Math.exp(-2)), silu[2], 1e-12);
            Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
            Tensor v = Tensor.of(new float[] {1, 1}, 1, 2);
            // linear: v·wᵀ = [1+2, 3+4]
            assertArrayEquals(new float[] {3, 7}, v.linear(w, null).toFloatArray());
            assertArrayEquals(new float[] {4, 8}, v.linear(w, Tensor.of(new float[] {1, 1}, 2)).toFloatArray());
        }
    }

    @Test
    void scopeReleasesTensorsUnlessKept() {
        Tensor inner;
        Tensor kept;
        try (Scope outer = Scope.open()) {
            try (Scope s = Scope.open()) {
                inner = Tensor.ones(4);
                kept = s.keep(Tensor.full(2.0, 3));
            }
            assertTrue(inner.isReleased(), "tensor created in a closed scope must be freed");
            assertFalse(kept.isReleased());
            assertEquals(6.0, kept.sum().item(), 0);
            assertThrows(IllegalStateException.class, inner::sum);
        }
        assertTrue(kept.isReleased(), "kept tensor belongs to the enclosing scope and dies with it");
        Tensor escaped;
        try (Scope s = Scope.open()) {
            escaped = s.keep(Tensor.ones(2));
        }
        assertFalse(escaped.isReleased(), "kept outside any scope: owned by the Java object");
        escaped.close();
        assertTrue(escaped.isReleased());
    }

    @Test
    void closingEarlyInsideAScopeIsSafe() {
        // Long loops free superseded state early; the scope's own release must then be a no-op.
        for (int i = 0; i < 1000; i++) {
            try (Scope outer = Scope.open()) {
                Tensor x = Tensor.ones(16);
                try (Scope s = Scope.open()) {
                    Tensor y = s.keep(x.add(1));
                    x.close();
                    x = y;
                }
                assertEquals(32.0, x.sum().item(), 0);
                x.close();
            }
        }
        Tensor e = Scope.escape(Tensor.ones(3));
        e.close();
        assertTrue(e.isReleased());
    }

    @Test
    void generatorsAreReproducibleAndStateRestores() {
        try (Scope s = Scope.open()) {
            Generator a = new Generator(42);
            Generator b = new Generator(42);
            assertTrue(Tensor.randn(a, 100).equal(Tensor.randn(b, 100)));
            byte[] st = a.state();
            Tensor r1 = Tensor.randn(a, 7);
            a.setState(st);
            Tensor r2 = Tensor.randn(a, 7);
            assertTrue(r1.equal(r2));
            assertFalse(Tensor.randn(new Generator(1), 10).equal(Tensor.randn(new Generator(2), 10)));
            assertThrows(DiffusionException.class, () -> a.setState(new byte[3]));
            // standard normal: mean ≈ 0, std ≈ 1 over 100k draws (5 standard errors)
            Tensor big = Tensor.randn(new Generator(7), 100_000);
            assertEquals(0.0, big.mean().item(), 5 / Math.sqrt(1e5));
            assertEquals(1.0, big.std(0, false).item(), 0.01);
        }
    }

    @Test
    void gradientsAndAdamWStepAndStateRoundTrip(@TempDir Path dir) throws Exception {
        Tensor w = Tensor.of(new float[] {1f, -2f}, 2).requiresGrad_(true);
        AdamW opt = new AdamW(List.of(w), 0.1, 0.9, 0.999, 1e-8, 0.0);
        try (Scope s = Scope.open()) {
            Tensor loss = w.square().sum();
            loss.backward();
            assertArrayEquals(new float[] {2f, -4f}, w.grad().toFloatArray(), 0f);
            opt.step();
        }
        // Adam's first step moves each weight by lr·sign(grad) (bias-corrected m/√v = ±1).
        assertArrayEquals(new float[] {0.9f, -1.9f}, w.toFloatArray(), 1e-5f);
        Path f = dir.resolve("opt.pt");
        opt.save(f);
        assertTrue(Files.size(f) > 0);
        // A second optimizer loaded from the archive takes the same next step as the original.
        Tensor w2 = w.detach().clone().requiresGrad_(true);
        AdamW opt2 = new AdamW(List.of(w2), 0.1, 0.9, 0.999, 1e-8, 0.0);
        opt2.load(f);
        for (Object[] pair : new Object[][] {{w, opt}, {w2, opt2}}) {
            Tensor p = (Tensor) pair[0];
            AdamW o = (AdamW) pair[1];
            try (Scope s = Scope.open()) {
                o.zeroGrad();
                p.square().sum().backward();
                o.step();
            }
        }
        assertTrue(w.equal(w2));
        Files.writeString(f, "garbage");
        assertThrows(DiffusionException.class, () -> opt2.load(f));
    }

    /** Several parameters, several steps, weight decay: matches Adam's recurrences computed by hand. */
    @Test
    void adamWMatchesItsRecurrencesAcrossParameters() {
        Tensor a = Tensor.of(new float[] {0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f}, 2, 3).requiresGrad_(true);
        Tensor b = Tensor.of(new float[] {1f, -2f, 3f, -0.5f}, 4).requiresGrad_(true);
        double lr = 0.05;
        double b1 = 0.8;
        double b2 = 0.95;
        double eps = 1e-8;
        double wd = 0.1;
        AdamW opt = new AdamW(List.of(a, b), lr, b1, b2, eps, wd);
        double[] w = new double[10];
        float[] fa = a.toFloatArray();
        float[] fb = b.toFloatArray();
        for (int i = 0; i < 6; i++) {
            w[i] = fa[i];
        }
        for (int i = 0; i < 4; i++) {
            w[6 + i] = fb[i];
        }
        double[] m = new double[10];
        double[] v = new double[10];
        for (int step = 1; step <= 5; step++) {
            try (Scope s = Scope.open()) {
                opt.zeroGrad();
                // loss = Σ a² + Σ b³ / 3: gradients 2a and b²
                a.square().sum().add(b.pow(3).sum().div(3)).backward();
                opt.step();
            }
            for (int i = 0; i < 10; i++) {
                double g = i < 6 ? 2 * w[i] : w[i] * w[i];
                w[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mh = m[i] / (1 - Math.pow(b1, step));
                double vh = v[i] / (1 - Math.pow(b2, step));
                w[i] -= lr * mh / (Math.sqrt(vh) + eps);
            }
        }
        float[] ra = a.toFloatArray();
        float[] rb = b.toFloatArray();
        for (int i = 0; i < 6; i++) {
            assertEquals(w[i], ra[i], 1e-5, "a[" + i + "]");
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(w[6 + i], rb[i], 1e-5, "b[" + i + "]");
        }
    }

    @Test
    void clipGradNormReturnsPreClipNormAndRescales() {
        Tensor w = Tensor.of(new float[] {3f, 4f}, 2).requiresGrad_(true);
        AdamW opt = new AdamW(List.of(w), 0.1, 0.9, 0.999, 1e-8, 0.0);
        try (Scope s = Scope.open()) {
            w.mul(Tensor.of(new float[] {3f, 4f}, 2)).sum().backward();
            assertEquals(5.0, opt.clipGradNorm(1.0), 1e-6);
            assertEquals(1.0, w.grad().norm().item(), 1e-4);
        }
    }

    @Test
    void noGradStopsRecording() {
        Tensor w = Tensor.ones(2).requiresGrad_(true);
        try (Scope s = Scope.open()) {
            assertTrue(NoGrad.isGradEnabled());
            try (NoGrad ng = NoGrad.open()) {
                assertFalse(NoGrad.isGradEnabled());
                assertFalse(w.mul(2).requiresGrad());
            }
            assertTrue(NoGrad.isGradEnabled());
            assertTrue(w.mul(2).requiresGrad());
        }
    }

    @Test
    void autocastRunsMatmulInBfloat16AndRestores() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.ones(4, 4);
            try (Autocast ac = Autocast.open(DType.BFLOAT16)) {
                assertEquals(DType.BFLOAT16, a.matmul(a).dtype());
            }
            assertEquals(DType.FLOAT32, a.matmul(a).dtype());
        }
    }

    @Test
    void dtypeConversionsKeepValues() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {1.5f, -2.25f, 1024f}, 3);
            for (DType d : new DType[] {DType.BFLOAT16, DType.FLOAT16, DType.FLOAT64}) {
                Tensor y = x.to(d);
                assertEquals(d, y.dtype());
                assertArrayEquals(x.toFloatArray(), y.toFloatArray(), 0f);
            }
            byte[] raw = x.toBytes();
            assertEquals(12, raw.length);
            assertTrue(Tensor.fromBytes(raw, DType.FLOAT32, 3).equal(x));
        }
    }
}
