package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * A feature map read as a sequence of HW tokens and run through transformer layers that
 * cross-attend to a context (the spatial transformer of Rombach et al. 2022; diffusers'
 * Transformer2DModel with a linear projection):
 * <pre>
 * h = proj_in(norm(x)) as [B, HW, C];  h ← transformer_blocks(h, context);  x + proj_out(h) as [B, C, H, W]
 * </pre>
 * proj_out starts at zero, so the block is the identity until training gives it a use.
 */
public final class Transformer2D extends Module {
    private final GroupNorm norm;
    private final Linear projIn;
    private final ModuleList<TransformerBlock> blocks;
    private final Linear projOut;

    public Transformer2D(int channels, int headDim, int contextDim, int groups, int layers, Generator g) {
        this.norm = child("norm", new GroupNorm(groups, channels, 1e-6, true));
        this.projIn = child("proj_in", new Linear(channels, channels, g));
        this.blocks = child("transformer_blocks", new ModuleList<>());
        for (int i = 0; i < layers; i++) {
            blocks.add(new TransformerBlock(channels, headDim, contextDim, false, g));
        }
        this.projOut = child("proj_out", new Linear(channels, channels, g)).zeroInit();
    }

    /** x [B, C, H, W], context [B, M, C_c] → [B, C, H, W]. */
    public Tensor forward(Tensor x, Tensor context) {
        long[] s = x.shape();
        Tensor h = projIn.forward(norm.forward(x).view(s[0], s[1], s[2] * s[3]).transpose(1, 2));
        for (TransformerBlock b : blocks.items()) {
            h = b.forward(h, context);
        }
        return x.add(projOut.forward(h).transpose(1, 2).reshape(s));
    }
}
