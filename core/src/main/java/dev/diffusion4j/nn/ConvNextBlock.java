package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * The ConvNeXt block of the seed U-Net (after Liu et al. 2022, "A ConvNet for the 2020s"): a 7×7
 * depthwise conv, plus the projected timestep embedding, then GroupNorm(1) → 3×3 conv widening
 * {@code mult} times → GELU → GroupNorm(1) → 3×3 conv, added to the (1×1-projected) input.
 * Parameter names follow the seed: {@code ds_conv}, {@code mlp.1}, {@code net.0/1/3/4}, {@code res_conv}.
 */
public final class ConvNextBlock extends Module {
    private final Linear timeProj;
    private final Conv2d dsConv;
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d resConv;

    /** {@code timeDim} null for a block without timestep input. */
    public ConvNextBlock(int in, int out, Integer timeDim, int mult, Generator g) {
        this.timeProj = timeDim == null ? null : child("mlp", new Named()).add("1", new Linear(timeDim, in, g));
        this.dsConv = child("ds_conv", new Conv2d(in, in, 7, 1, 3, in, true, g));
        Named net = child("net", new Named());
        this.norm1 = net.add("0", new GroupNorm(1, in));
        this.conv1 = net.add("1", new Conv2d(in, out * mult, 3, g));
        this.norm2 = net.add("3", new GroupNorm(1, out * mult));
        this.conv2 = net.add("4", new Conv2d(out * mult, out, 3, g));
        this.resConv = in == out ? null : child("res_conv", new Conv2d(in, out, 1, g));
    }

    /** x [B, in, H, W], emb [B, timeDim] (ignored without a timestep input) → [B, out, H, W]. */
    public Tensor forward(Tensor x, Tensor emb) {
        Tensor h = dsConv.forward(x);
        if (timeProj != null) {
            h = h.add(timeProj.forward(emb.gelu()).unsqueeze(2).unsqueeze(3));
        }
        h = conv2.forward(norm2.forward(conv1.forward(norm1.forward(h)).gelu()));
        return h.add(resConv == null ? x : resConv.forward(x));
    }
}
