package dev.diffusion4j.model;

import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.nn.Attention;
import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.Downsample2D;
import dev.diffusion4j.nn.Embedding;
import dev.diffusion4j.nn.GroupNorm;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.nn.ResnetBlock2D;
import dev.diffusion4j.nn.SinusoidalEmbedding;
import dev.diffusion4j.nn.TimestepEmbedding;
import dev.diffusion4j.nn.Upsample2D;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The DDPM U-Net (Ho et al. 2020; improvements of Dhariwal &amp; Nichol 2021) as diffusers'
 * {@code UNet2DModel}, with the same module names so state-dict keys read
 * {@code down_blocks.1.resnets.0.conv1.weight}:
 *
 * <pre>
 * emb = time_embedding(sinusoid(t)) [+ class_embedding(y)]
 * h = conv_in(x);  skips = [h]
 * down_blocks: (resnet [→ attention]) × layers, each output pushed to skips; then downsample (pushed too)
 * mid_block:   resnet → attention → resnet
 * up_blocks:   (concat(h, skips.pop()) → resnet [→ attention]) × (layers + 1); then upsample
 * out = conv_out(act(conv_norm_out(h)))
 * </pre>
 */
public final class UNet2DModel extends DenoisingNetwork {
    private final UNet2DConfig config;
    private final SinusoidalEmbedding timeProj;
    private final TimestepEmbedding timeEmbedding;
    private final Embedding classEmbedding;
    private final Conv2d convIn;
    private final ModuleList<DownBlock> downBlocks;
    private final MidBlock midBlock;
    private final ModuleList<UpBlock> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;
    private final Activation act;

    public UNet2DModel(UNet2DConfig config, Generator g) {
        this.config = config;
        this.act = config.actFn();
        List<Integer> ch = config.blockOutChannels();
        int temb = config.timeEmbedDim();
        int groups = config.normNumGroups();
        boolean scaleShift = config.resnetTimeScaleShift().equals("scale_shift");
        this.timeProj = new SinusoidalEmbedding(ch.get(0), config.flipSinToCos(), config.freqShift());
        this.timeEmbedding = child("time_embedding", new TimestepEmbedding(ch.get(0), temb, g));
        this.classEmbedding = config.numClassEmbeds() == null ? null
                : child("class_embedding", new Embedding(config.numClassEmbeds(), temb, g));
        this.convIn = child("conv_in", new Conv2d(config.inChannels(), ch.get(0), 3, g));

        this.downBlocks = child("down_blocks", new ModuleList<>());
        int out = ch.get(0);
        for (int i = 0; i < ch.size(); i++) {
            int in = out;
            out = ch.get(i);
            boolean attn = config.downBlockTypes().get(i).equals(UNet2DConfig.ATTN_DOWN);
            downBlocks.add(new DownBlock(config, in, out, attn, i < ch.size() - 1, g));
        }
        int mid = ch.get(ch.size() - 1);
        // diffusers leaves the middle attention un-normalised under scale-shift unless attn_norm_num_groups says otherwise
        int attnGroups = config.attnNormNumGroups() != null ? config.attnNormNumGroups() : (scaleShift ? 0 : groups);
        this.midBlock = child("mid_block", new MidBlock(config, mid, attnGroups, g));

        this.upBlocks = child("up_blocks", new ModuleList<>());
        List<Integer> rev = new ArrayList<>(ch);
        java.util.Collections.reverse(rev);
        out = rev.get(0);
        for (int i = 0; i < rev.size(); i++) {
            int prevOut = out;
            out = rev.get(i);
            int in = rev.get(Math.min(i + 1, rev.size() - 1));
            boolean attn = config.upBlockTypes().get(i).equals(UNet2DConfig.ATTN_UP);
            upBlocks.add(new UpBlock(config, in, out, prevOut, attn, i < rev.size() - 1, g));
        }
        this.convNormOut = child("conv_norm_out", new GroupNorm(groups, ch.get(0), config.normEps(), true));
        this.convOut = child("conv_out", new Conv2d(ch.get(0), config.outChannels(), 3, g));
    }

    @Override
    public UNet2DConfig config() {
        return config;
    }

    /** x: [B, C, H, W] at the network's scale, t: [B] timesteps → the prediction [B, C, H, W]. */
    @Override
    public Tensor predict(Tensor x, Tensor t) {
        return predictWithVariance(x, t).prediction();
    }

    /**
     * A U-Net with a class embedding of num_class_embeds = K + 1 rows is conditioned on K classes,
     * the last row being the null label that condition dropout trains.
     */
    @Override
    public int numClasses() {
        return config.numClassEmbeds() == null ? 0 : config.numClassEmbeds() - 1;
    }

    @Override
    public Output predictWithVariance(Tensor x, Tensor t, Tensor labels) {
        if (labels == null) {
            return predictWithVariance(x, t);
        }
        if (numClasses() == 0) {
            throw new dev.diffusion4j.DiffusionException(NOT_CONDITIONAL);
        }
        return split(forward(x, t, labels));
    }

    /** Unconditional: the null label for a class-conditional U-Net. */
    @Override
    public Output predictWithVariance(Tensor x, Tensor t) {
        Tensor nullLabels = numClasses() > 0 ? Tensor.full(dev.diffusion4j.tensor.DType.INT64, numClasses(), x.size(0)) : null;
        return split(forward(x, t, nullLabels));
    }

    private Output split(Tensor out) {
        if (!learnsVariance()) {
            return new Output(out, null);
        }
        int c = config.inChannels();
        return new Output(out.narrow(1, 0, c), out.narrow(1, c, c));
    }

