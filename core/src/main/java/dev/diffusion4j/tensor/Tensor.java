package dev.diffusion4j.tensor;

import dev.diffusion4j.DiffusionException;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * An n-dimensional array on libtorch, with autograd. A thin facade: each method is one libtorch
 * op, named as in PyTorch (in-place variants end in {@code _}). Native memory is released by the
 * enclosing {@link Scope}, by {@link #close()}, or by the garbage collector, in that order of
 * preference.
 */
public final class Tensor implements AutoCloseable {
    final org.bytedeco.pytorch.Tensor t;

    Tensor(org.bytedeco.pytorch.Tensor t) {
        this.t = t;
    }

    /** The native tensor; fails clearly if its scope has already released it. */
    private org.bytedeco.pytorch.Tensor n() {
        if (t.isNull()) {
            throw new IllegalStateException("tensor used after its Scope closed or after close(); use Scope.keep() to let it escape");
        }
        return t;
    }

    private static Tensor wrap(org.bytedeco.pytorch.Tensor t) {
        FlopCounter.countOp();
        return new Tensor(t);
    }

    /** Counts 2·numel(out)·k FLOPs (k multiply-adds per output value) and returns {@code out}. */
    private static Tensor counted(Tensor out, long k) {
        FlopCounter.countFlops(2 * out.numel() * k);
        return out;
    }

    private static final TensorOptions[] OPTIONS = new TensorOptions[DType.values().length];
    private static final ScalarTypeOptional NO_DTYPE;

    static {
        Backend.ensureLoaded();
        for (DType d : DType.values()) {
            OPTIONS[d.ordinal()] = Natives.persistent(new TensorOptions(d.scalarType));
        }
        NO_DTYPE = Natives.persistent(new ScalarTypeOptional());
    }

    static TensorOptions options(DType d) {
        return OPTIONS[d.ordinal()];
    }

    // ------------------------------------------------------------------ creation

    /** A float32 tensor holding a copy of {@code data}, viewed with {@code shape}. */
    public static Tensor of(float[] data, long... shape) {
        checkCount(data.length, shape);
        org.bytedeco.pytorch.Tensor x = torch.empty(shape, options(DType.FLOAT32), null);
        new FloatPointer(x.data_ptr()).put(data);
        return wrap(x);
    }

    /** A float64 tensor holding a copy of {@code data}. */
    public static Tensor of(double[] data, long... shape) {
        checkCount(data.length, shape);
        org.bytedeco.pytorch.Tensor x = torch.empty(shape, options(DType.FLOAT64), null);
        new DoublePointer(x.data_ptr()).put(data);
        return wrap(x);
    }

    /** An int64 tensor holding a copy of {@code data}. */
    public static Tensor of(long[] data, long... shape) {
        checkCount(data.length, shape);
        org.bytedeco.pytorch.Tensor x = torch.empty(shape, options(DType.INT64), null);
        new LongPointer(x.data_ptr()).put(data);
        return wrap(x);
    }

    /** A tensor of {@code dtype} whose raw little-endian bytes are {@code data}. */
    public static Tensor fromBytes(byte[] data, DType dtype, long... shape) {
        long numel = numel(shape);
        if (numel * dtype.byteSize() != data.length) {
            throw new DiffusionException("byte count " + data.length + " does not match shape " + Arrays.toString(shape) + " of " + dtype);
        }
        org.bytedeco.pytorch.Tensor x = torch.empty(shape, options(dtype), null);
        new BytePointer(x.data_ptr()).put(data);
        return wrap(x);
    }

    /**
     * Copies {@code byteCount} bytes starting at native address {@code address} into a new tensor.
     * The memory must hold a dense little-endian array of {@code dtype}; used by memory-mapped readers.
     */
    public static Tensor copyOfMemory(long address, DType dtype, long... shape) {
        org.bytedeco.pytorch.Tensor x = torch.empty(shape, options(dtype), null);
        long bytes = numel(shape) * dtype.byteSize();
        Pointer src = new Pointer() {
            {
                this.address = address;
            }
        };
        Pointer.memcpy(x.data_ptr(), src, bytes);
        return wrap(x);
    }

    /** A 0-dimensional float32 tensor. */
    public static Tensor scalar(double v) {
        return wrap(torch.scalar_tensor(new Scalar(v), options(DType.FLOAT32)));
    }

    public static Tensor zeros(long... shape) {
        return zeros(DType.FLOAT32, shape);
    }

    /**
     * A float32 tensor whose values are whatever its fresh memory holds: for storage that is written
     * in full next (weights about to be loaded), whose pages the writing touches for the first time.
     */
    public static Tensor uninitialized(long... shape) {
        return wrap(torch.empty(shape, options(DType.FLOAT32), null));
    }

    public static Tensor zeros(DType dtype, long... shape) {
        return wrap(torch.zeros(shape, options(dtype)));
    }

    public static Tensor ones(long... shape) {
        return wrap(torch.ones(shape, options(DType.FLOAT32)));
    }

    public static Tensor full(double value, long... shape) {
        return wrap(torch.full(shape, new Scalar(value), options(DType.FLOAT32)));
    }

    public static Tensor full(DType dtype, double value, long... shape) {
        return wrap(torch.full(shape, new Scalar(value), options(dtype)));
    }

    /** 0, 1, ..., n−1 as int64. */
    public static Tensor arange(long n) {
        return wrap(torch.arange(new Scalar(n), options(DType.INT64)));
    }

    /** {@code steps} evenly spaced float32 values from {@code start} to {@code end} inclusive. */
    public static Tensor linspace(double start, double end, long steps) {
        return wrap(torch.linspace(new Scalar(start), new Scalar(end), steps, options(DType.FLOAT32)));
    }

    /** Standard normal float32 samples. */
    public static Tensor randn(Generator g, long... shape) {
        return wrap(torch.randn(shape, g.optional, options(DType.FLOAT32)));
    }

    /** Uniform [0, 1) float32 samples. */
    public static Tensor rand(Generator g, long... shape) {
        return wrap(torch.rand(shape, g.optional, options(DType.FLOAT32)));
    }

    /** Uniform integers in [0, high) as int64. */
    public static Tensor randint(Generator g, long high, long... shape) {
        return wrap(torch.randint(high, shape, g.optional, options(DType.INT64)));
    }

    /** Uniform integers in [low, high) as int64. */
    public static Tensor randintRange(Generator g, long low, long high, long... shape) {
        return wrap(torch.randint(low, high, shape, g.optional, options(DType.INT64)));
    }

    /** A random permutation of 0..n−1 as int64. */
    public static Tensor randperm(Generator g, long n) {
        return wrap(torch.randperm(n, g.optional, options(DType.INT64)));
    }

    /** Random signs ±1 (Rademacher), float32. */
    public static Tensor rademacher(Generator g, long... shape) {
        return wrap(torch.randint(2, shape, g.optional, options(DType.FLOAT32)).mul(new Scalar(2.0)).sub(new Scalar(1.0)));
    }

    public Tensor randnLike(Generator g) {
        return wrap(torch.randn(shape(), g.optional, options(dtype())));
    }

    public Tensor zerosLike() {
        return wrap(torch.zeros_like(n()));
    }

    public Tensor onesLike() {
        return wrap(torch.ones_like(n()));
    }

    /** Samples {@code count} indices from each row of non-negative weights. */
    public Tensor multinomial(long count, boolean replacement, Generator g) {
        return wrap(torch.multinomial(n(), count, replacement, g.optional));
    }

    public static Tensor cat(List<Tensor> parts, long dim) {
        try (TensorVector v = vector(parts)) {
            return wrap(torch.cat(v, dim));
        }
    }

    public static Tensor stack(List<Tensor> parts, long dim) {
        try (TensorVector v = vector(parts)) {
            return wrap(torch.stack(v, dim));
        }
    }

    /** Element-wise {@code cond ? a : b}. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return wrap(torch.where(cond.n(), a.n(), b.n()));
    }

    static TensorVector vector(List<Tensor> parts) {
        TensorVector v = new TensorVector();
        for (Tensor p : parts) {
            v.push_back(p.n());
        }
        return v;
    }

    private static void checkCount(long count, long[] shape) {
        if (numel(shape) != count) {
            throw new DiffusionException(count + " values cannot fill shape " + Arrays.toString(shape));
        }
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            if (s < 0) {
                throw new DiffusionException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= s;
        }
        return n;
    }

    // ------------------------------------------------------------------ metadata

    public long[] shape() {
        org.bytedeco.pytorch.Tensor x = n();
        int d = (int) x.dim();
        long[] s = new long[d];
        for (int i = 0; i < d; i++) {
            s[i] = x.size(i);
        }
        return s;
    }

    public long size(long dim) {
        return n().size(dim);
    }

    public int dim() {
        return (int) n().dim();
    }

    public long numel() {
        return n().numel();
    }

    public DType dtype() {
        return DType.of(n().scalar_type());
    }

    public boolean isContiguous() {
        return n().is_contiguous();
    }

    /** True once the native memory has been released. */
    public boolean isReleased() {
        return t.isNull();
    }

    // ------------------------------------------------------------------ arithmetic

    public Tensor add(Tensor o) {
        return wrap(n().add(o.n()));
    }

    public Tensor add(double v) {
        return wrap(n().add(new Scalar(v)));
    }

    /** {@code this + alpha * o}. */
    public Tensor add(Tensor o, double alpha) {
        return wrap(n().add(o.n(), new Scalar(alpha)));
    }

    public Tensor sub(Tensor o) {
        return wrap(n().sub(o.n()));
    }

    public Tensor sub(double v) {
        return wrap(n().sub(new Scalar(v)));
    }

    /** {@code v − this}. */
    public Tensor rsub(double v) {
        return wrap(torch.rsub(n(), new Scalar(v)));
    }

    public Tensor mul(Tensor o) {
        return wrap(n().mul(o.n()));
    }

    public Tensor mul(double v) {
        return wrap(n().mul(new Scalar(v)));
    }

    public Tensor div(Tensor o) {
        return wrap(n().div(o.n()));
    }

    public Tensor div(double v) {
        return wrap(n().div(new Scalar(v)));
    }

    public Tensor neg() {
        return wrap(n().neg());
    }

    public Tensor pow(double e) {
        return wrap(n().pow(new Scalar(e)));
    }

    public Tensor square() {
        return wrap(n().square());
    }

    public Tensor sqrt() {
        return wrap(n().sqrt());
    }

    public Tensor rsqrt() {
        return wrap(n().rsqrt());
    }

    public Tensor exp() {
        return wrap(n().exp());
    }

    public Tensor expm1() {
        return wrap(n().expm1());
    }

    public Tensor log() {
        return wrap(n().log());
    }

    /** The error function, elementwise: Φ(z) = (1 + erf(z/√2))/2 is the standard normal CDF. */
    public Tensor erf() {
        return wrap(n().erf());
    }

    /** 1 − erf, elementwise, accurate where erf is close to 1. */
    public Tensor erfc() {
        return wrap(n().erfc());
    }

    public Tensor log1p() {
        return wrap(n().log1p());
    }

    public Tensor abs() {
        return wrap(n().abs());
    }

    public Tensor sign() {
        return wrap(n().sign());
    }

    public Tensor sin() {
        return wrap(n().sin());
    }

    public Tensor cos() {
        return wrap(n().cos());
    }

    public Tensor tanh() {
        return wrap(n().tanh());
    }

    public Tensor sigmoid() {
        return wrap(n().sigmoid());
    }

    public Tensor reciprocal() {
        return wrap(n().reciprocal());
    }

    public Tensor floor() {
        return wrap(n().floor());
    }

    public Tensor clamp(double min, double max) {
        return wrap(n().clamp(new ScalarOptional(new Scalar(min)), new ScalarOptional(new Scalar(max))));
    }

    public Tensor clampMin(double min) {
        return wrap(n().clamp_min(new Scalar(min)));
    }

    public Tensor clampMax(double max) {
        return wrap(torch.clamp_max(n(), new Scalar(max)));
    }

    /** Element-wise clamp to bounds that broadcast against this tensor. */
    public Tensor clamp(Tensor min, Tensor max) {
        return wrap(n().clamp(new TensorOptional(min.n()), new TensorOptional(max.n())));
    }

    public Tensor maximum(Tensor o) {
        return wrap(torch.maximum(n(), o.n()));
    }

    public Tensor minimum(Tensor o) {
        return wrap(torch.minimum(n(), o.n()));
    }

    /** {@code this + w · (end − this)}. */
    public Tensor lerp(Tensor end, double w) {
        return wrap(torch.lerp(n(), end.n(), new Scalar(w)));
    }

    // ------------------------------------------------------------------ activations

    public Tensor silu() {
        return wrap(torch.silu(n()));
    }

    /** GELU with the exact erf form. */
    public Tensor gelu() {
        return wrap(torch.gelu(n()));
    }

    /** GELU with the tanh approximation. */
    public Tensor geluTanh() {
        return wrap(torch.gelu(n(), "tanh"));
    }

    public Tensor relu() {
        return wrap(torch.relu(n()));
    }

    /** x for x ≥ 0, {@code slope}·x below (Maas et al. 2013). */
    public Tensor leakyRelu(double slope) {
        return wrap(torch.leaky_relu(n(), new Scalar(slope)));
    }

    public Tensor softmax(long dim) {
        return wrap(n().softmax(dim));
    }

    public Tensor logSoftmax(long dim) {
        return wrap(torch.log_softmax(n(), dim));
    }

    public Tensor logSumExp(long dim, boolean keepDim) {
        return wrap(torch.logsumexp(n(), new long[] {dim}, keepDim));
    }

    // ------------------------------------------------------------------ reductions

    public Tensor sum() {
        return wrap(n().sum());
    }

    public Tensor sum(long dim, boolean keepDim) {
        return wrap(n().sum(new long[] {dim}, keepDim, NO_DTYPE));
    }

    public Tensor sum(long[] dims, boolean keepDim) {
        return wrap(n().sum(dims, keepDim, NO_DTYPE));
    }

    public Tensor mean() {
        return wrap(n().mean());
    }

    public Tensor mean(long dim, boolean keepDim) {
        return wrap(n().mean(new long[] {dim}, keepDim, NO_DTYPE));
    }

    public Tensor mean(long[] dims, boolean keepDim) {
        return wrap(n().mean(dims, keepDim, NO_DTYPE));
    }

    /** Unbiased variance along {@code dim}. */
    public Tensor var(long dim, boolean keepDim) {
        return wrap(torch.var(n(), new long[] {dim}, true, keepDim));
    }

    /** Unbiased standard deviation along {@code dim}. */
    public Tensor std(long dim, boolean keepDim) {
        return wrap(n().std(new long[] {dim}, true, keepDim));
    }

    public Tensor amax() {
        return wrap(n().amax());
    }

    public Tensor amax(long dim, boolean keepDim) {
        return wrap(n().amax(new long[] {dim}, keepDim));
    }

    public Tensor amin() {
        return wrap(n().amin());
    }

    public Tensor amin(long dim, boolean keepDim) {
        return wrap(n().amin(new long[] {dim}, keepDim));
    }

    public Tensor argmax(long dim) {
        return wrap(n().argmax(new LongOptional(dim), false));
    }

    /** Euclidean norm of all elements. */
    public Tensor norm() {
        return wrap(torch.linalg_vector_norm(n()));
    }

    /** Euclidean norm along {@code dim}. */
    public Tensor norm(long dim, boolean keepDim) {
        return wrap(torch.linalg_vector_norm(n(), new Scalar(2.0), new long[] {dim}, keepDim, NO_DTYPE));
    }

    public Tensor cumsum(long dim) {
        return wrap(torch.cumsum(n(), dim));
    }

    /** Values sorted ascending along {@code dim}. */
    public Tensor sort(long dim) {
        return wrap(torch.sort(n(), dim, false).get0());
    }

    public Tensor argsort(long dim) {
        return wrap(torch.argsort(n(), dim, false));
    }

    /** The q-quantile (0 ≤ q ≤ 1) along {@code dim}, linear interpolation. */
    public Tensor quantile(double q, long dim, boolean keepDim) {
        return wrap(torch.quantile(n(), q, new LongOptional(dim), keepDim, "linear"));
    }

    // ------------------------------------------------------------------ comparison

    public Tensor gt(double v) {
        return wrap(n().gt(new Scalar(v)));
    }

    public Tensor lt(double v) {
        return wrap(n().lt(new Scalar(v)));
    }

    public Tensor ge(double v) {
        return wrap(n().ge(new Scalar(v)));
    }

    public Tensor le(double v) {
        return wrap(n().le(new Scalar(v)));
    }

    public Tensor gt(Tensor o) {
        return wrap(n().gt(o.n()));
    }

    public Tensor lt(Tensor o) {
        return wrap(n().lt(o.n()));
    }

    public Tensor eq(Tensor o) {
        return wrap(n().eq(o.n()));
    }

    public Tensor isfinite() {
        return wrap(torch.isfinite(n()));
    }

    /** True when every element is finite (no NaN or ±Inf). */
    public boolean allFinite() {
        try (Scope s = Scope.open()) {
            return torch.isfinite(n()).all().item().toBool();
        }
    }

    /** Exact equality of shape and every element. */
    public boolean equal(Tensor o) {
        return n().equal(o.n());
    }

    public boolean allClose(Tensor o, double rtol, double atol) {
        return n().allclose(o.n(), rtol, atol, false);
    }

    // ------------------------------------------------------------------ linear algebra

    public Tensor matmul(Tensor o) {
        return counted(wrap(n().matmul(o.n())), size(-1));
    }

    /** {@code this · wᵀ + b} (PyTorch's {@code F.linear}); {@code b} may be null. */
    public Tensor linear(Tensor w, Tensor b) {
        Tensor out = b == null ? wrap(torch.linear(n(), w.n())) : wrap(torch.linear(n(), w.n(), b.n()));
        return counted(out, w.size(1));
    }

    /** Pairwise Euclidean distances between the rows of {@code this} [n, d] and {@code o} [m, d]. */
    public Tensor cdist(Tensor o) {
        return wrap(torch.cdist(n(), o.n()));
    }

    // ------------------------------------------------------------------ convolution, pooling, attention

    /**
     * 2-D convolution of [N, C, H, W] with weight [out, C/groups, kh, kw] (PyTorch's
     * {@code F.conv2d}); {@code bias} may be null.
     */
    public Tensor conv2d(Tensor weight, Tensor bias, long stride, long padding, long groups) {
        OneDnnGuard.ensureChecked();
        if (Autocast.active() && OneDnnGuard.bf16Wrong()) {
            return Autocast.outside(() -> to(DType.FLOAT32).conv2d(weight.to(DType.FLOAT32), bias, stride, padding, groups));
        }
        // oneDNN's depthwise kernels for [N, C, H, W] fall off a cliff from 24×24 on: forward + backward of a
        // 7×7 over 28 channels at batch 128 took 5–14 s at 24–28 px against 0.2–0.35 s in channels-last,
        // which is the fastest form at every size (2–6× faster than depthwise as banded matrix products). The
        // output stays channels-last, and the group norms and convolutions after it follow that layout.
        Tensor input = isDepthwise(weight, groups) && !OneDnnGuard.float32Wrong() ? channelsLast() : this;
        return counted(input.libtorchConv2d(weight, bias, stride, padding, groups), weight.size(1) * weight.size(2) * weight.size(3));
    }

    private boolean isDepthwise(Tensor weight, long groups) {
        return groups > 1 && dim() == 4 && groups == size(1) && weight.size(0) == groups;
    }

    /** This 4-D tensor in channels-last (NHWC) memory order: itself if it already is, else a copy. */
    Tensor channelsLast() {
        return n().is_contiguous(torch.MemoryFormat.ChannelsLast) ? this : wrap(n().contiguous(torch.MemoryFormat.ChannelsLast));
    }

    /** {@link #conv2d} as libtorch dispatches it (oneDNN where on), uncounted; what {@link OneDnnGuard} checks. */
    Tensor libtorchConv2d(Tensor weight, Tensor bias, long stride, long padding, long groups) {
        return wrap(torch.conv2d(n(), weight.n(), optional(bias), new long[] {stride, stride},
                new long[] {padding, padding}, new long[] {1, 1}, groups));
    }

    /**
     * Transposed 2-D convolution with weight [in, out/groups, kh, kw] (PyTorch's
     * {@code F.conv_transpose2d}); {@code bias} may be null.
     */
    public Tensor convTranspose2d(Tensor weight, Tensor bias, long stride, long padding, long outputPadding) {
        OneDnnGuard.ensureChecked();
        if (Autocast.active() && OneDnnGuard.bf16Wrong()) {
            return Autocast.outside(() -> to(DType.FLOAT32).convTranspose2d(weight.to(DType.FLOAT32), bias, stride, padding, outputPadding));
        }
        Tensor out = libtorchConvTranspose2d(weight, bias, stride, padding, outputPadding);
        // every input value meets out-channels × k² weights
        FlopCounter.countFlops(2 * numel() * weight.size(1) * weight.size(2) * weight.size(3));
        return out;
    }

    /** {@link #convTranspose2d} as libtorch dispatches it, uncounted; what {@link OneDnnGuard} checks. */
    Tensor libtorchConvTranspose2d(Tensor weight, Tensor bias, long stride, long padding, long outputPadding) {
        return wrap(torch.conv_transpose2d(n(), weight.n(), optional(bias), new long[] {stride, stride},
                new long[] {padding, padding}, new long[] {outputPadding, outputPadding}, 1, 1, 1));
    }

    /** Nearest-neighbour upsampling of [N, C, H, W] by an integer factor. */
    public Tensor upsampleNearest(long factor) {
        long[] s = shape();
        return upsampleNearest(s[2] * factor, s[3] * factor);
    }

    /**
     * Nearest-neighbour resizing of [N, C, H, W] to [N, C, height, width]: output pixel i takes input
     * pixel ⌊i·H/height⌋ (PyTorch's {@code interpolate(size=…, mode="nearest")}).
     */
    public Tensor upsampleNearest(long height, long width) {
        return wrap(torch.upsample_nearest2d(n(), new long[] {height, width}, new DoubleOptional(), new DoubleOptional()));
    }

    /** Bilinear upsampling of [N, C, H, W] by an integer factor (half-pixel centres, align_corners false). */
    public Tensor upsampleBilinear(long factor) {
        long[] s = shape();
        return wrap(torch.upsample_bilinear2d(n(), new long[] {s[2] * factor, s[3] * factor}, false));
    }

    /** Average pooling of [N, C, H, W] with a square window and stride. */
    public Tensor avgPool2d(long kernel, long stride) {
        return wrap(torch.avg_pool2d(n(), new long[] {kernel, kernel}, new long[] {stride, stride}, new long[] {0, 0},
                false, true, new LongOptional()));
    }

    /** Max pooling of [N, C, H, W] with a square window and stride. */
    public Tensor maxPool2d(long kernel, long stride) {
        return wrap(torch.max_pool2d(n(), new long[] {kernel, kernel}, new long[] {stride, stride}, new long[] {0, 0},
                new long[] {1, 1}, false));
    }

    /** Mean over each channel's spatial extent: [N, C, H, W] → [N, C, 1, 1]. */
    public Tensor adaptiveAvgPool2d(long size) {
        return wrap(torch.adaptive_avg_pool2d(n(), size, size));
    }

    /**
     * Fused softmax(QKᵀ/√d)·V over the last two dimensions of q, k, v [..., L, d] (PyTorch's
     * {@code F.scaled_dot_product_attention}, which picks the flash/memory-efficient CPU kernel).
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v) {
        return scaledDotProductAttention(q, k, v, false);
    }

    /**
     * {@link #scaledDotProductAttention(Tensor, Tensor, Tensor)}, where {@code causal} lets query i
     * see keys 0 … i only (a left-to-right text encoder).
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, boolean causal) {
        if (Autocast.active()) {
            // bf16 flash attention multiplies through cpublas's bf16 -> fp32 gemm, which this libtorch build
            // (OpenBLAS without sbgemm, no MKL) runs as a naive loop: 4x slower U-Net training than attention
            // in float32, which goes through sgemm. The products are small next to the convolutions around them.
            return Autocast.outside(() -> scaledDotProductAttention(q.to(DType.FLOAT32), k.to(DType.FLOAT32), v.to(DType.FLOAT32), causal));
        }
        Tensor out = wrap(causal ? torch.scaled_dot_product_attention(q.n(), k.n(), v.n(), new TensorOptional(), 0.0, true,
                new DoubleOptional(), false) : torch.scaled_dot_product_attention(q.n(), k.n(), v.n()));
        // QKᵀ: Lq·Lk·d multiply-adds per head; softmax·V: Lq·Lk·dv
        long heads = q.numel() / (q.size(-2) * q.size(-1));
        FlopCounter.countFlops(2 * heads * q.size(-2) * k.size(-2) * (q.size(-1) + v.size(-1)));
        return out;
    }

    /** Zeroes each element with probability p and rescales the rest by 1/(1−p) when {@code train}. */
    public Tensor dropout(double p, boolean train) {
        return wrap(torch.dropout(n(), p, train));
    }

    /**
     * Training-time dropout with its mask drawn from {@code g}: each element is zeroed with
     * probability p and the rest scaled by 1/(1−p). Unlike {@link #dropout(double, boolean)}, which
     * draws from libtorch's global generator, a seeded run repeats it exactly, across a resume too.
     */
    public Tensor dropout(double p, Generator g) {
        return mul(rand(g, shape()).ge(p).to(dtype())).div(1 - p);
    }

    /** Rows of {@code weight} [num, dim] picked by the integer indices in {@code this}. */
    public Tensor embedding(Tensor weight) {
        return wrap(torch.embedding(weight.n(), n()));
    }

    /** Pads the last two dimensions with zeros: left, right, top, bottom. */
    public Tensor pad2d(long left, long right, long top, long bottom) {
        return wrap(torch.constant_pad_nd(n(), new long[] {left, right, top, bottom}));
    }

    /** The k largest values along {@code dim} (descending). */
    public Tensor topk(long k, long dim) {
        return wrap(torch.topk(n(), k, dim, true, true).get0());
    }

    /** Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix. */
    public Tensor[] eigh() {
        var r = torch.linalg_eigh(n());
        return new Tensor[] {wrap(r.get0()), wrap(r.get1())};
    }

    // ------------------------------------------------------------------ normalisation

    /** Layer normalisation over the trailing dimensions {@code normalizedShape}. */
    public Tensor layerNorm(long[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        return wrap(torch.layer_norm(n(), normalizedShape, optional(weight), optional(bias), eps, false));
    }

    /** Group normalisation of [N, C, ...] into {@code groups} groups of channels. */
    public Tensor groupNorm(long groups, Tensor weight, Tensor bias, double eps) {
        return wrap(torch.group_norm(n(), groups, optional(weight), optional(bias), eps, false));
    }

    private static TensorOptional optional(Tensor x) {
        return x == null ? new TensorOptional() : new TensorOptional(x.n());
    }

    // ------------------------------------------------------------------ losses

    public Tensor mseLoss(Tensor target) {
        return wrap(torch.mse_loss(n(), target.n()));
    }

    /** Mean cross-entropy of logits [N, K] against integer class labels [N]. */
    public Tensor crossEntropy(Tensor labels) {
        return wrap(torch.cross_entropy_loss(n(), labels.n()));
    }

    // ------------------------------------------------------------------ shape

    public Tensor reshape(long... shape) {
        return wrap(n().reshape(shape));
    }

    public Tensor view(long... shape) {
        return wrap(n().view(shape));
    }

    public Tensor flatten(long startDim, long endDim) {
        return wrap(n().flatten(startDim, endDim));
    }

    public Tensor unsqueeze(long dim) {
        return wrap(n().unsqueeze(dim));
    }

    public Tensor squeeze(long dim) {
        return wrap(n().squeeze(dim));
    }

    public Tensor transpose(long a, long b) {
        return wrap(n().transpose(a, b));
    }

    /** Transpose of a 2-D tensor. */
    public Tensor t() {
        return wrap(n().t());
    }

    public Tensor permute(long... dims) {
        return wrap(n().permute(dims));
    }

    /** The elements in reverse order along each of {@code dims} (a copy): {@code flip(3)} mirrors images left to right. */
    public Tensor flip(long... dims) {
        return wrap(n().flip(dims));
    }

    public Tensor expand(long... shape) {
        return wrap(n().expand(shape));
    }

    /** Elements {@code start .. start+length−1} along {@code dim} (a view). */
    public Tensor narrow(long dim, long start, long length) {
        return wrap(n().narrow(dim, start, length));
    }

    /** Index {@code i} along {@code dim}, removing that dimension (a view). */
    public Tensor select(long dim, long i) {
        return wrap(n().select(dim, i));
    }

    public Tensor indexSelect(long dim, Tensor index) {
        return wrap(n().index_select(dim, index.n()));
    }

    public Tensor gather(long dim, Tensor index) {
        return wrap(torch.gather(n(), dim, index.n()));
    }

    /** Reshapes a per-sample [B] tensor to [B, 1, ..., 1] so it broadcasts against {@code like}. */
    public Tensor broadcastTo(Tensor like) {
        long[] s = new long[like.dim()];
        Arrays.fill(s, 1);
        s[0] = numel();
        return reshape(s);
    }

    public Tensor contiguous() {
        return wrap(n().contiguous());
    }

    public Tensor clone() {
        return wrap(n().clone());
    }

    public Tensor to(DType dtype) {
        return wrap(n().to(dtype.scalarType));
    }

    // ------------------------------------------------------------------ in place

    public Tensor copy_(Tensor src) {
        n().copy_(src.n());
        return this;
    }

    public Tensor add_(Tensor o) {
        n().add_(o.n());
        return this;
    }

    /** {@code this += alpha · o}. */
    public Tensor add_(Tensor o, double alpha) {
        n().add_(o.n(), new Scalar(alpha));
        return this;
    }

    public Tensor mul_(double v) {
        n().mul_(new Scalar(v));
        return this;
    }

    /** {@code this += v}. */
    public Tensor add_(double v) {
        n().add_(new Scalar(v));
        return this;
    }

    /** {@code this += w · (end − this)}. */
    public Tensor lerp_(Tensor end, double w) {
        n().lerp_(end.n(), new Scalar(w));
        return this;
    }

    public Tensor zero_() {
        n().zero_();
        return this;
    }

    public Tensor fill_(double v) {
        n().fill_(new Scalar(v));
        return this;
    }

    // ------------------------------------------------------------------ autograd

    /** Marks this (leaf) tensor as a trainable parameter. */
    public Tensor requiresGrad_(boolean on) {
        n().requires_grad_(on);
        return this;
    }

    public boolean requiresGrad() {
        return n().requires_grad();
    }

    /** Accumulates d(this)/d(leaves) into each leaf's {@link #grad()}; {@code this} must be a scalar. */
    public void backward() {
        n().backward();
    }

    /** The accumulated gradient, or null if none has been computed. */
    public Tensor grad() {
        org.bytedeco.pytorch.Tensor g = n().grad();
        if (g == null || !g.defined()) {
            return null;
        }
        return wrap(g);
    }

    /**
     * The vector-Jacobian product vᵀ·∂(this)/∂(input) for a {@code this} computed from
     * {@code input} (which must require grad), without touching any {@link #grad()}.
     * {@code retainGraph} keeps the graph for further products with other vectors.
     */
    public Tensor vjp(Tensor input, Tensor v, boolean retainGraph) {
        try (TensorVector outs = vector(List.of(this)); TensorVector ins = vector(List.of(input));
                TensorVector vs = vector(List.of(v)); org.bytedeco.pytorch.BoolOptional retain = new org.bytedeco.pytorch.BoolOptional(retainGraph);
                TensorVector g = torch.grad(outs, ins, vs, retain, false, false)) {
            // get() points into the vector, which is freed on return: copy the handle (shares storage).
            return wrap(new org.bytedeco.pytorch.Tensor(g.get(0)));
        }
    }

    /** A tensor sharing storage with this one but cut from the autograd graph. */
    public Tensor detach() {
        return wrap(n().detach());
    }

    // ------------------------------------------------------------------ export

    public double item() {
        return n().item().toDouble();
    }

    public float[] toFloatArray() {
        try (Scope s = Scope.open()) {
            org.bytedeco.pytorch.Tensor c = n().to(DType.FLOAT32.scalarType).contiguous();
            float[] out = new float[(int) c.numel()];
            new FloatPointer(c.data_ptr()).get(out);
            return out;
        }
    }

    public double[] toDoubleArray() {
        try (Scope s = Scope.open()) {
            org.bytedeco.pytorch.Tensor c = n().to(DType.FLOAT64.scalarType).contiguous();
            double[] out = new double[(int) c.numel()];
            new DoublePointer(c.data_ptr()).get(out);
            return out;
        }
    }

    public long[] toLongArray() {
        try (Scope s = Scope.open()) {
            org.bytedeco.pytorch.Tensor c = n().to(DType.INT64.scalarType).contiguous();
            long[] out = new long[(int) c.numel()];
            new LongPointer(c.data_ptr()).get(out);
            return out;
        }
    }

    /** The raw little-endian bytes of this tensor's elements in row-major order. */
    public byte[] toBytes() {
        try (Scope s = Scope.open()) {
            org.bytedeco.pytorch.Tensor c = n().contiguous();
            long nbytes = c.nbytes();
            if (nbytes > Integer.MAX_VALUE - 8) {
                throw new DiffusionException("tensor of " + nbytes + " bytes is too large for a Java array; stream it with copyBytesTo");
            }
            byte[] out = new byte[(int) nbytes];
            new BytePointer(c.data_ptr()).get(out);
            return out;
        }
    }

    /**
     * Gives {@code sink} the element bytes of this tensor (row-major) as direct buffers of at most
     * {@code chunk} bytes, without copying into the Java heap. Works for tensors over 2 GiB.
     */
    public void copyBytesTo(ByteSink sink, int chunk) throws java.io.IOException {
        try (Scope s = Scope.open()) {
            org.bytedeco.pytorch.Tensor c = n().contiguous();
            long total = c.nbytes();
            BytePointer base = new BytePointer(c.data_ptr());
            for (long off = 0; off < total; off += chunk) {
                long len = Math.min(chunk, total - off);
                // Rebase rather than set position: asByteBuffer() keeps the position as an int buffer
                // index, so past 2 GiB it silently returned empty buffers.
                java.nio.ByteBuffer buf = base.getPointer(off).limit(len).asByteBuffer();
                sink.accept(buf);
            }
        }
    }

    /** Receives chunks of a tensor's bytes. */
    @FunctionalInterface
    public interface ByteSink {
        void accept(java.nio.ByteBuffer chunk) throws java.io.IOException;
    }

    /** Releases the native memory now. The tensor must not be used afterwards. */
    @Override
    public void close() {
        t.close();
    }

    @Override
    public String toString() {
        if (t.isNull()) {
            return "Tensor[released]";
        }
        return "Tensor" + Arrays.toString(shape()) + " " + dtype();
    }

    // ---- added for io

    /** Hands out a tensor's bytes region by region while it is being filled; see {@link #fromChunks}. */
    @FunctionalInterface
    public interface ByteSource {
        /** A direct buffer holding exactly {@code length} bytes: the tensor's bytes at {@code offset}. */
        java.nio.ByteBuffer region(long offset, int length) throws java.io.IOException;
    }

    /**
     * A new tensor of {@code dtype} and {@code shape} whose row-major little-endian bytes are copied
     * from {@code source} in regions of at most {@code chunk} bytes, never through the Java heap.
     * Regions may be memory-mapped file slices, so tensors over 2 GiB can be filled.
     */
    public static Tensor fromChunks(DType dtype, long[] shape, int chunk, ByteSource source) throws java.io.IOException {
        if (chunk <= 0) {
            throw new IllegalArgumentException("chunk must be positive: " + chunk);
        }
        long total = numel(shape) * dtype.byteSize();
        org.bytedeco.pytorch.Tensor x = torch.empty(shape, options(dtype), null);
        if (total == 0) {
            return wrap(x); // an empty tensor has no storage address to copy into
        }
        try {
            long base = x.data_ptr().address();
            for (long off = 0; off < total; off += chunk) {
                int len = (int) Math.min(chunk, total - off);
                java.nio.ByteBuffer region = source.region(off, len);
                if (!region.isDirect() || region.remaining() != len) {
                    throw new IllegalArgumentException("ByteSource must return a direct buffer of " + len + " bytes, got " + region);
                }
                // A slice starts at the buffer's position, so its address is where the bytes begin.
                long src = new Pointer(region.slice()).address();
                long dst = base + off;
                Pointer.memcpy(new Pointer() {
                    {
                        this.address = dst;
                    }
                }, new Pointer() {
                    {
                        this.address = src;
                    }
                }, len);
            }
        } catch (java.io.IOException | RuntimeException e) {
            x.close();
            throw e;
        }
        return wrap(x);
    }
}
