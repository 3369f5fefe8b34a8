package dev.diffusion4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Every kind of convolution the U-Nets use, in float32 and under bf16 autocast, forward and
 * backward, against float64 across channel counts on and off multiples of 16. On a CPU where
 * oneDNN's kernels are wrong (see {@link OneDnnGuard}) this fails unless the guard has switched
 * oneDNN off; float64 itself is first checked against a convolution written out as loops.
 */
class ConvolutionOracleTest {

    private static double relativeError(Tensor actual, Tensor expected) {
        return actual.to(DType.FLOAT64).sub(expected).norm().item() / expected.norm().item();
    }

    @Test
    void float64ConvolutionAndItsInputGradientMatchLoops() {
        int n = 2, c = 5, o = 3, h = 6, w = 7, k = 3, p = 1;
        try (Scope s = Scope.open()) {
            Generator g = new Generator(11);
            Tensor x = Tensor.randn(g, n, c, h, w).to(DType.FLOAT64).requiresGrad_(true);
            Tensor wt = Tensor.randn(g, o, c, k, k).to(DType.FLOAT64);
            Tensor upstream = Tensor.randn(g, n, o, h, w).to(DType.FLOAT64);
            Tensor y = x.conv2d(wt, null, 1, p, 1);
            y.mul(upstream).sum().backward();
            double[] xa = x.detach().toDoubleArray(), wa = wt.toDoubleArray(), ua = upstream.toDoubleArray();
            double[] ya = y.detach().toDoubleArray(), dxa = x.grad().toDoubleArray();
            double[] yLoop = new double[ya.length], dxLoop = new double[dxa.length];
            for (int b = 0; b < n; b++) {
                for (int oc = 0; oc < o; oc++) {
                    for (int i = 0; i < h; i++) {
                        for (int j = 0; j < w; j++) {
                            int out = ((b * o + oc) * h + i) * w + j;
                            for (int ic = 0; ic < c; ic++) {
                                for (int u = 0; u < k; u++) {
                                    for (int v = 0; v < k; v++) {
                                        int ii = i + u - p, jj = j + v - p;
                                        if (ii < 0 || jj < 0 || ii >= h || jj >= w) {
                                            continue;
                                        }
                                        int in = ((b * c + ic) * h + ii) * w + jj;
                                        double weight = wa[((oc * c + ic) * k + u) * k + v];
                                        yLoop[out] += xa[in] * weight;
                                        dxLoop[in] += ua[out] * weight;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for (int i = 0; i < ya.length; i++) {
                assertTrue(Math.abs(ya[i] - yLoop[i]) < 1e-10, "forward at " + i);
            }
            for (int i = 0; i < dxa.length; i++) {
                assertTrue(Math.abs(dxa[i] - dxLoop[i]) < 1e-10, "input gradient at " + i);
            }
        }
    }

    @Test
    void float32AndBf16ConvolutionsAgreeWithFloat64() {
        int[] ins = {1, 3, 16, 24, 28};
        int[] outs = {1, 8, 16, 24, 56};
        int[][] kernels = {{3, 1, 1}, {4, 2, 1}, {7, 1, 3}};   // size, stride, padding
        List<String> wrong = new ArrayList<>();
        Generator g = new Generator(5);
        for (int cin : ins) {
            for (int cout : outs) {
                for (int[] kk : kernels) {
                    try (Scope s = Scope.open()) {
                        int k = kk[0], stride = kk[1], pad = kk[2];
                        Tensor x = Tensor.randn(g, 2, cin, 10, 10);
                        Tensor w = Tensor.randn(g, cout, cin, k, k);
                        Tensor b = Tensor.randn(g, cout);
                        Tensor x64 = x.to(DType.FLOAT64).requiresGrad_(true);
                        Tensor w64 = w.to(DType.FLOAT64).requiresGrad_(true);
                        Tensor y64 = x64.conv2d(w64, b.to(DType.FLOAT64), stride, pad, 1);
                        y64.square().sum().backward();
                        Tensor x32 = x.clone().requiresGrad_(true);
                        Tensor w32 = w.clone().requiresGrad_(true);
                        Tensor y32 = x32.conv2d(w32, b, stride, pad, 1);
                        y32.square().sum().backward();
                        Tensor y16;
                        try (Autocast a = Autocast.open(DType.BFLOAT16)) {
                            y16 = x.conv2d(w, b, stride, pad, 1);
                        }
                        Tensor t64 = x.to(DType.FLOAT64).convTranspose2d(w.to(DType.FLOAT64).transpose(0, 1).contiguous(), null, stride, pad, 0);
                        Tensor t32 = x.convTranspose2d(w.transpose(0, 1).contiguous(), null, stride, pad, 0);
                        double[] errors = {relativeError(y32, y64), relativeError(x32.grad(), x64.grad()),
                            relativeError(w32.grad(), w64.grad()), relativeError(t32, t64), relativeError(y16, y64)};
                        double[] limits = {1e-5, 1e-5, 1e-5, 1e-5, 2e-2};
                        for (int i = 0; i < errors.length; i++) {
                            if (!(errors[i] <= limits[i])) {
                                wrong.add(String.format(Locale.ROOT, "%d->%d k%d s%d %s %.2g", cin, cout, k, stride,
                                        new String[] {"forward", "input grad", "weight grad", "transposed", "bf16"}[i], errors[i]));
                            }
                        }
                    }
                }
            }
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + ins.length * outs.length * kernels.length * 5
                + " convolution results off (" + Backend.describe() + "): " + wrong);
    }

    @Test
    void depthwiseConvolutionsAgreeWithFloat64WithAndWithoutGradients() {
        Generator g = new Generator(7);
        for (int[] c : new int[][] {{18, 7, 12}, {33, 7, 5}, {8, 3, 9}}) {   // channels, kernel, image size
            int ch = c[0], k = c[1], size = c[2];
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(g, 3, ch, size, size);
                Tensor w = Tensor.randn(g, ch, 1, k, k);
                Tensor b = Tensor.randn(g, ch);
                Tensor upstream = Tensor.randn(g, 3, ch, size, size);
                assertTrue(BandedDepthwise.applies(x, w, 1, k / 2, ch));
                Tensor x64 = x.to(DType.FLOAT64).requiresGrad_(true);
                Tensor w64 = w.to(DType.FLOAT64).requiresGrad_(true);
                Tensor b64 = b.to(DType.FLOAT64).requiresGrad_(true);
                Tensor y64 = x64.conv2d(w64, b64, 1, k / 2, ch);
                y64.mul(upstream.to(DType.FLOAT64)).sum().backward();

                Tensor x32 = x.clone().requiresGrad_(true);
                Tensor w32 = w.clone().requiresGrad_(true);
                Tensor b32 = b.clone().requiresGrad_(true);
                Tensor y32 = x32.conv2d(w32, b32, 1, k / 2, ch);   // the banded form: a gradient is needed
                y32.mul(upstream).sum().backward();
                String what = ch + " channels, " + k + "x" + k;
                assertTrue(relativeError(y32, y64) < 1e-6, what + " forward " + relativeError(y32, y64));
                assertTrue(relativeError(x32.grad(), x64.grad()) < 1e-6, what + " input gradient");
                assertTrue(relativeError(w32.grad(), w64.grad()) < 1e-6, what + " weight gradient");
                assertTrue(relativeError(b32.grad(), b64.grad()) < 1e-6, what + " bias gradient");
                try (NoGrad ng = NoGrad.open()) {
                    assertTrue(relativeError(x.conv2d(w, b, 1, k / 2, ch), y64.detach()) < 1e-6, what + " forward without gradient");
                }
            }
        }
    }

    /**
     * Where the guard switched oneDNN off, a convolution problem runs through oneDNN only if oneDNN
     * computed it right on this CPU: the shapes include ones the guard saw fail (24 input channels).
     */
    @Test
    void oneDnnServesOnlyTheProblemsItGetsRight() {
        Generator g = new Generator(9);
        int served = 0;
        for (int[] c : new int[][] {{24, 32, 3}, {24, 24, 3}, {16, 32, 3}, {28, 56, 3}, {1, 18, 7}, {32, 32, 1}}) {
            try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
                Tensor x = Tensor.randn(g, 4, c[0], 14, 14);
                Tensor w = Tensor.randn(g, c[1], c[0], c[2], c[2]);
                Tensor y64 = x.to(DType.FLOAT64).conv2d(w.to(DType.FLOAT64), null, 1, c[2] / 2, 1);
                String what = c[0] + "->" + c[1] + " k" + c[2];
                assertTrue(relativeError(x.conv2d(w, null, 1, c[2] / 2, 1), y64) < 1e-5, what);
                if (OneDnnForward.serves(x, w, null, 1, c[2] / 2, 1)) {
                    served++;
                    assertTrue(relativeError(x.convolutionOneDnn(w, null, 1, c[2] / 2, 1), y64) < 1e-5, what + " served but wrong");
                }
            }
        }
        if (Backend.oneDnnOff() && org.bytedeco.pytorch.Context.hasMKLDNN()) {
            assertTrue(served > 0, "no problem went through oneDNN: its forward is right for most shapes here");
        } else {
            assertEquals(0, served, "with oneDNN on (or absent) every convolution takes libtorch's own dispatch");
        }
    }
}
