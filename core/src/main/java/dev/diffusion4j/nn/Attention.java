package dev.diffusion4j.nn;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Multi-head attention with diffusers' module names ({@code group_norm, to_q, to_k, to_v, to_out.0}),
 * computed by the fused scaled-dot-product-attention kernel (Vaswani et al. 2017):
 * out = to_out(softmax(QKᵀ/√d)·V) with Q = to_q(h) and K, V = to_k(c), to_v(c).
 *
 * <ul>
 * <li>Self-attention over the positions of a feature map, {@link #forward(Tensor)} (Ho et al. 2020's
 *     U-Net): c = h = the group-normalised map, and the block is residual, h ← (h + out) / r.</li>
 * <li>Attention over sequences, {@link #attend(Tensor, Tensor)}: queries from h [B, N, C]; keys and
 *     values from a context c [B, M, C_c] (cross-attention, Rombach et al. 2022: image features ask,
 *     text tokens answer) or from h itself, optionally causal.</li>
 * </ul>
 */
public final class Attention extends Module {
    private final GroupNorm groupNorm;
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;
    private final int heads;
    private final double rescale;
    private final boolean causal;

    /**
     * Self-attention over a feature map.
     *
     * @param groups normalisation groups, or 0 for none (diffusers' mid-block attention with scale-shift)
     */
    public Attention(int channels, int headDim, int groups, double eps, double rescale, Generator g) {
        this(channels, channels, headDim, groups, eps, rescale, false, true, g);
    }

    /** Sequence attention: queries of {@code queryDim} channels, keys and values from {@code contextDim} channels. */
    public static Attention sequence(int queryDim, int contextDim, int headDim, boolean causal, Generator g) {
        return sequence(queryDim, contextDim, headDim, causal, true, g);
    }

    /** Sequence attention whose q, k and v projections have biases only when {@code qkvBias} (Stable Diffusion's have none). */
    public static Attention sequence(int queryDim, int contextDim, int headDim, boolean causal, boolean qkvBias, Generator g) {
        return new Attention(queryDim, contextDim, headDim, 0, 0, 1.0, causal, qkvBias, g);
    }

    private Attention(int channels, int contextDim, int headDim, int groups, double eps, double rescale, boolean causal, boolean qkvBias,
                      Generator g) {
        if (headDim <= 0 || channels % headDim != 0) {
            throw new DiffusionException("attention: " + channels + " channels do not split into heads of " + headDim);
        }
        this.heads = channels / headDim;
        this.rescale = rescale;
        this.causal = causal;
        this.groupNorm = groups > 0 ? child("group_norm", new GroupNorm(groups, channels, eps, true)) : null;
        this.toQ = child("to_q", new Linear(channels, channels, qkvBias, g));
        this.toK = child("to_k", new Linear(contextDim, channels, qkvBias, g));
        this.toV = child("to_v", new Linear(contextDim, channels, qkvBias, g));
        this.toOut = child("to_out", new ModuleList<Linear>()).add(new Linear(channels, channels, g));
    }

    /** Residual self-attention over a feature map: x [B, C, H, W] → same shape. */
    public Tensor forward(Tensor x) {
        long[] s = x.shape();
        Tensor h = groupNorm == null ? x : groupNorm.forward(x);
        h = h.view(s[0], s[1], s[2] * s[3]).transpose(1, 2);                          // [B, HW, C]
        Tensor out = attend(h, null).transpose(1, 2).reshape(s);
        Tensor sum = out.add(x);
        return rescale == 1.0 ? sum : sum.div(rescale);
    }

    /** h [B, N, C] attends to {@code context} [B, M, C_c] (null: to itself) → [B, N, C], without a residual. */
    public Tensor attend(Tensor h, Tensor context) {
        Tensor c = context == null ? h : context;
        long b = h.size(0);
        long n = h.size(1);
        long ch = h.size(2);
        Tensor q = split(toQ.forward(h), b, n, ch);
        Tensor k = split(toK.forward(c), b, c.size(1), ch);
        Tensor v = split(toV.forward(c), b, c.size(1), ch);
        Tensor a = Tensor.scaledDotProductAttention(q, k, v, causal).transpose(1, 2).reshape(b, n, ch);
        return toOut.forward(a);
    }

    /** [B, L, C] → [B, heads, L, C/heads]. */
    private Tensor split(Tensor t, long b, long n, long c) {
        return t.view(b, n, heads, c / heads).transpose(1, 2);
    }
}
