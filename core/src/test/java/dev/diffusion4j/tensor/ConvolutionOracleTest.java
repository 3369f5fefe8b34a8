package dev.diffusion4j.tensor;

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
}
