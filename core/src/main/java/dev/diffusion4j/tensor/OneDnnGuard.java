package dev.diffusion4j.tensor;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Checks libtorch's oneDNN (mkldnn) convolution kernels against float64 once per process, kind by
 * kind, and switches off what is wrong on this CPU.
 *
 * <p>Why: whether oneDNN is right depends on the CPU it runs on. On an AMD EPYC (Zen 5, AVX-512 with
 * AVX512-BF16, no AMX) the oneDNN 3.7.1 inside libtorch 2.10 got 1,985 of 5,610 results of a sweep
 * wrong by 10–100 % (some NaN): backward-data whenever the output channels were not a multiple of 16,
 * forwards with 24 input channels, transposed convolutions, bf16 at any width, while the same
 * binaries were right on an Intel CPU with AMX. With the oneDNN 3.12 of libtorch 2.13 the same sweep
 * finds 0 of 5,610 wrong there ({@code ConvolutionOracleTest} runs part of it, all of it with
 * {@code -Dconvolution.sweep=full}). Wrong convolutions silently ruin training, so every process
 * still checks before it trusts them.
 *
 * <p>libtorch has one switch for all of oneDNN's convolutions. If a float32 kind is wrong (forward,
 * backward-data, backward-weight, transposed, depthwise), oneDNN goes off for the process and
 * libtorch's own im2col + GEMM kernels run every convolution: right, but 5–15× slower, and bf16 is
 * then emulated. If only the bf16 kinds are wrong, oneDNN stays on and convolutions inside bf16
 * autocast regions run in float32 ({@link Tensor#conv2d}). Float64 never goes through oneDNN and
 * agrees with a convolution written out as loops (the unit test checks that too), so a float64 run
 * of each problem is the oracle.
 *
 * <p>The check runs before the first convolution or bf16 autocast region of the process, on its own
 * thread so that the caller's grad, autocast and inference modes cannot leak into it.
 */
final class OneDnnGuard {
    /** Relative L2 error allowed against float64: right float32 results measured ~3e-7, wrong ones 0.1–1 or NaN. */
    private static final double FP32_TOLERANCE = 1e-4;
    /** bf16 keeps 8 mantissa bits: right results measured ~3e-3, wrong ones 0.1–1 or NaN. */
    private static final double BF16_TOLERANCE = 3e-2;

    /** The kinds of convolution result checked; the float32 ones share libtorch's one switch. */
    enum Kind {
        FORWARD("float32 forward", false),
        BACKWARD_DATA("float32 backward-data", false),
        BACKWARD_WEIGHT("float32 backward-weight", false),
        TRANSPOSED("transposed", false),
        DEPTHWISE("depthwise", false),
        BF16_FORWARD("bf16 forward", true),
        BF16_BACKWARD("bf16 backward", true);

        final String label;
        final boolean bf16;

        Kind(String label, boolean bf16) {
            this.label = label;
            this.bf16 = bf16;
        }
    }

    private static volatile boolean checked;
    /** The thread running the check; its own convolutions must not wait for the check. */
    private static volatile Thread checker;
    /** Wrong and tried results per kind; written once under the lock before {@code checked}. */
    private static final Map<Kind, int[]> TALLY = new EnumMap<>(Kind.class);
    private static volatile boolean float32Wrong;
    private static volatile boolean bf16Wrong;
    private static volatile String checkFailure;

    private OneDnnGuard() {
    }

    /** Runs the check unless it has run; cheap afterwards (one volatile read). */
    static void ensureChecked() {
        if (checked || Thread.currentThread() == checker) {
            return;
        }
        synchronized (OneDnnGuard.class) {
            if (checked) {
                return;
            }
            try {
                if (org.bytedeco.pytorch.Context.hasMKLDNN()) {
                    List<String> error = new ArrayList<>();
                    checker = new Thread(() -> {
                        try {
                            runChecks();
                        } catch (RuntimeException e) {
                            error.add(Natives.firstLine(e));
                        }
                    }, "onednn-check");
                    checker.start();
                    checker.join();
                    decide(error.isEmpty() ? null : error.get(0));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while checking oneDNN convolutions", e);
            } finally {
                checker = null;
                checked = true;
            }
        }
    }

    /** Sets the switches from the tally; a check that could not run proves nothing, so oneDNN goes off. */
    private static void decide(String error) {
        checkFailure = error;
        float32Wrong = error != null || TALLY.entrySet().stream().anyMatch(e -> !e.getKey().bf16 && e.getValue()[0] > 0);
        bf16Wrong = float32Wrong || TALLY.entrySet().stream().anyMatch(e -> e.getKey().bf16 && e.getValue()[0] > 0);
        if (float32Wrong) {
            Backend.context().setUserEnabledMkldnn(false);
            System.err.println("note: oneDNN " + (error != null ? "could not be checked (" + error + ")" : "gets " + wrongKinds()
                    + " convolutions wrong on this CPU") + "; it is off, libtorch's own kernels run every convolution (right, but slower)");
        } else if (bf16Wrong) {
            System.err.println("note: oneDNN gets " + wrongKinds() + " convolutions wrong on this CPU; convolutions in bf16 regions "
                    + "run in float32");
        }
    }

    private static String wrongKinds() {
        return String.join(", ", TALLY.entrySet().stream().filter(e -> e.getValue()[0] > 0).map(e -> e.getKey().label).toList());
    }

    /** One phrase for {@link Backend#describe()}: the verdict and the tally per kind. */
    static String describe() {
        ensureChecked();
        if (!org.bytedeco.pytorch.Context.hasMKLDNN()) {
            return "no oneDNN";
        }
        if (checkFailure != null) {
            return "oneDNN off (its check could not run: " + checkFailure + ")";
        }
        int wrong = 0;
        int tried = 0;
        List<String> kinds = new ArrayList<>();
        for (Map.Entry<Kind, int[]> e : TALLY.entrySet()) {
            wrong += e.getValue()[0];
            tried += e.getValue()[1];
            kinds.add(e.getKey().label + " " + e.getValue()[0] + "/" + e.getValue()[1]);
        }
        String verdict = float32Wrong ? "oneDNN off" : bf16Wrong ? "oneDNN on for float32, bf16 convolutions in float32" : "oneDNN on";
        return verdict + " (" + wrong + " of " + tried + " convolution results wrong against float64: " + String.join(", ", kinds) + ")";
    }

    /** Whether oneDNN failed a float32 kind of the check (and is therefore off). */
    static boolean float32Wrong() {
        ensureChecked();
        return float32Wrong;
    }

    /** Whether bf16 convolutions must not use oneDNN here (true also when oneDNN is off altogether). */
    static boolean bf16Wrong() {
        ensureChecked();
        return bf16Wrong;
    }

    /** The wrong and tried counts of one kind (both 0 where oneDNN is absent). */
    static int[] tally(Kind kind) {
        ensureChecked();
        return TALLY.getOrDefault(kind, new int[2]).clone();
    }

    // ------------------------------------------------------------------ the check

    /**
     * One problem: channels, square kernel, stride, padding, groups (depthwise when equal to the
     * channels), transposed or not.
     */
    private record Case(int in, int out, int k, int stride, int padding, int groups, boolean transposed) {
        /** libtorch sends a 1×1 stride-1 convolution on one thread to oneDNN only from batch 16 on. */
        int batch() {
            return k == 1 ? 16 : 4;
        }

        static Case conv(int in, int out, int k, int stride, int padding) {
            return new Case(in, out, k, stride, padding, 1, false);
        }

        static Case transposed(int in, int out, int k, int stride, int padding) {
            return new Case(in, out, k, stride, padding, 1, true);
        }

        static Case depthwise(int channels, int k, int stride) {
            return new Case(channels, channels, k, stride, k / 2, channels, false);
        }
    }

    /**
     * The kinds that failed with oneDNN 3.7.1: output channels off multiples of 16 (1, 8, 20, 24),
     * 24 and 36 input channels, kernels 1, 3, 4 (stride 2) and 7, transposed, depthwise 7×7 and 3×3
     * stride 2.
     */
    private static final Case[] CASES = {
        Case.conv(16, 1, 3, 1, 1), Case.conv(1, 8, 7, 1, 3), Case.conv(3, 24, 3, 1, 1), Case.conv(8, 32, 4, 2, 1),
        Case.conv(24, 32, 3, 1, 1), Case.conv(24, 20, 3, 2, 1), Case.conv(36, 20, 1, 1, 0), Case.conv(20, 56, 3, 1, 1),
        Case.transposed(8, 16, 3, 1, 1), Case.transposed(32, 16, 4, 2, 1), Case.transposed(3, 1, 3, 1, 1), Case.transposed(24, 20, 4, 2, 1),
        Case.depthwise(18, 7, 1), Case.depthwise(24, 7, 1), Case.depthwise(33, 3, 2),
    };

    private static void runChecks() {
        for (Kind k : Kind.values()) {
            TALLY.put(k, new int[2]);
        }
        Generator g = new Generator(0x0D11);
        for (Case c : CASES) {
            try (Scope scope = Scope.open()) {
                Tensor x = Tensor.randn(g, c.batch(), c.in, 8, 8);
                Tensor w = c.transposed ? Tensor.randn(g, c.in, c.out / c.groups, c.k, c.k) : Tensor.randn(g, c.out, c.in / c.groups, c.k, c.k);
                long size = c.transposed ? 7L * c.stride - 2L * c.padding + c.k : (8L + 2L * c.padding - c.k) / c.stride + 1;
                Tensor u = Tensor.randn(g, c.batch(), c.out, size, size);
                Tensor[] expected = run(c, x, w, u, DType.FLOAT64);
                Tensor[] fp32 = run(c, x, w, u, DType.FLOAT32);
                Tensor[] bf16 = run(c, x, w, u, DType.BFLOAT16);
                Kind shape = c.transposed ? Kind.TRANSPOSED : c.groups > 1 ? Kind.DEPTHWISE : null;
                check(shape != null ? shape : Kind.FORWARD, fp32[0], expected[0], FP32_TOLERANCE);
                check(shape != null ? shape : Kind.BACKWARD_DATA, fp32[1], expected[1], FP32_TOLERANCE);
                check(shape != null ? shape : Kind.BACKWARD_WEIGHT, fp32[2], expected[2], FP32_TOLERANCE);
                check(Kind.BF16_FORWARD, bf16[0], expected[0], BF16_TOLERANCE);
                check(Kind.BF16_BACKWARD, bf16[1], expected[1], BF16_TOLERANCE);
                check(Kind.BF16_BACKWARD, bf16[2], expected[2], BF16_TOLERANCE);
            }
        }
    }

    /**
     * Output, input gradient and weight gradient of the case in {@code precision} (BFLOAT16: float32
     * leaves under bf16 autocast), through libtorch's own dispatch, for the loss Σ y·u.
     */
    private static Tensor[] run(Case c, Tensor x, Tensor w, Tensor u, DType precision) {
        DType leaves = precision == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32;
        // fresh leaves per precision: to() returns the tensor itself when the dtype matches, and gradients would add up
        Tensor xl = x.to(leaves).clone().requiresGrad_(true);
        Tensor wl = w.to(leaves).clone().requiresGrad_(true);
        Tensor y;
        try (Autocast a = precision == DType.BFLOAT16 ? Autocast.open(DType.BFLOAT16) : null) {
            // depthwise convolutions run in channels-last (Tensor.conv2d), so that is the layout checked
            y = c.transposed ? xl.libtorchConvTranspose2d(wl, null, c.stride, c.padding, 0)
                    : (c.groups > 1 ? xl.channelsLast() : xl).libtorchConv2d(wl, null, c.stride, c.padding, c.groups);
        }
        y.to(leaves).mul(u.to(leaves)).sum().backward();
        return new Tensor[] {y, xl.grad(), wl.grad()};
    }

    /** Counts one result of {@code kind}, wrong when farther than {@code tolerance} (relative, L2) from {@code expected} or not finite. */
    private static void check(Kind kind, Tensor actual, Tensor expected, double tolerance) {
        double err = actual == null ? Double.NaN : actual.to(DType.FLOAT64).sub(expected).norm().item() / expected.norm().item();
        int[] t = TALLY.get(kind);
        t[1]++;
        if (!(err <= tolerance)) {
            t[0]++;
        }
    }
}
