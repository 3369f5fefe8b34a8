package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * The DDPM U-Net residual block with diffusers' names ({@code norm1, conv1, time_emb_proj, norm2,
 * conv2, conv_shortcut}): h = conv1(act(norm1(x))); the timestep embedding is added to h
 * ("default") or applied as norm2(h)·(1 + scale) + shift ("scale_shift", Dhariwal &amp; Nichol 2021);
 * out = (shortcut(x) + conv2(dropout(act(norm2(h))))) / outputScale. With no timestep embedding
 * ({@code tembChannels} 0: an autoencoder's blocks) there is no {@code time_emb_proj}.
 */
public final class ResnetBlock2D extends Module {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final Linear timeEmbProj;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d convShortcut;
    private final boolean scaleShift;
    private final double dropout;
    private final double outputScale;
    private final Activation act;

    public ResnetBlock2D(int in, int out, int tembChannels, int groups, double eps, boolean scaleShift, double dropout,
                         double outputScale, Activation act, Generator g) {
        this.norm1 = child("norm1", new GroupNorm(groups, in, eps, true));
        this.conv1 = child("conv1", new Conv2d(in, out, 3, g));
        this.timeEmbProj = tembChannels > 0 ? child("time_emb_proj", new Linear(tembChannels, scaleShift ? 2 * out : out, g)) : null;
        this.norm2 = child("norm2", new GroupNorm(groups, out, eps, true));
        this.conv2 = child("conv2", new Conv2d(out, out, 3, g));
        this.convShortcut = in != out ? child("conv_shortcut", new Conv2d(in, out, 1, 1, 0, 1, true, g)) : null;
        this.scaleShift = scaleShift;
        this.dropout = dropout;
        this.outputScale = outputScale;
        this.act = act;
    }

    /** x: [B, in, H, W], temb: [B, tembChannels] (null without an embedding) → [B, out, H, W]. */
    public Tensor forward(Tensor x, Tensor temb) {
        Tensor h = conv1.forward(act.apply(norm1.forward(x)));
        if (timeEmbProj == null) {
            h = norm2.forward(h);
        } else if (scaleShift) {
            Tensor e = embedding(temb);
            long c = h.size(1);
            h = norm2.forward(h).mul(e.narrow(1, 0, c).add(1)).add(e.narrow(1, c, c));
        } else {
            h = norm2.forward(h.add(embedding(temb)));
        }
        h = act.apply(h);
        if (dropout > 0) {
            h = h.dropout(dropout, isTraining());
        }
        h = conv2.forward(h);
        Tensor sum = (convShortcut == null ? x : convShortcut.forward(x)).add(h);
        return outputScale == 1.0 ? sum : sum.div(outputScale);
    }

    private Tensor embedding(Tensor temb) {
        return timeEmbProj.forward(act.apply(temb)).unsqueeze(2).unsqueeze(3);
    }
}