    /**
     * The raw output [B, out_channels, H, W]; {@code labels} [B] (int64 class indices) add the class
     * embedding, or null for none.
     */
    public Tensor forward(Tensor x, Tensor t, Tensor labels) {
        if (config.centerInputSample()) {
            x = x.mul(2).sub(1);
        }
        Tensor emb = timeEmbedding.forward(timeProj.forward(t.numel() == 1 && x.size(0) > 1 ? t.expand(x.size(0)) : t));
        if (labels != null) {
            if (classEmbedding == null) {
                throw new dev.diffusion4j.DiffusionException("this U-Net has no class embedding (num_class_embeds is unset)");
            }
            emb = emb.add(classEmbedding.forward(labels));
        }
        Tensor h = convIn.forward(x);
        Deque<Tensor> skips = new ArrayDeque<>();
        skips.push(h);
        for (DownBlock b : downBlocks.items()) {
            h = b.forward(h, emb, skips);
        }
        h = midBlock.forward(h, emb);
        for (UpBlock b : upBlocks.items()) {
            h = b.forward(h, emb, skips);
        }
        return convOut.forward(act.apply(convNormOut.forward(h)));
    }

    private static ResnetBlock2D resnet(UNet2DConfig c, int in, int out, double outputScale, Generator g) {
        return new ResnetBlock2D(in, out, c.timeEmbedDim(), c.normNumGroups(), c.normEps(),
                c.resnetTimeScaleShift().equals("scale_shift"), c.dropout(), outputScale, c.actFn(), g);
    }

    private static Attention attention(UNet2DConfig c, int channels, int groups, Generator g) {
        return new Attention(channels, c.attentionHeadDim() != null ? c.attentionHeadDim() : channels, groups, c.normEps(), 1.0, g);
    }

    /** DownBlock2D / AttnDownBlock2D: layers × (resnet [→ attention]), then a downsampler unless last. */
    private static final class DownBlock extends Module {
        final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
        final ModuleList<Attention> attentions;
        final Downsample2D downsampler;

        DownBlock(UNet2DConfig c, int in, int out, boolean attn, boolean downsample, Generator g) {
            attentions = attn ? child("attentions", new ModuleList<>()) : null;
            for (int j = 0; j < c.layersPerBlock(); j++) {
                resnets.add(resnet(c, j == 0 ? in : out, out, 1.0, g));
                if (attn) {
                    attentions.add(attention(c, out, c.normNumGroups(), g));
                }
            }
            downsampler = downsample ? child("downsamplers", new ModuleList<Downsample2D>())
                    .add(new Downsample2D(out, c.downsampleType().equals("conv"), c.downsamplePadding(), g)) : null;
        }

        Tensor forward(Tensor h, Tensor emb, Deque<Tensor> skips) {
            for (int j = 0; j < resnets.size(); j++) {
                h = resnets.get(j).forward(h, emb);
                if (attentions != null) {
                    h = attentions.get(j).forward(h);
                }
                skips.push(h);
            }
            if (downsampler != null) {
                h = downsampler.forward(h);
                skips.push(h);
            }
            return h;
        }
    }

    /** UpBlock2D / AttnUpBlock2D: (layers + 1) × (concat skip → resnet [→ attention]), then an upsampler unless last. */
    private static final class UpBlock extends Module {
        final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
        final ModuleList<Attention> attentions;
        final Upsample2D upsampler;

        UpBlock(UNet2DConfig c, int in, int out, int prevOut, boolean attn, boolean upsample, Generator g) {
            attentions = attn ? child("attentions", new ModuleList<>()) : null;
            int layers = c.layersPerBlock() + 1;
            for (int j = 0; j < layers; j++) {
                int skip = j == layers - 1 ? in : out;
                resnets.add(resnet(c, (j == 0 ? prevOut : out) + skip, out, 1.0, g));
                if (attn) {
                    attentions.add(attention(c, out, c.normNumGroups(), g));
                }
            }
            upsampler = upsample ? child("upsamplers", new ModuleList<Upsample2D>()).add(new Upsample2D(out, g)) : null;
        }

        Tensor forward(Tensor h, Tensor emb, Deque<Tensor> skips) {
            for (int j = 0; j < resnets.size(); j++) {
                h = resnets.get(j).forward(Tensor.cat(List.of(h, skips.pop()), 1), emb);
                if (attentions != null) {
                    h = attentions.get(j).forward(h);
                }
            }
            return upsampler == null ? h : upsampler.forward(h);
        }
    }

    /** UNetMidBlock2D: resnet → attention (when add_attention) → resnet, scaled by mid_block_scale_factor. */
    private static final class MidBlock extends Module {
        final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
        final ModuleList<Attention> attentions;

        MidBlock(UNet2DConfig c, int channels, int attnGroups, Generator g) {
            resnets.add(resnet(c, channels, channels, c.midBlockScaleFactor(), g));
            attentions = c.addAttention() ? child("attentions", new ModuleList<>()) : null;
            if (attentions != null) {
                attentions.add(attention(c, channels, attnGroups, g));
            }
            resnets.add(resnet(c, channels, channels, c.midBlockScaleFactor(), g));
        }

        Tensor forward(Tensor h, Tensor emb) {
            h = resnets.get(0).forward(h, emb);
            if (attentions != null) {
                h = attentions.get(0).forward(h);
            }
            return resnets.get(1).forward(h, emb);
        }
    }
}
