package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * A pre-norm transformer layer over a sequence h [B, N, C] with diffusers' BasicTransformerBlock names:
 * <pre>
 * h ← h + attn1(norm1(h))                self-attention (causal for a left-to-right text encoder)
 * h ← h + attn2(norm2(h), context)       cross-attention, when built with a context width
 * h ← h + ff(norm3(h))                   ff.net.0.proj (C → 4C), GELU, ff.net.2 (4C → C)
 * </pre>
 */
public final class TransformerBlock extends Module {
    private final LayerNorm norm1;
    private final Attention attn1;
    private final LayerNorm norm2;
    private final Attention attn2;
    private final LayerNorm norm3;
    private final Linear ffIn;
    private final Linear ffOut;

    /**
     * @param contextDim width of the context tokens to cross-attend to, or 0 for a self-attention-only layer
     */
    public TransformerBlock(int dim, int headDim, int contextDim, boolean causal, Generator g) {
        this.norm1 = child("norm1", new LayerNorm(dim));
        this.attn1 = child("attn1", Attention.sequence(dim, dim, headDim, causal, g));
        this.norm2 = contextDim > 0 ? child("norm2", new LayerNorm(dim)) : null;
        this.attn2 = contextDim > 0 ? child("attn2", Attention.sequence(dim, contextDim, headDim, false, g)) : null;
        this.norm3 = child("norm3", new LayerNorm(dim));
        Named net = child("ff", new Named()).add("net", new Named());
        this.ffIn = net.add("0", new Named()).add("proj", new Linear(dim, 4 * dim, g));
        this.ffOut = net.add("2", new Linear(4 * dim, dim, g));
    }

    /** h [B, N, C], context [B, M, C_c] (null for a layer without cross-attention) → [B, N, C]. */
    public Tensor forward(Tensor h, Tensor context) {
        h = h.add(attn1.attend(norm1.forward(h), null));
        if (attn2 != null) {
            h = h.add(attn2.attend(norm2.forward(h), context));
        }
        return h.add(ffOut.forward(ffIn.forward(norm3.forward(h)).gelu()));
    }
}
