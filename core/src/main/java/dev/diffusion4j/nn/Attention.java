package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Multi-head self-attention over the positions of a feature map, with diffusers' module names
 * ({@code group_norm, to_q, to_k, to_v, to_out.0}): h ← (h + to_out(softmax(QKᵀ/√d)V)) / r, with
 * Q, K, V projected from the group-normalised map, computed by the fused
 * scaled-dot-product-attention kernel (Vaswani et al. 2017; Ho et al. 2020's U-Net).
 */
public final class Attention extends Module {
    private final GroupNorm groupNorm;
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;
    private final int heads;
    private final double rescale;

    /**
     * @param groups normalisation groups, or 0 for none (diffusers' mid-block attention with scale-shift)
     */
    public Attention(int channels, int headDim, int groups, double eps, double rescale, Generator g) {
        if (headDim <= 0 || channels % headDim != 0) {
            throw new dev.diffusion4j.DiffusionException("attention: " + channels + " channels do not split into heads of " + headDim);
        }
        this.heads = channels / headDim;
        this.rescale = rescale;
        this.groupNorm = groups > 0 ? child("group_norm", new GroupNorm(groups, channels, eps, true)) : null;
        this.toQ = child("to_q", new Linear(channels, channels, g));
        this.toK = child("to_k", new Linear(channels, channels, g));
        this.toV = child("to_v", new Linear(channels, channels, g));
        this.toOut = child("to_out", new ModuleList<Linear>()).add(new Linear(channels, channels, g));
    }

    /** x: [B, C, H, W] → same shape. */
    public Tensor forward(Tensor x) {
        long[] s = x.shape();
        long b = s[0];
        long c = s[1];
        long n = s[2] * s[3];
        Tensor h = groupNorm == null ? x : groupNorm.forward(x);
        h = h.view(b, c, n).transpose(1, 2);                          // [B, HW, C]
        Tensor q = split(toQ.forward(h), b, n, c);
        Tensor k = split(toK.forward(h), b, n, c);
        Tensor v = split(toV.forward(h), b, n, c);
        Tensor a = Tensor.scaledDotProductAttention(q, k, v).transpose(1, 2).reshape(b, n, c);
        Tensor out = toOut.forward(a).transpose(1, 2).reshape(s);
        Tensor sum = out.add(x);
        return rescale == 1.0 ? sum : sum.div(rescale);
    }

    /** [B, L, C] → [B, heads, L, C/heads]. */
    private Tensor split(Tensor t, long b, long n, long c) {
        return t.view(b, n, heads, c / heads).transpose(1, 2);
    }
}
