package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * A pre-norm transformer layer over a sequence h [B, N, C] with diffusers' BasicTransformerBlock names:
 * <pre>
 * h ← h + attn1(norm1(h))                self-attention (causal for a left-to-right text encoder)
 * h ← h + attn2(norm2(h), context)       cross-attention, when built with a context width
 * h ← h + ff(norm3(h))                   ff.net.0.proj, an activation, ff.net.2 (4C → C)
 * </pre>
 * The feed-forward and the attention projections follow one of two {@link Layout layouts}.
 */
public final class TransformerBlock extends Module {
    /** The feed-forward and the q, k, v projections of a layer. */
    public enum Layout {
        /** ff.net.0.proj C → 4C, then GELU; q, k and v with biases: the project's own text encoder and text U-Net. */
        GELU,
        /**
         * ff.net.0.proj C → 8C split into halves [a ‖ b], then a ⊙ GELU(b) (GEGLU, Shazeer 2020); q, k and v
         * without biases: Stable Diffusion's layer (the defaults of diffusers' BasicTransformerBlock).
         */
        GEGLU
    }

    private final LayerNorm norm1;
    private final Attention attn1;
    private final LayerNorm norm2;
    private final Attention attn2;
    private final LayerNorm norm3;
    private final Linear ffIn;
    private final Linear ffOut;
    private final Layout layout;

    /** A layer of the {@link Layout#GELU GELU} layout. */
    public TransformerBlock(int dim, int headDim, int contextDim, boolean causal, Generator g) {
        this(dim, headDim, contextDim, causal, Layout.GELU, g);
    }

    /**
     * @param contextDim width of the context tokens to cross-attend to, or 0 for a self-attention-only layer
     */
    public TransformerBlock(int dim, int headDim, int contextDim, boolean causal, Layout layout, Generator g) {
        boolean qkvBias = layout == Layout.GELU;
        this.layout = layout;
        this.norm1 = child("norm1", new LayerNorm(dim));
        this.attn1 = child("attn1", Attention.sequence(dim, dim, headDim, causal, qkvBias, g));
        this.norm2 = contextDim > 0 ? child("norm2", new LayerNorm(dim)) : null;
        this.attn2 = contextDim > 0 ? child("attn2", Attention.sequence(dim, contextDim, headDim, false, qkvBias, g)) : null;
        this.norm3 = child("norm3", new LayerNorm(dim));
        Named net = child("ff", new Named()).add("net", new Named());
        this.ffIn = net.add("0", new Named()).add("proj", new Linear(dim, (layout == Layout.GEGLU ? 8 : 4) * dim, g));
        this.ffOut = net.add("2", new Linear(4 * dim, dim, g));
    }

    /** h [B, N, C], context [B, M, C_c] (null for a layer without cross-attention) → [B, N, C]. */
    public Tensor forward(Tensor h, Tensor context) {
        h = h.add(attn1.attend(norm1.forward(h), null));
        if (attn2 != null) {
            h = h.add(attn2.attend(norm2.forward(h), context));
        }
        return h.add(ffOut.forward(activation(ffIn.forward(norm3.forward(h)))));
    }

    private Tensor activation(Tensor p) {
        if (layout == Layout.GELU) {
            return p.gelu();
        }
        int last = p.dim() - 1;
        long half = p.size(last) / 2;
        return p.narrow(last, 0, half).mul(p.narrow(last, half, half).gelu());
    }
}
