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
import dev.diffusion4j.nn.Transformer2D;
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
 * emb = time_embedding(sinusoid(t)) [+ class_embedding(y)] [+ an added embedding]
 * h = conv_in(x);  skips = [h]
 * down_blocks: (resnet [→ attention]) × layers, each output pushed to skips; then downsample (pushed too)
 * mid_block:   resnet → attention → resnet
 * up_blocks:   (concat(h, skips.pop()) → resnet [→ attention]) × (layers + 1); then upsample
 * out = conv_out(act(conv_norm_out(h)))
 * </pre>
 * With {@code cross_attention_dim} set, the attention of CrossAttn blocks and of the middle block
 * is a {@link Transformer2D} that also attends to context tokens (diffusers' UNet2DConditionModel
 * blocks), which is how a text encoder's output reaches the image.
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
            downBlocks.add(new DownBlock(config, in, out, config.downBlockTypes().get(i), i < ch.size() - 1, g));
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
            upBlocks.add(new UpBlock(config, in, out, prevOut, config.upBlockTypes().get(i), i < rev.size() - 1, g));
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
        return output(forward(x, t, labels));
    }

    /** Unconditional: the null label for a class-conditional U-Net. */
    @Override
    public Output predictWithVariance(Tensor x, Tensor t) {
        return output(forward(x, t, nullCondition(x.size(0))));
    }

    /** The raw output split into the prediction and, for a learned variance, its values. */
    Output output(Tensor out) {
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
        return forward(x, t, labels, null, null);
    }

    /**
     * The raw output with the conditioning of a text-conditioned model: {@code addedEmbedding}
     * [B, time_embed_dim] joins the timestep embedding, {@code context} [B, M, cross_attention_dim]
     * is what the cross-attention blocks attend to (either may be null).
     */
    public Tensor forward(Tensor x, Tensor t, Tensor labels, Tensor addedEmbedding, Tensor context) {
        if (config.crossAttentionDim() != null && context == null) {
            throw new dev.diffusion4j.DiffusionException("this U-Net cross-attends and needs context tokens");
        }
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
        if (addedEmbedding != null) {
            emb = emb.add(addedEmbedding);
        }
        Block.Context c = new Block.Context(emb, context);
        Tensor h = convIn.forward(x);
        Deque<Tensor> skips = new ArrayDeque<>();
        skips.push(h);
        for (DownBlock b : downBlocks.items()) {
            h = b.forward(h, c, skips);
        }
        h = midBlock.forward(h, c);
        for (UpBlock b : upBlocks.items()) {
            h = b.forward(h, c, skips);
        }
        return convOut.forward(act.apply(convNormOut.forward(h)));
    }

    private static ResnetBlock2D resnet(UNet2DConfig c, int in, int out, double outputScale, Generator g) {
        return new ResnetBlock2D(in, out, c.timeEmbedDim(), c.normNumGroups(), c.normEps(),
                c.resnetTimeScaleShift().equals("scale_shift"), c.dropout(), outputScale, c.actFn(), g);
    }

    /**
     * The attention layers of a block: self-attention, cross-attention (a Transformer2D), or none.
     * Subclasses register them after their resnets and create them interleaved with the resnets,
     * which keeps diffusers' key order and the initialisation order of the weights.
     */
    private abstract static class Block extends Module {
        record Context(Tensor emb, Tensor tokens) {
        }

        private ModuleList<Attention> attentions;
        private ModuleList<Transformer2D> transformers;

        final void registerAttentions(boolean attn, boolean cross) {
            attentions = attn && !cross ? child("attentions", new ModuleList<>()) : null;
            transformers = cross ? child("attentions", new ModuleList<>()) : null;
        }

        final void addAttention(UNet2DConfig c, int channels, int groups, Generator g) {
            int headDim = c.attentionHeadDim() != null ? c.attentionHeadDim() : channels;
            if (attentions != null) {
                attentions.add(new Attention(channels, headDim, groups, c.normEps(), 1.0, g));
            } else if (transformers != null) {
                transformers.add(new Transformer2D(channels, headDim, c.crossAttentionDim(), c.normNumGroups(), 1, g));
            }
        }

        /** The j-th attention layer applied to h (h itself when the block has none). */
        final Tensor attend(int j, Tensor h, Context c) {
            if (attentions != null) {
                return attentions.get(j).forward(h);
            }
            return transformers == null ? h : transformers.get(j).forward(h, c.tokens());
        }
    }

    /** DownBlock2D / AttnDownBlock2D / CrossAttnDownBlock2D: layers × (resnet [→ attention]), then a downsampler unless last. */
    private static final class DownBlock extends Block {
        final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
        final Downsample2D downsampler;

        DownBlock(UNet2DConfig c, int in, int out, String type, boolean downsample, Generator g) {
            registerAttentions(type.equals(UNet2DConfig.ATTN_DOWN), type.equals(UNet2DConfig.CROSS_ATTN_DOWN));
            for (int j = 0; j < c.layersPerBlock(); j++) {
                resnets.add(resnet(c, j == 0 ? in : out, out, 1.0, g));
                addAttention(c, out, c.normNumGroups(), g);
            }
            downsampler = downsample ? child("downsamplers", new ModuleList<Downsample2D>())
                    .add(new Downsample2D(out, c.downsampleType().equals("conv"), c.downsamplePadding(), g)) : null;
        }

        Tensor forward(Tensor h, Context c, Deque<Tensor> skips) {
            for (int j = 0; j < resnets.size(); j++) {
                h = attend(j, resnets.get(j).forward(h, c.emb()), c);
                skips.push(h);
            }
            if (downsampler != null) {
                h = downsampler.forward(h);
                skips.push(h);
            }
            return h;
        }
    }

    /** UpBlock2D / AttnUpBlock2D / CrossAttnUpBlock2D: (layers + 1) × (concat skip → resnet [→ attention]), then an upsampler unless last. */
    private static final class UpBlock extends Block {
        final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());
        final Upsample2D upsampler;

        UpBlock(UNet2DConfig c, int in, int out, int prevOut, String type, boolean upsample, Generator g) {
            registerAttentions(type.equals(UNet2DConfig.ATTN_UP), type.equals(UNet2DConfig.CROSS_ATTN_UP));
            int layers = c.layersPerBlock() + 1;
            for (int j = 0; j < layers; j++) {
                int skip = j == layers - 1 ? in : out;
                resnets.add(resnet(c, (j == 0 ? prevOut : out) + skip, out, 1.0, g));
                addAttention(c, out, c.normNumGroups(), g);
            }
            upsampler = upsample ? child("upsamplers", new ModuleList<Upsample2D>()).add(new Upsample2D(out, g)) : null;
        }

        Tensor forward(Tensor h, Context c, Deque<Tensor> skips) {
            for (int j = 0; j < resnets.size(); j++) {
                h = attend(j, resnets.get(j).forward(Tensor.cat(List.of(h, skips.pop()), 1), c.emb()), c);
            }
            return upsampler == null ? h : upsampler.forward(h);
        }
    }

    /**
     * UNetMidBlock2D (UNetMidBlock2DCrossAttn with cross_attention_dim): resnet → attention (when
     * add_attention) → resnet, scaled by mid_block_scale_factor.
     */
    private static final class MidBlock extends Block {
        final ModuleList<ResnetBlock2D> resnets = child("resnets", new ModuleList<>());

        MidBlock(UNet2DConfig c, int channels, int attnGroups, Generator g) {
            resnets.add(resnet(c, channels, channels, c.midBlockScaleFactor(), g));
            registerAttentions(c.addAttention(), c.crossAttentionDim() != null);
            addAttention(c, channels, attnGroups, g);
            resnets.add(resnet(c, channels, channels, c.midBlockScaleFactor(), g));
        }

        Tensor forward(Tensor h, Context c) {
            return resnets.get(1).forward(attend(0, resnets.get(0).forward(h, c.emb()), c), c.emb());
        }
    }
}
