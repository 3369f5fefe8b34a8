package dev.diffusion4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The convolution, pooling and attention ops against values worked out by hand. */
class ImageOpsTest {

    private static Tensor ramp(long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return Tensor.arange(n).to(DType.FLOAT32).reshape(shape);
    }

    @Test
    void conv2dSumsTheWindow() {
        try (Scope s = Scope.open()) {
            Tensor x = ramp(1, 1, 3, 3);                    // 0..8
            Tensor w = Tensor.ones(1, 1, 2, 2);
            Tensor y = x.conv2d(w, Tensor.of(new float[] {1}, 1), 1, 0, 1);
            assertArrayEquals(new long[] {1, 1, 2, 2}, y.shape());
            // windows: 0+1+3+4, 1+2+4+5, 3+4+6+7, 4+5+7+8, plus bias 1
            assertArrayEquals(new float[] {9, 13, 21, 25}, y.toFloatArray());
            Tensor strided = ramp(1, 1, 4, 4).conv2d(Tensor.ones(1, 1, 3, 3), null, 2, 1, 1);
            assertArrayEquals(new long[] {1, 1, 2, 2}, strided.shape());
            assertEquals(0 + 1 + 4 + 5, strided.toFloatArray()[0], 0);
        }
    }

    @Test
    void depthwiseConvKeepsChannelsApart() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.cat(java.util.List.of(Tensor.ones(1, 1, 2, 2), Tensor.full(2, 1, 1, 2, 2)), 1);
            Tensor y = x.conv2d(Tensor.ones(2, 1, 1, 1), null, 1, 0, 2);
            assertArrayEquals(new float[] {1, 1, 1, 1, 2, 2, 2, 2}, y.toFloatArray());
        }
    }

    @Test
    void transposedConvIsTheAdjointOfConv() {
        // <conv(x), y> = <x, convT(y)> for the same weight: the defining property.
        try (Scope s = Scope.open()) {
            Generator g = Generator.derived(3, 0);
            Tensor w = Tensor.randn(g, 3, 2, 4, 4);          // conv: 2 → 3 channels; convT: 3 → 2
            Tensor x = Tensor.randn(g, 1, 2, 8, 8);
            Tensor y = Tensor.randn(g, 1, 3, 4, 4);
            double lhs = x.conv2d(w, null, 2, 1, 1).mul(y).sum().item();
            double rhs = y.convTranspose2d(w, null, 2, 1, 0).mul(x).sum().item();
            assertEquals(lhs, rhs, 1e-3 * Math.abs(lhs) + 1e-3);
        }
    }

    @Test
    void poolingAndUpsampling() {
        try (Scope s = Scope.open()) {
            Tensor x = ramp(1, 1, 2, 2);                     // 0 1 / 2 3
            assertArrayEquals(new float[] {1.5f}, x.avgPool2d(2, 2).toFloatArray());
            assertArrayEquals(new float[] {3f}, x.maxPool2d(2, 2).toFloatArray());
            assertArrayEquals(new float[] {1.5f}, x.adaptiveAvgPool2d(1).toFloatArray());
            Tensor up = x.upsampleNearest(2);
            assertArrayEquals(new long[] {1, 1, 4, 4}, up.shape());
            assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}, up.toFloatArray());
            assertArrayEquals(new long[] {1, 1, 4, 5}, x.pad2d(1, 2, 1, 1).shape());
        }
    }

    @Test
    void attentionMatchesSoftmaxFormula() {
        try (Scope s = Scope.open()) {
            Generator g = Generator.derived(5, 0);
            Tensor q = Tensor.randn(g, 2, 3, 6, 8);
            Tensor k = Tensor.randn(g, 2, 3, 5, 8);
            Tensor v = Tensor.randn(g, 2, 3, 5, 4);
            Tensor fused = Tensor.scaledDotProductAttention(q, k, v);
            Tensor ref = q.matmul(k.transpose(-1, -2)).div(Math.sqrt(8)).softmax(-1).matmul(v);
            assertEquals(0, fused.sub(ref).abs().amax().item(), 1e-5);
        }
    }

    @Test
    void attentionUnderBf16AutocastRunsInFloat32WithGradients() {
        // This libtorch has no bf16 x bf16 -> fp32 BLAS, so bf16 flash attention falls to a naive loop
        // (4x slower U-Net training); attention leaves the autocast region instead. bf16 attention would
        // differ from the float32 result by ~1e-2; the float32 path by the inputs' rounding only.
        try (Scope s = Scope.open()) {
            Tensor[] ref = qkv();
            Tensor refOut = Tensor.scaledDotProductAttention(ref[0], ref[1], ref[2]);
            refOut.square().sum().backward();
            Tensor[] in = qkv();
            try (Autocast ac = Autocast.open(DType.BFLOAT16)) {
                Tensor out = Tensor.scaledDotProductAttention(in[0], in[1], in[2]);
                assertEquals(DType.FLOAT32, out.dtype());
                assertEquals(0, out.sub(refOut).abs().amax().item(), 1e-6);
                out.square().sum().backward();
            }
            assertEquals(0, in[0].grad().sub(ref[0].grad()).abs().amax().item(), 1e-5);
        }
    }

    private static Tensor[] qkv() {
        Generator g = Generator.derived(6, 0);
        return new Tensor[] {Tensor.randn(g, 2, 3, 49, 16).requiresGrad_(true), Tensor.randn(g, 2, 3, 49, 16),
                Tensor.randn(g, 2, 3, 49, 16)};
    }

    @Test
    void embeddingCrossEntropyTopkEigh() {
        try (Scope s = Scope.open()) {
            Tensor table = ramp(4, 2);
            assertArrayEquals(new float[] {6, 7, 0, 1}, Tensor.of(new long[] {3, 0}, 2).embedding(table).toFloatArray());
            Tensor logits = Tensor.of(new float[] {0, 0, 0, 0}, 1, 4);
            assertEquals(Math.log(4), logits.crossEntropy(Tensor.of(new long[] {2}, 1)).item(), 1e-6);
            assertArrayEquals(new float[] {5, 4}, Tensor.of(new float[] {1, 5, 3, 4}, 4).topk(2, 0).toFloatArray());
            Tensor[] e = Tensor.of(new double[] {2, 1, 1, 2}, 2, 2).eigh();
            assertArrayEquals(new double[] {1, 3}, e[0].toDoubleArray(), 1e-12);
            Tensor d = Tensor.ones(1000).dropout(0.5, true);
            double kept = d.gt(0).to(DType.FLOAT32).mean().item();
            assertEquals(0.5, kept, 0.08);
            assertEquals(2.0, d.amax().item(), 0);
        }
    }

    @Test
    void flopCounterCountsMultiplyAddsTwice() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.ones(2, 3, 8, 8);
            Tensor w = Tensor.ones(4, 3, 3, 3);
            Tensor a = Tensor.ones(5, 6);
            Tensor b = Tensor.ones(6, 7);
            try (FlopCounter c = FlopCounter.open()) {
                x.conv2d(w, null, 1, 1, 1);                  // 2·(2·4·8·8)·(3·3·3)
                a.matmul(b);                                 // 2·(5·7)·6
                Tensor.scaledDotProductAttention(Tensor.ones(1, 2, 4, 8), Tensor.ones(1, 2, 5, 8), Tensor.ones(1, 2, 5, 3));
                assertEquals(2L * 512 * 27 + 2L * 35 * 6 + 2L * 2 * 4 * 5 * (8 + 3), c.flops());
                assertEquals(6, c.ops());                    // three results + the three ones() for SDPA
            }
            try (FlopCounter c = FlopCounter.open()) {
                Tensor.ones(1, 2, 4, 4).convTranspose2d(Tensor.ones(2, 3, 4, 4), null, 2, 1, 0);
                assertEquals(2L * 32 * 3 * 16, c.flops());
            }
        }
    }
}
