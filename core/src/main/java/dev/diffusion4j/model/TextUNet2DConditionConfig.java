package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.models.unet.UNet2DConditionConfig;
import dev.diffusion4j.tensor.Generator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@link TextUNet2DConditionModel}: diffusers' {@code UNet2DConditionModel} config (the {@code unet}
 * section, its own keys) and the {@link TextEncoderConfig text encoder} it reads prompts with.
 * Stored as {@code {"model_type": "text_unet_2d_condition", "unet": {…}, "text_encoder": {…}}}.
 */
public record TextUNet2DConditionConfig(UNet2DConditionConfig unet, TextEncoderConfig textEncoder) implements NetworkConfig {
    public static final String TYPE = "text_unet_2d_condition";

    public TextUNet2DConditionConfig {
        if (unet.crossAttentionDim() != textEncoder.hiddenSize()) {
            throw new DiffusionException("a text-conditioned UNet2DConditionModel needs cross_attention_dim = the text encoder's "
                    + "hidden_size " + textEncoder.hiddenSize() + ", got " + unet.crossAttentionDim());
        }
        if (unet.sampleSize() == null) {
            throw new DiffusionException("a UNet2DConditionModel trained here needs its sample_size (the side of the images it learns)");
        }
    }

    /**
     * The {@code UNet2DConditionModel} with the levels, widths and attention placement of {@code unet}
     * (a level with attention blocks gets cross-attention transformers, one head per
     * attention_head_dim channels, linear projections as in SD 2.x), reading {@code text}'s features.
     */
    public static TextUNet2DConditionConfig of(UNet2DConfig unet, TextEncoderConfig text) {
        List<String> down = unet.downBlockTypes().stream()
                .map(t -> t.equals(UNet2DConfig.DOWN) ? UNet2DConditionConfig.DOWN : UNet2DConditionConfig.CROSS_ATTN_DOWN).toList();
        List<String> up = unet.upBlockTypes().stream()
                .map(t -> t.equals(UNet2DConfig.UP) ? UNet2DConditionConfig.UP : UNet2DConditionConfig.CROSS_ATTN_UP).toList();
        int headDim = unet.attentionHeadDim() == null ? unet.blockOutChannels().get(0) : unet.attentionHeadDim();
        List<Integer> heads = new ArrayList<>();
        for (int c : unet.blockOutChannels()) {
            heads.add(Math.max(1, c / headDim));
        }
        UNet2DConditionConfig condition = new UNet2DConditionConfig(unet.sampleSize(), unet.inChannels(), unet.outChannels(), false,
                unet.flipSinToCos(), unet.freqShift(), down, up, unet.blockOutChannels(), unet.layersPerBlock(), unet.downsamplePadding(),
                unet.midBlockScaleFactor(), unet.normNumGroups(), unet.normEps(), text.hiddenSize(), 1, heads, true, false);
        return new TextUNet2DConditionConfig(condition, text);
    }

    @Override
    public String modelType() {
        return TYPE;
    }

    @Override
    public int sizeMultiple() {
        return 1 << (unet.blockOutChannels().size() - 1);
    }

    @Override
    public long[] sampleShape() {
        return new long[] {unet.inChannels(), unet.sampleSize(), unet.sampleSize()};
    }

    @Override
    public VarianceType varianceType() {
        return VarianceType.FIXED;
    }

    @Override
    public TextUNet2DConditionModel build(Generator g) {
        return new TextUNet2DConditionModel(this, g);
    }

    @Override
    public Map<String, Object> toConfig() {
        return new TextConditionedSections(unet.toConfig(), textEncoder).toConfig(TYPE);
    }

    public static TextUNet2DConditionConfig fromConfig(Map<String, Object> m) {
        TextConditionedSections sections = TextConditionedSections.read(m, TYPE);
        return new TextUNet2DConditionConfig(UNet2DConditionConfig.fromConfig(sections.unet()), sections.textEncoder());
    }
}
