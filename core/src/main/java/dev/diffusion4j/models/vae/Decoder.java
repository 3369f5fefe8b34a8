package dev.diffusion4j.models.vae;

import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.GroupNorm;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.nn.ResnetBlock2D;
import dev.diffusion4j.nn.Upsample2D;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.List;

/**
 * Latent → image, diffusers' {@code Decoder}: conv_in, the mid block, one {@code UpDecoderBlock2D}
 * per level from the widest (layers_per_block + 1 resnets, then nearest-neighbour doubling and a
 * 3×3 convolution on every level but the last), GroupNorm, activation, conv_out.
 */
final class Decoder extends Module {
    private final Conv2d convIn;
    private final MidBlock midBlock;
    private final ModuleList<UpBlock> upBlocks = new ModuleList<>();
    private final GroupNorm convNormOut;
    private final Conv2d convOut;
    private final AutoencoderKLConfig c;

    /** One resolution level: resnets, then (not on the last level) doubling. */
    static final class UpBlock extends Module {
        final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
        final ModuleList<Upsample2D> upsamplers = child("upsamplers", new ModuleList<>());
    }

    Decoder(AutoencoderKLConfig c, Generator g) {
        this.c = c;
        List<Integer> ch = c.blockOutChannels();
        int widest = ch.get(ch.size() - 1);
        convIn = child("conv_in", new Conv2d(c.latentChannels(), widest, 3, g));
        midBlock = child("mid_block", new MidBlock(c, widest, g));
        child("up_blocks", upBlocks);
        int in = widest;
        for (int i = 0; i < ch.size(); i++) {
            int out = ch.get(ch.size() - 1 - i);
            UpBlock block = upBlocks.add(new UpBlock());
            for (int j = 0; j < c.layersPerBlock() + 1; j++) {
                block.resnets.add(MidBlock.resnet(c, j == 0 ? in : out, out, g));
            }
            if (i < ch.size() - 1) {
                block.upsamplers.add(new Upsample2D(out, g));
            }
            in = out;
        }
        convNormOut = child("conv_norm_out", new GroupNorm(c.normNumGroups(), ch.get(0), AutoencoderKLConfig.NORM_EPS, true));
        convOut = child("conv_out", new Conv2d(ch.get(0), c.outChannels(), 3, g));
    }

    /** z [B, latent, h, w] → image [B, out, h·f, w·f]. */
    Tensor forward(Tensor z) {
        Tensor h = midBlock.forward(convIn.forward(z));
        for (UpBlock block : upBlocks.items()) {
            for (ResnetBlock2D r : block.resnets.items()) {
                h = r.forward(h, null);
            }
            for (Upsample2D u : block.upsamplers.items()) {
                h = u.forward(h);
            }
        }
        return convOut.forward(c.actFn().apply(convNormOut.forward(h)));
    }
}
