package dev.diffusion4j.models.vae;

import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.Downsample2D;
import dev.diffusion4j.nn.GroupNorm;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.nn.ResnetBlock2D;
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
    private final ModuleList<DownBlock> downBlocks = new ModuleList<>();
    private final MidBlock midBlock;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;
    private final AutoencoderKLConfig c;

    /** One resolution level: resnets, then (not on the last level) halving. */
    static final class DownBlock extends Module {
        final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
        final ModuleList<Downsample2D> downsamplers = child("downsamplers", new ModuleList<>());
    }

    Encoder(AutoencoderKLConfig c, Generator g) {
        this.c = c;
        List<Integer> ch = c.blockOutChannels();
        convIn = child("conv_in", new Conv2d(c.inChannels(), ch.get(0), 3, g));
        child("down_blocks", downBlocks);
        int in = ch.get(0);
        for (int level = 0; level < ch.size(); level++) {
            int out = ch.get(level);
            DownBlock block = downBlocks.add(new DownBlock());
            for (int j = 0; j < c.layersPerBlock(); j++) {
                block.resnets.add(MidBlock.resnet(c, j == 0 ? in : out, out, g));
            }
            if (level < ch.size() - 1) {
                block.downsamplers.add(new Downsample2D(out, true, 0, g));
            }
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
        for (DownBlock block : downBlocks.items()) {
            for (ResnetBlock2D r : block.resnets.items()) {
                h = r.forward(h, null);
            }
            for (Downsample2D d : block.downsamplers.items()) {
                h = d.forward(h);
            }
        }
        h = midBlock.forward(h);
        return convOut.forward(c.actFn().apply(convNormOut.forward(h)));
    }
}
