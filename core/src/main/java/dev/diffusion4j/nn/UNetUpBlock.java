package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Tensor;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/**
 * A U-Net's block at one resolution on the way up (diffusers' UpBlock2D, AttnUpBlock2D,
 * CrossAttnUpBlock2D): layers × (concat a skip → resnet [→ attention]), one layer more than the
 * down block at its level, then an upsampler to the size of the next skip unless it is the last level.
 */
public final class UNetUpBlock extends UNetBlock {
    private final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
    private final Upsample2D upsampler;

    /**
     * @param in the width of the last skip the block takes: the next finer level's downsampled map
     *           (conv_in's output at the finest level)
     * @param prevOut the width of what comes up from the coarser level
     * @param attentions the attention after each resnet, or null for none
     * @param upsampler makes the upsampler, or null at the last level
     */
    public UNetUpBlock(int layers, int in, int out, int prevOut, Resnets resnet, Attentions attentions, Supplier<Upsample2D> upsampler) {
        registerAttentions(attentions);
        for (int j = 0; j < layers; j++) {
            int skip = j == layers - 1 ? in : out;
            resnets.add(resnet.make((j == 0 ? prevOut : out) + skip, out));
            addAttention(attentions, out);
        }
        this.upsampler = upsampler == null ? null : child("upsamplers", new ModuleList<Upsample2D>()).add(upsampler.get());
    }

    /** h [B, prevOut, H, W]; pops one skip per resnet, then upsamples to the size of the skip on top. */
    public Tensor forward(Tensor h, Tensor temb, Tensor context, Deque<Tensor> skips) {
        for (int j = 0; j < resnets.size(); j++) {
            h = attend(j, resnets.get(j).forward(Tensor.cat(List.of(h, skips.pop()), 1), temb), context);
        }
        if (upsampler == null) {
            return h;
        }
        Tensor next = skips.peek();
        return upsampler.forward(h, next.size(2), next.size(3));
    }
}
