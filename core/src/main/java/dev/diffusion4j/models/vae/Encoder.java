package dev.diffusion4j.models.vae;

import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.DownEncoderBlock2D;
import dev.diffusion4j.nn.GroupNorm;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.List;

/**
 * Image → the mean and log-variance of the latent (2·latent channels), diffusers' {@code Encoder}:
 * conv_in, one {@code DownEncoderBlock2D} per level (resnets, then a stride-2 convolution padded
 * right and bottom on every level but the last), the mid block, GroupNorm, activation, conv_out.
 */
final class Encoder extends Module {
    private final Conv2d convIn;
    private final ModuleList<DownEncoderBlock2D> downBlocks = new ModuleList<>();
    private final MidBlock midBlock;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;
    private final AutoencoderKLConfig c;

    Encoder(AutoencoderKLConfig c, Generator g) {
        this.c = c;
        List<Integer> ch = c.blockOutChannels();
        convIn = child("conv_in", new Conv2d(c.inChannels(), ch.get(0), 3, g));
        child("down_blocks", downBlocks);
        int in = ch.get(0);
        for (int level = 0; level < ch.size(); level++) {
            int out = ch.get(level);
            downBlocks.add(new DownEncoderBlock2D(in, out, c.layersPerBlock(), c.normNumGroups(), AutoencoderKLConfig.NORM_EPS, c.actFn(),
                    level < ch.size() - 1, 0, g));
            in = out;
        }
        int last = ch.get(ch.size() - 1);
        midBlock = child("mid_block", new MidBlock(c, last, g));
        convNormOut = child("conv_norm_out", new GroupNorm(c.normNumGroups(), last, AutoencoderKLConfig.NORM_EPS, true));
        convOut = child("conv_out", new Conv2d(last, 2 * c.latentChannels(), 3, g));
    }

    /** x [B, in, H, W] → moments [B, 2·latent, H/f, W/f]. */
    Tensor forward(Tensor x) {
        Tensor h = convIn.forward(x);
        for (DownEncoderBlock2D block : downBlocks.items()) {
            h = block.forward(h);
        }
        h = midBlock.forward(h);
        return convOut.forward(c.actFn().apply(convNormOut.forward(h)));
    }
}
