package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Multi-head self-attention over the pixels of a feature map with 1×1-conv projections, as in
 * the seed U-Net: {@code to_qkv} (no bias) to 3·heads·headDim channels, then {@code to_out}.
 * Full attention is softmax(QᵀK/√d)·V through fused scaled-dot-product attention. Linear attention
 * (Shen et al. 2021, "Efficient Attention") normalises Q over channels and K over pixels and
 * computes (K Vᵀ)ᵀ Q·d^−½, linear in the pixel count; its output is followed by GroupNorm(1).
 */
public final class ConvAttention extends Module {
    private final int heads;
    private final int headDim;
    private final boolean linear;
    private final Conv2d toQkv;
    private final Conv2d toOut;
    private final GroupNorm outNorm;

    public ConvAttention(int dim, int heads, int headDim, boolean linear, Generator g) {
        this.heads = heads;
        this.headDim = headDim;
        this.linear = linear;
        int hidden = heads * headDim;
        this.toQkv = child("to_qkv", new Conv2d(dim, 3 * hidden, 1, 1, 0, 1, false, g));
        if (linear) {
            Named out = child("to_out", new Named());
            this.toOut = out.add("0", new Conv2d(hidden, dim, 1, g));
            this.outNorm = out.add("1", new GroupNorm(1, dim));
        } else {
            this.toOut = child("to_out", new Conv2d(hidden, dim, 1, g));
            this.outNorm = null;
        }
    }

    public Tensor forward(Tensor x) {
        long b = x.size(0);
        long h = x.size(2);
        long w = x.size(3);
        long hidden = (long) heads * headDim;
        // [B, 3·hidden, H, W] → three [B, heads, headDim, H·W]
        Tensor qkv = toQkv.forward(x).reshape(b, 3, heads, headDim, h * w);
        Tensor q = qkv.select(1, 0);
        Tensor k = qkv.select(1, 1);
        Tensor v = qkv.select(1, 2);
        Tensor out;
        if (linear) {
            q = q.softmax(2).mul(1.0 / Math.sqrt(headDim));
            k = k.softmax(3);
            Tensor context = k.matmul(v.transpose(2, 3));        // [B, heads, d, e]
            out = context.transpose(2, 3).matmul(q);              // [B, heads, e, H·W]
            out = outNorm.forward(toOut.forward(out.reshape(b, hidden, h, w)));
        } else {
            Tensor o = Tensor.scaledDotProductAttention(q.transpose(2, 3), k.transpose(2, 3), v.transpose(2, 3)); // [B, heads, H·W, d]
            out = toOut.forward(o.transpose(2, 3).reshape(b, hidden, h, w));
        }
        return out;
    }
}
