package dev.diffusion4j.models.unet;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.Downsample2D;
import dev.diffusion4j.nn.GroupNorm;
import dev.diffusion4j.nn.Init;
import dev.diffusion4j.nn.Module;
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
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The text-conditioned U-Net of Stable Diffusion 1.x and 2.x (Rombach et al. 2022) as diffusers'
 * {@code UNet2DConditionModel}, with its module names, so the weights of a pipeline's {@code unet/}
 * folder load by key ({@code down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight}):
 *
 * <pre>
 * emb = time_embedding(sinusoid(t));  h = conv_in(x);  skips = [h]
 * down_blocks: (resnet [→ spatial transformer over h and the context]) × layers_per_block, each output
 *              pushed to skips; then a downsampler (pushed too)
 * mid_block:   resnet → spatial transformer → resnet
 * up_blocks:   (concat(h, skips.pop()) → resnet [→ spatial transformer]) × (layers_per_block + 1); then
 *              an upsampler to the size of the next skip
 * out = conv_out(silu(conv_norm_out(h)))
 * </pre>
 * The context is the text encoder's per-token features ({@code encoder_hidden_states}). With fixed
 * context tokens the U-Net is a {@link dev.diffusion4j.model.NoisePredictor}, {@code (x, t) ->
 * unet.forward(x, t, context)}, which {@link dev.diffusion4j.model.DiscreteDenoiser} makes the
 * denoiser every sampler takes.
 */
public final class UNet2DConditionModel extends Module {
    private final UNet2DConditionConfig config;
    private final SinusoidalEmbedding timeProj;
    private final TimestepEmbedding timeEmbedding;
    /** SDXL's added conditioning (null for SD 1.x and 2.x): a sinusoid per size/crop number, and the MLP of them and the pooled text. */
    private final SinusoidalEmbedding addTimeProj;
    private final TimestepEmbedding addEmbedding;
    private final Conv2d convIn;
    private final ModuleList<UNetDownBlock> downBlocks;
    private final UNetMidBlock midBlock;
    private final ModuleList<UNetUpBlock> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    public UNet2DConditionModel(UNet2DConditionConfig config, Generator g) {
        this.config = config;
        List<Integer> ch = config.blockOutChannels();
        int levels = ch.size();
        this.convIn = child("conv_in", new Conv2d(config.inChannels(), ch.get(0), 3, g));
        this.timeProj = new SinusoidalEmbedding(ch.get(0), config.flipSinToCos(), config.freqShift());
        this.timeEmbedding = child("time_embedding", new TimestepEmbedding(ch.get(0), config.timeEmbedDim(), g));
        UNet2DConditionConfig.TextTime textTime = config.textTime();
        this.addTimeProj = textTime == null ? null : new SinusoidalEmbedding(textTime.timeEmbedDim(), config.flipSinToCos(), config.freqShift());
        this.addEmbedding = textTime == null ? null : child("add_embedding", new TimestepEmbedding(textTime.inputDim(), config.timeEmbedDim(), g));

        this.downBlocks = child("down_blocks", new ModuleList<>());
        for (int i = 0; i < levels; i++) {
            int out = ch.get(i);
            Supplier<Downsample2D> downsampler = i < levels - 1 ? () -> new Downsample2D(out, true, config.downsamplePadding(), g) : null;
            boolean cross = config.downBlockTypes().get(i).equals(UNet2DConditionConfig.CROSS_ATTN_DOWN);
            downBlocks.add(new UNetDownBlock(config.layersPerBlock(), ch.get(Math.max(i - 1, 0)), out, resnets(config, 1.0, g),
                    cross ? transformers(config, i, g) : null, downsampler));
        }
        this.midBlock = child("mid_block", new UNetMidBlock(ch.get(levels - 1), resnets(config, config.midBlockScaleFactor(), g),
                transformers(config, levels - 1, g)));

        this.upBlocks = child("up_blocks", new ModuleList<>());
        for (int i = 0; i < levels; i++) {
            int level = levels - 1 - i;                       // up block i works at the resolution of down block `level`
            int out = ch.get(level);
            Supplier<Upsample2D> upsampler = level > 0 ? () -> new Upsample2D(out, g) : null;
            boolean cross = config.upBlockTypes().get(i).equals(UNet2DConditionConfig.CROSS_ATTN_UP);
            int fromBelow = ch.get(Math.min(level + 1, levels - 1));
            int lastSkip = ch.get(Math.max(level - 1, 0));
            upBlocks.add(new UNetUpBlock(config.layersPerBlock() + 1, lastSkip, out, fromBelow, resnets(config, 1.0, g),
                    cross ? transformers(config, level, g) : null, upsampler));
        }
        this.convNormOut = child("conv_norm_out", new GroupNorm(config.normNumGroups(), ch.get(0), config.normEps(), true));
        this.convOut = child("conv_out", new Conv2d(ch.get(0), config.outChannels(), 3, g));
    }

    private static UNetBlock.Resnets resnets(UNet2DConditionConfig c, double outputScale, Generator g) {
        return (in, out) -> new ResnetBlock2D(in, out, c.timeEmbedDim(), c.normNumGroups(), c.normEps(), false, 0, outputScale,
                Activation.SILU, g);
    }

