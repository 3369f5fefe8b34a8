package dev.diffusion4j.models.vae;

import dev.diffusion4j.nn.Attention;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.nn.ResnetBlock2D;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * The autoencoder's bottleneck at the lowest resolution, diffusers' {@code UNetMidBlock2D} without a
 * timestep: resnet, single-head self-attention over all positions (optional), resnet.
 */
final class MidBlock extends Module {
    private final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
    private final ModuleList<Attention> attentions = child("attentions", new ModuleList<>());

    MidBlock(AutoencoderKLConfig c, int channels, Generator g) {
        resnets.add(resnet(c, channels, channels, g));
        if (c.midBlockAddAttention()) {
            // diffusers sets attention_head_dim to the channel count: one head
            attentions.add(new Attention(channels, channels, c.normNumGroups(), AutoencoderKLConfig.NORM_EPS, 1.0, g));
        }
        resnets.add(resnet(c, channels, channels, g));
    }

    static ResnetBlock2D resnet(AutoencoderKLConfig c, int in, int out, Generator g) {
        return new ResnetBlock2D(in, out, 0, c.normNumGroups(), AutoencoderKLConfig.NORM_EPS, false, 0, 1.0, c.actFn(), g);
    }

    Tensor forward(Tensor x) {
        Tensor h = resnets.get(0).forward(x, null);
        if (attentions.size() > 0) {
            h = attentions.get(0).forward(h);
        }
        return resnets.get(1).forward(h, null);
    }
}
