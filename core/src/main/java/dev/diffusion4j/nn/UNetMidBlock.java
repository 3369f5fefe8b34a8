package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Tensor;

/**
 * A U-Net's middle block at the coarsest resolution (diffusers' UNetMidBlock2D,
 * UNetMidBlock2DCrossAttn): resnet → attention → resnet.
 */
public final class UNetMidBlock extends UNetBlock {
    private final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());

    /** @param attentions the attention between the resnets, or null for none */
    public UNetMidBlock(int channels, Resnets resnet, Attentions attentions) {
        resnets.add(resnet.make(channels, channels));
        registerAttentions(attentions);
        addAttention(attentions, channels);
        resnets.add(resnet.make(channels, channels));
    }

    public Tensor forward(Tensor h, Tensor temb, Tensor context) {
        return resnets.get(1).forward(attend(0, resnets.get(0).forward(h, temb), context), temb);
    }
}
