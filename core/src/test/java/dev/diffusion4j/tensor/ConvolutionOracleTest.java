package dev.diffusion4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Every kind of convolution the U-Nets use, in float32 and under bf16 autocast, forward and
 * backward, against float64 across channel counts on and off multiples of 16. On a CPU where
 * oneDNN's kernels are wrong (see {@link OneDnnGuard}) this fails unless the guard has switched
 * that kind off; float64 itself is first checked against a convolution written out as loops.
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

    /**
     * The oneDNN sweep: every kind of convolution result (forward, input and weight gradient; plain,
     * transposed, depthwise; float32 and bf16 autocast) across channel counts on and off multiples of
     * 16, kernels 1, 3, 4 and 7, strides 1 and 2, through libtorch's own dispatch, against float64.
     * float32 must be right whatever the guard decided (oneDNN on and right, or off); bf16 where the
     * guard left it on. {@code -Dconvolution.sweep=full} runs the whole grid (5,610 results) instead
     * of a part of it, and both print the tally per kind.
     */
    @Test
    void everyConvolutionKindThatIsOnAgreesWithFloat64() {
        boolean full = "full".equals(System.getProperty("convolution.sweep"));
        int[] ins = full ? new int[] {1, 3, 4, 8, 16, 20, 24, 28, 32, 36, 64} : new int[] {1, 3, 16, 24, 36};
        int[] outs = full ? new int[] {1, 3, 8, 16, 20, 24, 36, 56, 64} : new int[] {1, 8, 20, 24, 56};
        int[] depthwise = full ? new int[] {3, 8, 16, 18, 24, 32, 33, 36, 64, 96, 128} : new int[] {8, 18, 24, 33, 64};
        Map<String, int[]> tally = new TreeMap<>();
        List<String> wrong = new ArrayList<>();
        Generator g = new Generator(42);
        for (int cin : ins) {
            for (int cout : outs) {
                for (int[] c : new int[][] {{1, 1, 0}, {3, 1, 1}, {3, 2, 1}, {4, 2, 1}, {7, 1, 3}}) {   // kernel, stride, padding
                    sweepProblem("conv", false, cin, cout, c[0], c[1], c[2], 0, 1, 12, g, tally, wrong);
                }
                for (int[] c : new int[][] {{4, 2, 1, 0}, {3, 1, 1, 0}, {3, 2, 1, 1}, {2, 2, 0, 0}}) {   // ... and output padding
                    sweepProblem("transposed", true, cin, cout, c[0], c[1], c[2], c[3], 1, 8, g, tally, wrong);
                }
            }
        }
        for (int ch : depthwise) {
            for (int k : new int[] {3, 7}) {
                for (int stride : new int[] {1, 2}) {
                    sweepProblem("depthwise", false, ch, ch, k, stride, k / 2, 0, ch, 14, g, tally, wrong);
                }
            }
        }
        StringBuilder table = new StringBuilder();
        tally.forEach((kind, t) -> table.append(String.format(Locale.ROOT, "%-32s %4d wrong / %4d%n", kind, t[0], t[1])));
        System.out.print("oneDNN sweep (" + Backend.describe() + ")\n" + table);
        assertTrue(wrong.isEmpty(), wrong.size() + " convolution results off (" + Backend.describe() + "):\n" + table + wrong);
    }

    /** Runs one problem in float64, float32 and (unless the guard keeps bf16 off oneDNN) bf16, and tallies the results. */
    private static void sweepProblem(String family, boolean transposed, int cin, int cout, int k, int stride, int pad, int outPad,
            int groups, int size, Generator g, Map<String, int[]> tally, List<String> wrong) {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(g, 4, cin, size, size);
            Tensor w = transposed ? Tensor.randn(g, cin, cout / groups, k, k) : Tensor.randn(g, cout, cin / groups, k, k);
            long outSize = transposed ? (size - 1L) * stride - 2L * pad + k + outPad : (size + 2L * pad - k) / stride + 1;
            Tensor upstream = Tensor.randn(g, 4, cout, outSize, outSize);
            Tensor[] expected = sweepRun(DType.FLOAT64, transposed, x, w, upstream, stride, pad, outPad, groups);
            String problem = cin + "->" + cout + " k" + k + " s" + stride;
            String[] parts = {"forward", "backward-data", "backward-weight"};
            for (DType precision : OneDnnGuard.bf16Wrong() ? List.of(DType.FLOAT32) : List.of(DType.FLOAT32, DType.BFLOAT16)) {
                Tensor[] actual = sweepRun(precision, transposed, x, w, upstream, stride, pad, outPad, groups);
                String name = precision == DType.FLOAT32 ? "fp32" : "bf16";
                for (int i = 0; i < 3; i++) {
                    String kind = family + " " + name + " " + parts[i];
                    double err = relativeError(actual[i], expected[i]);
                    int[] t = tally.computeIfAbsent(kind, key -> new int[2]);
                    t[1]++;
                    if (!(err <= (precision == DType.FLOAT32 ? 1e-5 : 3e-2))) {
                        t[0]++;
                        wrong.add(String.format(Locale.ROOT, "%s %s %.2g", kind, problem, err));
                    }
                }
            }
        }
    }

    /** Output, input gradient and weight gradient of Σ y·upstream, the leaves in float32 under bf16 autocast for BFLOAT16. */
    private static Tensor[] sweepRun(DType precision, boolean transposed, Tensor x, Tensor w, Tensor upstream, int stride, int pad,
            int outPad, int groups) {
        DType leaves = precision == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32;
        // fresh leaves per precision: to() returns the tensor itself when the dtype matches, and gradients would add up
        Tensor xl = x.to(leaves).clone().requiresGrad_(true);
        Tensor wl = w.to(leaves).clone().requiresGrad_(true);
        Tensor y;
        try (Autocast a = precision == DType.BFLOAT16 ? Autocast.open(DType.BFLOAT16) : null) {
            // depthwise in channels-last, the layout Tensor.conv2d gives them
            y = transposed ? xl.libtorchConvTranspose2d(wl, null, stride, pad, outPad)
                    : (groups > 1 ? xl.channelsLast() : xl).libtorchConv2d(wl, null, stride, pad, groups);
        }
        y.to(leaves).mul(upstream.to(leaves)).sum().backward();
        return new Tensor[] {y, xl.grad(), wl.grad()};
    }

    /** The guard's own check covers every kind, and Backend.describe gives its tally per kind. */
    @Test
    void theGuardTalliesEveryKindAndDescribeReportsIt() {
        if (!org.bytedeco.pytorch.Context.hasMKLDNN()) {
            assertTrue(Backend.describe().contains("no oneDNN"), Backend.describe());
            return;
        }
        for (OneDnnGuard.Kind kind : OneDnnGuard.Kind.values()) {
            int[] t = OneDnnGuard.tally(kind);
            assertTrue(t[1] >= 6, kind + " tried only " + t[1] + " times");
            assertTrue(Backend.describe().contains(kind.label + " " + t[0] + "/" + t[1]), Backend.describe());
            if (t[0] > 0) {
                assertTrue(kind.bf16 ? OneDnnGuard.bf16Wrong() : OneDnnGuard.float32Wrong(), kind + " is wrong but still on");
            }
        }
    }

    /**
     * Where the guard finds bf16 convolutions wrong, those of a bf16 region run in float32 through
     * {@link Autocast#outside}: its result is float32 and as right as a float32 convolution, gradients included.
     */
    @Test
    void aConvolutionOutsideAutocastInsideARegionIsFloat32() {
        try (Scope s = Scope.open()) {
            Generator g = new Generator(3);
            Tensor x = Tensor.randn(g, 4, 24, 10, 10).requiresGrad_(true);
            Tensor w = Tensor.randn(g, 20, 24, 3, 3);
            Tensor x64 = x.detach().to(DType.FLOAT64).requiresGrad_(true);
            Tensor y64 = x64.conv2d(w.to(DType.FLOAT64), null, 1, 1, 1);
            y64.square().sum().backward();
            Tensor y;
            try (Autocast a = Autocast.open(DType.BFLOAT16)) {
                y = Autocast.outside(() -> x.conv2d(w, null, 1, 1, 1));
                assertTrue(Autocast.active(), "the region goes on after the float32 island");
            }
            assertEquals(DType.FLOAT32, y.dtype());
            y.square().sum().backward();
            assertTrue(relativeError(y, y64) < 1e-5, "forward " + relativeError(y, y64));
            assertTrue(relativeError(x.grad(), x64.grad()) < 1e-5, "input gradient " + relativeError(x.grad(), x64.grad()));
        }
    }

    /**
     * Depthwise convolutions as the networks call them (channels-last inside {@link Tensor#conv2d}
     * where oneDNN runs them), with and without gradients, against float64 from plain [N, C, H, W] input.
     */
    @Test
    void depthwiseConvolutionsAgreeWithFloat64WithAndWithoutGradients() {
        Generator g = new Generator(7);
        for (int[] c : new int[][] {{18, 7, 28}, {33, 7, 5}, {8, 3, 9}, {56, 7, 14}}) {   // channels, kernel, image size
            int ch = c[0], k = c[1], size = c[2];
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(g, 3, ch, size, size);
                Tensor w = Tensor.randn(g, ch, 1, k, k);
                Tensor b = Tensor.randn(g, ch);
                Tensor upstream = Tensor.randn(g, 3, ch, size, size);
                Tensor x64 = x.to(DType.FLOAT64).requiresGrad_(true);
                Tensor w64 = w.to(DType.FLOAT64).requiresGrad_(true);
                Tensor b64 = b.to(DType.FLOAT64).requiresGrad_(true);
                Tensor y64 = x64.conv2d(w64, b64, 1, k / 2, ch);
                y64.mul(upstream.to(DType.FLOAT64)).sum().backward();

                Tensor x32 = x.clone().requiresGrad_(true);
                Tensor w32 = w.clone().requiresGrad_(true);
                Tensor b32 = b.clone().requiresGrad_(true);
                Tensor y32 = x32.conv2d(w32, b32, 1, k / 2, ch);
                y32.mul(upstream).sum().backward();
                String what = ch + " channels, " + k + "x" + k + " at " + size + "x" + size;
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
}