    /** The spatial transformers of the blocks at {@code level}, with that level's head count. */
    private static UNetBlock.Attentions transformers(UNet2DConditionConfig c, int level, Generator g) {
        return new UNetBlock.CrossAttention(channels -> Transformer2D.stableDiffusion(channels, c.attentionHeads().get(level),
                c.crossAttentionDim(), c.normNumGroups(), c.transformerLayersPerBlock().get(level), c.useLinearProjection(), g));
    }

    public UNet2DConditionConfig config() {
        return config;
    }

    /**
     * Reads a diffusers {@link ModelFolder model folder}: the {@code unet/} of a Stable Diffusion
     * 1.x / 2.x pipeline folder, or one {@link #save} wrote; weights of any float dtype load as
     * float32. A missing, extra or misshapen weight is an error that names it.
     */
    public static UNet2DConditionModel load(Path folder) {
        UNet2DConditionModel unet = new UNet2DConditionModel(UNet2DConditionConfig.fromConfig(ModelFolder.readConfig(folder)),
                Init.FOR_LOADING);
        ModelFolder.readWeights(folder, ModelFolder.weightsFile(folder, ModelFolder.DIFFUSERS_WEIGHTS), "a " + UNet2DConditionConfig.CLASS_NAME,
                " (safetensors: pickled .bin files are never read)", unet::loadStateDict);
        return unet;
    }

    /** Writes {@code folder} in diffusers' layout, the weights in float32. */
    public void save(Path folder) {
        ModelFolder.write(folder, config.toConfig(), ModelFolder.DIFFUSERS_WEIGHTS, stateDict());
    }

    /**
     * The prediction (ε for Stable Diffusion) for latents {@code sample} [B, in_channels, H, W] at
     * {@code timestep} [B] (or [1] for the whole batch; diffusers' 0 … 999 scale, fractions allowed)
     * under {@code encoderHiddenStates} [B or 1, L, cross_attention_dim] → [B, out_channels, H, W].
     * H and W need not be multiples of the downsampling factor: the upsamplers meet each skip's size.
     */
    public Tensor forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates) {
        return forward(sample, timestep, encoderHiddenStates, null, null);
    }

    /**
     * {@link #forward(Tensor, Tensor, Tensor)} with SDXL's added conditioning: the pooled text
     * embedding {@code textEmbeds} [B or 1, P] and the six numbers {@code timeIds} [B or 1, 6]
     * (original height and width, crop top and left, target height and width), each through a
     * sinusoid, concatenated after the text and mapped by {@code add_embedding} onto the timestep
     * embedding. Both null for U-Nets without it.
     */
    public Tensor forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Tensor textEmbeds, Tensor timeIds) {
        long b = sample.size(0);
        check(sample.dim() == 4 && sample.size(1) == config.inChannels(), "sample must be [batch, " + config.inChannels() + ", H, W]", sample);
        check(timestep.numel() == b || timestep.numel() == 1, "timestep must hold one value per sample or one for all", timestep);
        long[] e = encoderHiddenStates.shape();
        check(e.length == 3 && (e[0] == b || e[0] == 1) && e[2] == config.crossAttentionDim(),
                "encoder_hidden_states must be [" + b + " or 1, tokens, " + config.crossAttentionDim() + "]", encoderHiddenStates);
        Tensor context = e[0] == b ? encoderHiddenStates : encoderHiddenStates.expand(b, e[1], e[2]);
        Tensor x = config.centerInputSample() ? sample.mul(2).sub(1) : sample;
        Tensor emb = timeEmbedding.forward(timeProj.forward(timestep.reshape(-1).expand(b)));
        if (addEmbedding != null) {
            check(textEmbeds != null && timeIds != null, "this U-Net (addition_embed_type text_time, SDXL's) needs text_embeds and time_ids",
                    sample);
            UNet2DConditionConfig.TextTime tt = config.textTime();
            long pooled = tt.inputDim() - 6L * tt.timeEmbedDim();
            check(textEmbeds.dim() == 2 && textEmbeds.size(1) == pooled && (textEmbeds.size(0) == b || textEmbeds.size(0) == 1),
                    "text_embeds must be [" + b + " or 1, " + pooled + "]", textEmbeds);
            check(timeIds.dim() == 2 && timeIds.size(1) == 6 && (timeIds.size(0) == b || timeIds.size(0) == 1),
                    "time_ids must be [" + b + " or 1, 6]", timeIds);
            Tensor ids = timeIds.expand(b, 6).contiguous().reshape(-1);
            Tensor added = Tensor.cat(java.util.List.of(textEmbeds.expand(b, pooled), addTimeProj.forward(ids).reshape(b, 6L * tt.timeEmbedDim())),
                    1);
            emb = emb.add(addEmbedding.forward(added));
        } else {
            check(textEmbeds == null && timeIds == null, "this U-Net has no added embedding: text_embeds and time_ids are for SDXL's", sample);
        }
        Tensor h = UNetBlock.run(convIn.forward(x), emb, context, downBlocks.items(), midBlock, upBlocks.items());
        return convOut.forward(convNormOut.forward(h).silu());
    }

    private static void check(boolean ok, String message, Tensor t) {
        if (!ok) {
            throw new DiffusionException(UNet2DConditionConfig.CLASS_NAME + ": " + message + ", got " + Arrays.toString(t.shape()));
        }
    }
}
