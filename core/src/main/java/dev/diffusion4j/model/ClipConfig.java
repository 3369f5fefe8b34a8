package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ConfigValues;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Shape of a {@link ClipModel}, laid out as transformers' {@code CLIPConfig}: a {@code text_config}
 * (the project's {@link TextEncoderConfig}), a {@code vision_config} ({@link ClipVisionConfig}: a
 * conv tower, not CLIP's ViT, hence a {@code model_type} of its own), {@code projection_dim}, the
 * width of the shared embedding, and {@code logit_scale_init_value}, the initial log of the logit
 * scale 1/τ: ln(1/0.07) as in CLIP (Radford et al. 2021, after Wu et al. 2018), at most ln 100.
 */
public record ClipConfig(TextEncoderConfig textConfig, ClipVisionConfig visionConfig, int projectionDim, double logitScaleInitValue) {
    /** The {@code model_type} written to and required in config.json. */
    public static final String MODEL_TYPE = "conv_clip";
    /** CLIP's initial temperature τ = 0.07, as the log of the logit scale 1/τ (≈ 2.6593). */
    public static final double LOGIT_SCALE_INIT = Math.log(1 / 0.07);
    /** The log of 100, the most CLIP lets the logit scale reach ("to prevent training instability"), ≈ 4.6052. */
    public static final double LOGIT_SCALE_MAX = Math.log(100);
    private static final String OWNER = "CLIP";
    private static final Set<String> KEYS = Set.of("model_type", "text_config", "vision_config", "projection_dim", "logit_scale_init_value");

    public ClipConfig {
        if (projectionDim < 1) {
            throw new DiffusionException("CLIP config: projection_dim must be positive, got " + projectionDim);
        }
        if (!(logitScaleInitValue <= LOGIT_SCALE_MAX) || !Double.isFinite(logitScaleInitValue)) {
            throw new DiffusionException("CLIP config: logit_scale_init_value must be finite and at most ln 100 = " + LOGIT_SCALE_MAX
                    + ", got " + logitScaleInitValue);
        }
    }

    /**
     * The default text encoder (CLIP's vocabulary and 77-token context, 64 channels, 2 layers), the
     * default vision tower for images of this shape, a 64-dimensional embedding and CLIP's temperature.
     */
    public static ClipConfig of(int channels, int imageSize) {
        return new ClipConfig(TextEncoderConfig.defaults(), ClipVisionConfig.of(channels, imageSize), 64, LOGIT_SCALE_INIT);
    }

    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", MODEL_TYPE);
        m.put("text_config", textConfig.toConfig());
        m.put("vision_config", visionConfig.toConfig());
        m.put("projection_dim", projectionDim);
        m.put("logit_scale_init_value", logitScaleInitValue);
        return m;
    }

    /**
     * Reads {@link #toConfig}'s layout. A key it does not write, at the top or inside either tower's
     * section, is refused: an architecture option this version would silently build without.
     */
    @SuppressWarnings("unchecked")
    public static ClipConfig fromConfig(Map<String, Object> m) {
        ConfigValues.refuseUnknown(m, KEYS, OWNER);
        if (!MODEL_TYPE.equals(m.get("model_type"))) {
            throw new DiffusionException("CLIP config: model_type is '" + m.get("model_type") + "', not " + MODEL_TYPE
                    + " (a diffusion4j CLIP model with a conv image tower)");
        }
        if (!(m.get("text_config") instanceof Map<?, ?> text) || !(m.get("vision_config") instanceof Map<?, ?> vision)) {
            throw new DiffusionException("CLIP config needs a text_config and a vision_config section: " + m);
        }
        ConfigValues.refuseUnknown((Map<String, Object>) text, TextEncoderConfig.KEYS, "CLIP text");
        return new ClipConfig(TextEncoderConfig.fromConfig((Map<String, Object>) text), ClipVisionConfig.fromConfig((Map<String, Object>) vision),
                ConfigValues.number(m, "projection_dim", null, OWNER).intValue(),
                ConfigValues.number(m, "logit_scale_init_value", LOGIT_SCALE_INIT, OWNER).doubleValue());
    }
}
