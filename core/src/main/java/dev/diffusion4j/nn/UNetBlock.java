package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.IntFunction;

/**
 * What the blocks of a U-Net share (diffusers' unet_2d_blocks): resnets made by the U-Net that
 * owns them, each followed by an attention layer or by none. The attention layers are registered
 * under {@code attentions} after the resnets and created interleaved with them, which keeps
 * diffusers' keys and the order in which a generator initialises the weights.
 */
public abstract sealed class UNetBlock extends Module permits UNetDownBlock, UNetUpBlock, UNetMidBlock {

    /** Makes a block's resnet from {@code in} to {@code out} channels. */
    @FunctionalInterface
    public interface Resnets {
        ResnetBlock2D make(int in, int out);
    }

    /** Which attention layer follows each resnet of a block, made for the block's width. */
    public sealed interface Attentions permits SelfAttention, CrossAttention {
    }

    /** Self-attention over the feature map (diffusers' AttnDownBlock2D, AttnUpBlock2D, UNetMidBlock2D). */
    public record SelfAttention(IntFunction<Attention> make) implements Attentions {
    }

    /**
     * A spatial transformer that also attends to context tokens (CrossAttnDownBlock2D,
     * CrossAttnUpBlock2D, UNetMidBlock2DCrossAttn).
     */
    public record CrossAttention(IntFunction<Transformer2D> make) implements Attentions {
    }

    private ModuleList<Attention> selfAttentions;
    private ModuleList<Transformer2D> transformers;

    UNetBlock() {
    }

    /**
     * Runs {@code h}, conv_in's output, down a U-Net, through its middle and back up: every down
     * block pushes its outputs on the skips (h itself first), every up block pops those of its level.
     */
    public static Tensor run(Tensor h, Tensor temb, Tensor context, List<UNetDownBlock> down, UNetMidBlock mid, List<UNetUpBlock> up) {
        Deque<Tensor> skips = new ArrayDeque<>();
        skips.push(h);
        for (UNetDownBlock block : down) {
            h = block.forward(h, temb, context, skips);
        }
        h = mid.forward(h, temb, context);
        for (UNetUpBlock block : up) {
            h = block.forward(h, temb, context, skips);
        }
        return h;
    }

    /** Registers the block's attention layers (none when {@code attentions} is null); call after registering the resnets. */
    final void registerAttentions(Attentions attentions) {
        if (attentions instanceof SelfAttention) {
            selfAttentions = child("attentions", new ModuleList<>());
        } else if (attentions instanceof CrossAttention) {
            transformers = child("attentions", new ModuleList<>());
        }
    }

    /** Adds the attention layer that follows the resnet just made, of {@code channels} (none when {@code attentions} is null). */
    final void addAttention(Attentions attentions, int channels) {
        if (attentions instanceof SelfAttention a) {
            selfAttentions.add(a.make().apply(channels));
        } else if (attentions instanceof CrossAttention a) {
            transformers.add(a.make().apply(channels));
        }
    }

    /** The j-th attention layer applied to h (h itself when the block has none). */
    final Tensor attend(int j, Tensor h, Tensor context) {
        if (selfAttentions != null) {
            return selfAttentions.get(j).forward(h);
        }
        return transformers == null ? h : transformers.get(j).forward(h, context);
    }
}
