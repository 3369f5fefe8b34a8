package dev.diffusion4j.tensor;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Checks libtorch's oneDNN (mkldnn) convolution kernels against float64 once per process, and
 * switches oneDNN off if any of them is wrong.
 *
 * <p>Why: on an AMD EPYC with AVX-512 and AVX512-BF16 (oneDNN 3.7.1 inside libtorch 2.10) a sweep of
 * 480 small convolutions found 292 wrong by 20–100 % (some NaN or infinite): the backward-data pass
 * whenever the output channels are not a multiple of 16, forward passes with 24 input channels,
 * transposed convolutions, and bf16 convolutions at any width. The same binaries were right on an
 * Intel CPU with AMX, so the answer depends on the CPU and has to be measured where the code runs.
 * The failures follow no rule that a narrower workaround could rely on, so the whole of oneDNN goes
 * (float32 forward problems come back one at a time after a check of their own, {@link OneDnnForward}):
 * libtorch's own im2col + GEMM kernels then run every convolution, right but slower (measured there
 * with bench-images: the default U-Net still trains at 40 img/s in fp32; bf16 loses its fast path). Float64 never goes through oneDNN, and it agrees with a loop
 * written out by hand (the unit test checks that too), so a float64 run of each op is the oracle.
 *
 * <p>The check runs before the first convolution or bf16 autocast region of the process, on its own
 * thread so that the caller's grad, autocast and inference modes cannot leak into it.
 */
final class OneDnnGuard {
    /** Relative error allowed against float64; bf16 keeps 8 mantissa bits (measured ~3e-3 where right). */
    private static final double FP32_TOLERANCE = 1e-4;
    private static final double BF16_TOLERANCE = 3e-2;

    private static volatile boolean checked;
    /** The thread running the check; its own convolutions must not wait for the check. */
    private static volatile Thread checker;
    /** What failed, empty if nothing did; written once under the lock before {@code checked}. */
    private static volatile String failures = "";

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
                    List<String> failed = new ArrayList<>();
                    checker = new Thread(() -> {
                        try {
                            runChecks(failed);
                        } catch (RuntimeException e) {
                            // a check that cannot run proves nothing: trust libtorch's own kernels instead
                            failed.add("the check itself (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")");
                        }
                    }, "onednn-check");
                    checker.start();
                    checker.join();
                    if (!failed.isEmpty()) {
                        failures = String.join(", ", new LinkedHashSet<>(failed));
                        Backend.context().setUserEnabledMkldnn(false);
                        System.err.println("note: oneDNN gets " + failures + " convolutions wrong on this CPU; it is off, "
                                + "libtorch's own kernels run them (right, but slower), except float32 forward problems "
                                + "that oneDNN is checked right on (OneDnnForward)");
                    }
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

    /** One phrase for {@link Backend#describe()}. */
    static String describe() {
        ensureChecked();
        if (!org.bytedeco.pytorch.Context.hasMKLDNN()) {
            return "no oneDNN";
        }
        return failures.isEmpty() ? "oneDNN convolutions checked"
                : "oneDNN off (wrong " + failures + " convolutions here) but for float32 forward shapes checked right";
    }

    /** Whether oneDNN failed the check (and is therefore off). */
    static boolean failed() {
        ensureChecked();
        return !failures.isEmpty();
    }

    // ------------------------------------------------------------------ the check

    /** Shapes from the sweep's failures: channels below, at and off multiples of 16; k = 3, 7 and 4 stride 2. */
    private record Case(int in, int out, int k, int stride, int padding) {
    }

    private static final Case[] CONVOLUTIONS = {
        new Case(16, 1, 3, 1, 1), new Case(1, 8, 7, 1, 3), new Case(3, 24, 3, 1, 1), new Case(8, 32, 4, 2, 1),
        new Case(24, 32, 3, 1, 1),
    };
    private static final Case[] TRANSPOSED = {
        new Case(8, 16, 3, 1, 1), new Case(32, 16, 4, 2, 1), new Case(3, 1, 3, 1, 1),
    };

    private static void runChecks(List<String> failed) {
        Generator g = new Generator(0x0D11);
        try (Scope scope = Scope.open()) {
            for (Case c : CONVOLUTIONS) {
                Tensor x = Tensor.randn(g, 2, c.in, 10, 10);
                Tensor w = Tensor.randn(g, c.out, c.in, c.k, c.k);
                Tensor x64 = x.to(DType.FLOAT64).requiresGrad_(true);
                Tensor w64 = w.to(DType.FLOAT64).requiresGrad_(true);
                Tensor y64 = x64.conv2d(w64, null, c.stride, c.padding, 1);
                y64.square().sum().backward();

                Tensor x32 = x.clone().requiresGrad_(true);
                Tensor w32 = w.clone().requiresGrad_(true);
                Tensor y32 = x32.conv2d(w32, null, c.stride, c.padding, 1);
                y32.square().sum().backward();
                check(failed, "float32 forward", y32, y64, FP32_TOLERANCE);
                check(failed, "float32 backward", x32.grad(), x64.grad(), FP32_TOLERANCE);
                check(failed, "float32 backward", w32.grad(), w64.grad(), FP32_TOLERANCE);

                Tensor x16 = x.clone().requiresGrad_(true);
                Tensor y16;
                try (Autocast ignored = Autocast.open(DType.BFLOAT16)) {
                    y16 = x16.conv2d(w, null, c.stride, c.padding, 1);
                }
                check(failed, "bf16 forward", y16, y64, BF16_TOLERANCE);
                // the same loss through bf16: its input gradient must match float64's to bf16 accuracy
                y16.to(DType.FLOAT32).square().sum().backward();
                check(failed, "bf16 backward", x16.grad(), x64.grad(), BF16_TOLERANCE);
            }
            for (Case c : TRANSPOSED) {
                Tensor x = Tensor.randn(g, 2, c.in, 6, 6);
                Tensor w = Tensor.randn(g, c.in, c.out, c.k, c.k);
                Tensor y64 = x.to(DType.FLOAT64).convTranspose2d(w.to(DType.FLOAT64), null, c.stride, c.padding, 0);
                check(failed, "transposed", x.convTranspose2d(w, null, c.stride, c.padding, 0), y64, FP32_TOLERANCE);
            }
        }
    }

    /** Records {@code what} when {@code actual} is farther than {@code tolerance} (relative, L2) from {@code expected}, or not finite. */
    private static void check(List<String> failed, String what, Tensor actual, Tensor expected, double tolerance) {
        double err = actual == null ? Double.NaN : actual.to(DType.FLOAT64).sub(expected).norm().item() / expected.norm().item();
        if (!(err <= tolerance)) {
            failed.add(what);
        }
    }
}
