package dev.diffusion4j.models.sd;

import dev.diffusion4j.model.DenoisingNetwork;
import dev.diffusion4j.model.NetworkConfig;
import dev.diffusion4j.model.VarianceType;
import dev.diffusion4j.models.clip.CLIPTextConfig;
import dev.diffusion4j.models.unet.UNet2DConditionConfig;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.text.ClipTokenizer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The denoising half of a Stable Diffusion 1.x / 2.x / XL pipeline: its U-Net, the text encoder
 * whose features the U-Net cross-attends to, and the tokenizer that reads prompts for it; SDXL's
 * second encoder (with projection) and tokenizer.
 *
 * @param defaultSize  the latent side the U-Net was trained at ({@code sample_size}; 64 for 512-pixel images)
 * @param textEncoder2 SDXL's second text encoder, or null
 * @param tokenizer2   its tokenizer, or null
 * @param latentFactor pixels per latent pixel (the autoencoder's factor): SDXL's size conditioning is in pixels
 * @param zeroEmptyNegative SDXL's {@code force_zeros_for_empty_prompt}: without a negative prompt, the unconditional
 *                     branch reads zeros rather than the empty prompt
 */
public record StableDiffusionConfig(UNet2DConditionConfig unet, CLIPTextConfig textEncoder, ClipTokenizer tokenizer, int defaultSize,
                                    CLIPTextConfig textEncoder2, ClipTokenizer tokenizer2, int latentFactor, boolean zeroEmptyNegative)
        implements NetworkConfig {

    /** A Stable Diffusion 1.x / 2.x pipeline: one text encoder. */
    public StableDiffusionConfig(UNet2DConditionConfig unet, CLIPTextConfig textEncoder, ClipTokenizer tokenizer, int defaultSize) {
        this(unet, textEncoder, tokenizer, defaultSize, null, null, 8, false);
    }

    /** Whether this is SDXL: two text encoders, pooled text and size conditioning. */
    public boolean isXL() {
        return textEncoder2 != null;
    }
    public static final String TYPE = "stable_diffusion";

    @Override
    public String modelType() {
        return TYPE;
    }

    @Override
    public long[] sampleShape() {
        return new long[] {unet.inChannels(), defaultSize, defaultSize};
    }

    @Override
    public int sizeMultiple() {
        return 1 << (unet.blockOutChannels().size() - 1);
    }

    @Override
    public VarianceType varianceType() {
        return VarianceType.FIXED;
    }

    @Override
    public DenoisingNetwork build(Generator g) {
        return new StableDiffusionNetwork(this, g);
    }

    @Override
    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", TYPE);
        m.put("unet", unet.toConfig());
        m.put("text_encoder", textEncoder.toConfig());
        if (textEncoder2 != null) {
            m.put("text_encoder_2", textEncoder2.toConfig());
        }
        return m;
    }
}
