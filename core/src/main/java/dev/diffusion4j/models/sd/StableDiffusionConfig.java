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
 * The denoising half of a Stable Diffusion 1.x / 2.x pipeline: its U-Net, the text encoder whose
 * features the U-Net cross-attends to, and the tokenizer that reads prompts for it.
 *
 * @param defaultSize the latent side the U-Net was trained at ({@code sample_size}; 64 for 512-pixel images)
 */
public record StableDiffusionConfig(UNet2DConditionConfig unet, CLIPTextConfig textEncoder, ClipTokenizer tokenizer, int defaultSize)
        implements NetworkConfig {
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
        return m;
    }
}
