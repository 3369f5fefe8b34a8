package dev.diffusion4j.nn;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * A feature map read as a sequence of HW tokens and run through transformer layers that
 * cross-attend to a context (the spatial transformer of Rombach et al. 2022; diffusers'
 * Transformer2DModel):
 * <pre>
 * h = proj_in(norm(x)) as [B, HW, C];  h ← transformer_blocks(h, context);  x + proj_out(h) as [B, C, H, W]
 * </pre>
 * The projections are linear layers, or 1×1 convolutions (the same map, with weights shaped
 * [C, C, 1, 1]) in Stable Diffusion 1.x's U-Net.
 */
public final class Transformer2D extends Module {
    private final GroupNorm norm;
    private final Linear projIn;
    private final Conv2d projInConv;
    private final ModuleList<TransformerBlock> blocks;
    private final Linear projOut;
    private final Conv2d projOutConv;

    /**
     * The project's own layout: linear projections and {@link TransformerBlock.Layout#GELU GELU}
     * layers. proj_out starts at zero, so the block is the identity until training gives it a use.
     */
    public Transformer2D(int channels, int headDim, int contextDim, int groups, int layers, Generator g) {
        this(channels, headDim, contextDim, groups, layers, true, TransformerBlock.Layout.GELU, g);
        projOut.zeroInit();
    }

    private Transformer2D(int channels, int headDim, int contextDim, int groups, int layers, boolean linearProjection,
                          TransformerBlock.Layout layout, Generator g) {
        this.norm = child("norm", new GroupNorm(groups, channels, 1e-6, true));
        this.projIn = linearProjection ? child("proj_in", new Linear(channels, channels, g)) : null;
        this.projInConv = linearProjection ? null : child("proj_in", new Conv2d(channels, channels, 1, g));
        this.blocks = child("transformer_blocks", new ModuleList<>());
        for (int i = 0; i < layers; i++) {
            blocks.add(new TransformerBlock(channels, headDim, contextDim, false, layout, g));
        }
        this.projOut = linearProjection ? child("proj_out", new Linear(channels, channels, g)) : null;
        this.projOutConv = linearProjection ? null : child("proj_out", new Conv2d(channels, channels, 1, g));
    }

    /**
     * Stable Diffusion's spatial transformer, as diffusers' UNet2DConditionModel builds it: {@code heads}
     * heads of channels/heads each, {@link TransformerBlock.Layout#GEGLU GEGLU} layers, and 1×1-convolution
     * projections, or linear ones with {@code linearProjection} (SD 2.x's use_linear_projection).
     */
    public static Transformer2D stableDiffusion(int channels, int heads, int contextDim, int groups, int layers, boolean linearProjection,
                                                Generator g) {
        if (heads <= 0 || channels % heads != 0) {
            throw new DiffusionException("spatial transformer: " + channels + " channels do not split into " + heads + " heads");
        }
        return new Transformer2D(channels, channels / heads, contextDim, groups, layers, linearProjection, TransformerBlock.Layout.GEGLU, g);
    }

    /** x [B, C, H, W], context [B, M, C_c] → [B, C, H, W]. */
    public Tensor forward(Tensor x, Tensor context) {
        long[] s = x.shape();
        Tensor normed = norm.forward(x);
        Tensor h = projIn != null ? projIn.forward(tokens(normed)) : tokens(projInConv.forward(normed));
        for (TransformerBlock b : blocks.items()) {
            h = b.forward(h, context);
        }
        return x.add(projOut != null ? map(projOut.forward(h), s) : projOutConv.forward(map(h, s)));
    }

    /** [B, C, H, W] → [B, HW, C]. */
    private static Tensor tokens(Tensor x) {
        return x.flatten(2, 3).transpose(1, 2);
    }

    /** [B, HW, C] → [B, C, H, W] of {@code shape}. */
    private static Tensor map(Tensor h, long[] shape) {
        return h.transpose(1, 2).reshape(shape);
    }
}
