package dev.diffusion4j.tensor;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * oneDNN's float32 convolution forward for exactly the shapes where it has been shown right on this
 * CPU, when {@link OneDnnGuard} had to switch oneDNN off for the process.
 *
 * <p>Why: the guard's sweep found oneDNN wrong for some shapes (mostly backward passes, transposed
 * and bf16 convolutions) and right for others, with no rule to tell them apart in advance. Switching
 * it off everywhere costs most in the seed U-Net, whose 7×7 depthwise convolutions libtorch's own
 * kernels run one channel at a time. oneDNN picks its kernel from the whole problem (shapes, strides,
 * padding, groups, dtype), so the first convolution of each exact problem is run twice — through
 * oneDNN and through libtorch's own kernel on random data — and oneDNN serves that problem from then
 * on only if the two agree. That a verdict holds for later calls was measured: 990 problems (1–112
 * channels in and 8–112 out, kernels 1, 3, 4 stride 2 and 7, depthwise 7×7 at batch 4–128, sizes
 * 7–28), each run six times on fresh data between other allocations: 630 were right every time, 360
 * wrong every time, none changed its answer. The backward pass of such a convolution still runs
 * libtorch's own kernels: {@code mkldnn_convolution}'s derivative is the generic
 * {@code convolution_backward}, which obeys the global switch.
 */
final class OneDnnForward {
    /** Max-norm error allowed relative to the largest output value; float32 reductions of ≤ 10⁴ terms stay near 1e-6. */
    private static final double TOLERANCE = 1e-4;
    /** Verdicts kept; beyond this many problems new ones simply run libtorch's own kernels. */
    private static final int MAX_PROBLEMS = 512;

    private record Problem(long[] input, long[] weight, boolean bias, long stride, long padding, long groups) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Problem p && Arrays.equals(input, p.input) && Arrays.equals(weight, p.weight)
                    && bias == p.bias && stride == p.stride && padding == p.padding && groups == p.groups;
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(input), Arrays.hashCode(weight), bias, stride, padding, groups);
        }
    }

    private static final Map<Problem, Boolean> VERDICTS = new HashMap<>();
    private static final ThreadLocal<Boolean> CHECKING = ThreadLocal.withInitial(() -> false);

    private OneDnnForward() {
    }

    /** Whether {@code x ⋆ weight} may run through oneDNN although the guard switched it off. */
    static boolean serves(Tensor x, Tensor weight, Tensor bias, long stride, long padding, long groups) {
        if (!OneDnnGuard.failed() || CHECKING.get() || x.dtype() != DType.FLOAT32 || weight.dtype() != DType.FLOAT32
                || (bias != null && bias.dtype() != DType.FLOAT32) || !x.isContiguous() || !weight.isContiguous()
                || Autocast.active()) {
            return false;
        }
        Problem p = new Problem(x.shape(), weight.shape(), bias != null, stride, padding, groups);
        synchronized (VERDICTS) {
            Boolean verdict = VERDICTS.get(p);
            if (verdict == null) {
                if (VERDICTS.size() >= MAX_PROBLEMS) {
                    return false;
                }
                verdict = agrees(p);
                VERDICTS.put(p, verdict);
            }
            return verdict;
        }
    }

    /** Runs the problem on random data through oneDNN and through libtorch's own kernel. */
    private static boolean agrees(Problem p) {
        CHECKING.set(true);
        // the check's own convolutions are not the caller's work: a nested counter keeps them out of its FLOPs
        try (Scope scope = Scope.open(); NoGrad ng = NoGrad.open(); FlopCounter uncounted = FlopCounter.open()) {
            Generator g = new Generator(0x0D11);
            Tensor x = Tensor.randn(g, p.input);
            Tensor w = Tensor.randn(g, p.weight);
            Tensor b = p.bias ? Tensor.randn(g, p.weight[0]) : null;
            Tensor expected = x.conv2d(w, b, p.stride, p.padding, p.groups);
            Tensor actual = x.convolutionOneDnn(w, b, p.stride, p.padding, p.groups);
            double scale = expected.abs().amax().item();
            double err = actual.sub(expected).abs().amax().item();
            return err <= TOLERANCE * scale;
        } finally {
            CHECKING.set(false);
        }
    }
}
