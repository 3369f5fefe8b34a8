package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * One resolution level of an image encoder, diffusers' {@code DownEncoderBlock2D}: {@code resnets}
 * (residual blocks without a timestep embedding, the first one from {@code in} to {@code out}
 * channels), then, unless it is the last level, {@code downsamplers.0}, a stride-2 convolution.
 */
public final class DownEncoderBlock2D extends Module {
    private final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
    private final ModuleList<Downsample2D> downsamplers = child("downsamplers", new ModuleList<>());

    /** @param downsamplePadding 1, or 0 to pad right and bottom by one first (diffusers' autoencoder) */
    public DownEncoderBlock2D(int in, int out, int layers, int groups, double eps, Activation act, boolean addDownsample,
                              int downsamplePadding, Generator g) {
        for (int j = 0; j < layers; j++) {
            resnets.add(new ResnetBlock2D(j == 0 ? in : out, out, 0, groups, eps, false, 0, 1.0, act, g));
        }
        if (addDownsample) {
            downsamplers.add(new Downsample2D(out, true, downsamplePadding, g));
        }
    }

    /** x [B, in, H, W] → [B, out, H, W], or [B, out, ⌈H/2⌉, ⌈W/2⌉] with the downsampler. */
    public Tensor forward(Tensor x) {
        Tensor h = x;
        for (ResnetBlock2D r : resnets.items()) {
            h = r.forward(h, null);
        }
        for (Downsample2D d : downsamplers.items()) {
            h = d.forward(h);
        }
        return h;
    }
}
