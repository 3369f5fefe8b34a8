package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Tensor;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * A U-Net's block at one resolution on the way down (diffusers' DownBlock2D, AttnDownBlock2D,
 * CrossAttnDownBlock2D): layers × (resnet [→ attention]), then a downsampler unless it is the
 * last level; every output is pushed on the skip connections the up blocks take.
 */
public final class UNetDownBlock extends UNetBlock {
    private final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
    private final Downsample2D downsampler;

    /**
     * @param attentions the attention after each resnet, or null for none
     * @param downsampler makes the downsampler, or null at the last level
     */
    public UNetDownBlock(int layers, int in, int out, Resnets resnet, Attentions attentions, Supplier<Downsample2D> downsampler) {
        registerAttentions(attentions);
        for (int j = 0; j < layers; j++) {
            resnets.add(resnet.make(j == 0 ? in : out, out));
            addAttention(attentions, out);
        }
        this.downsampler = downsampler == null ? null : child("downsamplers", new ModuleList<Downsample2D>()).add(downsampler.get());
    }

    /** h [B, in, H, W], temb the timestep embedding, context the tokens to cross-attend to (or null). */
    public Tensor forward(Tensor h, Tensor temb, Tensor context, Deque<Tensor> skips) {
        for (int j = 0; j < resnets.size(); j++) {
            h = attend(j, resnets.get(j).forward(h, temb), context);
            skips.push(h);
        }
        if (downsampler != null) {
            h = downsampler.forward(h);
            skips.push(h);
        }
        return h;
    }
}
