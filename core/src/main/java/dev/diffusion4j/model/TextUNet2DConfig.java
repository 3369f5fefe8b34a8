package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import java.util.Map;

/**
 * A text-conditioned image denoiser: a {@link UNet2DConfig U-Net} with cross-attention and the
 * {@link TextEncoderConfig text encoder} it reads prompts with, trained together. Stored as
 * {@code {"model_type": "text_unet_2d", "unet": {…}, "text_encoder": {…}}}.
 */
public record TextUNet2DConfig(UNet2DConfig unet, TextEncoderConfig textEncoder) implements NetworkConfig {
    public static final String TYPE = "text_unet_2d";

    public TextUNet2DConfig {
        if (unet.crossAttentionDim() == null || unet.crossAttentionDim() != textEncoder.hiddenSize()) {
            throw new DiffusionException("a text-conditioned U-Net needs cross_attention_dim = the text encoder's hidden_size "
                    + textEncoder.hiddenSize() + ", got " + unet.crossAttentionDim());
        }
        if (unet.numClassEmbeds() != null) {
            throw new DiffusionException("a text-conditioned U-Net takes prompts, not class labels: leave num_class_embeds unset");
        }
    }

    /** {@code unet} with its attention blocks made cross-attention over a default text encoder. */
    public static TextUNet2DConfig of(UNet2DConfig unet) {
        TextEncoderConfig text = TextEncoderConfig.defaults();
        return new TextUNet2DConfig(unet.withCrossAttention(text.hiddenSize()), text);
    }

    @Override
    public String modelType() {
        return TYPE;
    }

    @Override
    public int sizeMultiple() {
        return unet.sizeMultiple();
    }

    @Override
    public long[] sampleShape() {
        return unet.sampleShape();
    }

    @Override
    public VarianceType varianceType() {
        return unet.varianceType();
    }

    @Override
    public TextUNet2DModel build(Generator g) {
        return new TextUNet2DModel(this, g);
    }

    @Override
    public Map<String, Object> toConfig() {
        return new TextConditionedSections(unet.toConfig(), textEncoder).toConfig(TYPE);
    }

    public static TextUNet2DConfig fromConfig(Map<String, Object> m) {
        TextConditionedSections sections = TextConditionedSections.read(m, TYPE);
        return new TextUNet2DConfig(UNet2DConfig.fromConfig(sections.unet()), sections.textEncoder());
    }
}
