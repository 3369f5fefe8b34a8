package dev.diffusion4j.model;

import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.nn.Attention;
import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.Downsample2D;
import dev.diffusion4j.nn.Embedding;
import dev.diffusion4j.nn.GroupNorm;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.nn.ResnetBlock2D;
import dev.diffusion4j.nn.SinusoidalEmbedding;
import dev.diffusion4j.nn.TimestepEmbedding;
import dev.diffusion4j.nn.Transformer2D;
import dev.diffusion4j.nn.UNetBlock;
import dev.diffusion4j.nn.UNetDownBlock;
import dev.diffusion4j.nn.UNetMidBlock;
import dev.diffusion4j.nn.UNetUpBlock;
import dev.diffusion4j.nn.Upsample2D;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

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
 * blocks, in the project's own layout), which is how a text encoder's output reaches the image.
 * {@link dev.diffusion4j.models.unet.UNet2DConditionModel} is the one that loads Stable Diffusion's.
 */
public final class UNet2DModel extends DenoisingNetwork {
    private final UNet2DConfig config;
    private final SinusoidalEmbedding timeProj;
    private final TimestepEmbedding timeEmbedding;
    private final Embedding classEmbedding;
    private final Conv2d convIn;
    private final ModuleList<UNetDownBlock> downBlocks;
    private final UNetMidBlock midBlock;
    private final ModuleList<UNetUpBlock> upBlocks;
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
            String type = config.downBlockTypes().get(i);
            int width = out;
            Supplier<Downsample2D> downsampler = i < ch.size() - 1
                    ? () -> new Downsample2D(width, config.downsampleType().equals("conv"), config.downsamplePadding(), g) : null;
            downBlocks.add(new UNetDownBlock(config.layersPerBlock(), in, out, resnets(config, 1.0, g),
                    attentions(config, type.equals(UNet2DConfig.ATTN_DOWN), type.equals(UNet2DConfig.CROSS_ATTN_DOWN), groups, g), downsampler));
        }
        int mid = ch.get(ch.size() - 1);
        // diffusers leaves the middle attention un-normalised under scale-shift unless attn_norm_num_groups says otherwise
        int attnGroups = config.attnNormNumGroups() != null ? config.attnNormNumGroups() : (scaleShift ? 0 : groups);
        this.midBlock = child("mid_block", new UNetMidBlock(mid, resnets(config, config.midBlockScaleFactor(), g),
                attentions(config, config.addAttention(), config.crossAttentionDim() != null, attnGroups, g)));

        this.upBlocks = child("up_blocks", new ModuleList<>());
        List<Integer> rev = new ArrayList<>(ch);
        java.util.Collections.reverse(rev);
        out = rev.get(0);
        for (int i = 0; i < rev.size(); i++) {
            int prevOut = out;
            out = rev.get(i);
            int in = rev.get(Math.min(i + 1, rev.size() - 1));
            String type = config.upBlockTypes().get(i);
            int width = out;
            Supplier<Upsample2D> upsampler = i < rev.size() - 1 ? () -> new Upsample2D(width, g) : null;
            upBlocks.add(new UNetUpBlock(config.layersPerBlock() + 1, in, out, prevOut, resnets(config, 1.0, g),
                    attentions(config, type.equals(UNet2DConfig.ATTN_UP), type.equals(UNet2DConfig.CROSS_ATTN_UP), groups, g), upsampler));
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
        Tensor h = UNetBlock.run(convIn.forward(x), emb, context, downBlocks.items(), midBlock, upBlocks.items());
        return convOut.forward(act.apply(convNormOut.forward(h)));
    }

    private static UNetBlock.Resnets resnets(UNet2DConfig c, double outputScale, Generator g) {
        return (in, out) -> new ResnetBlock2D(in, out, c.timeEmbedDim(), c.normNumGroups(), c.normEps(),
                c.resnetTimeScaleShift().equals("scale_shift"), c.dropout(), outputScale, c.actFn(), g);
    }

    /** The attention after each resnet of a block: self-attention, cross-attention (a Transformer2D), or none. */
    private static UNetBlock.Attentions attentions(UNet2DConfig c, boolean self, boolean cross, int groups, Generator g) {
        if (cross) {
            return new UNetBlock.CrossAttention(channels -> new Transformer2D(channels, headDim(c, channels), c.crossAttentionDim(),
                    c.normNumGroups(), 1, g));
        }
        return self ? new UNetBlock.SelfAttention(channels -> new Attention(channels, headDim(c, channels), groups, c.normEps(), 1.0, g))
                : null;
    }

    private static int headDim(UNet2DConfig c, int channels) {
        return c.attentionHeadDim() != null ? c.attentionHeadDim() : channels;
    }
}
