package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code model} section of a text-conditioned network: {@code {"model_type": …, "unet": {…},
 * "text_encoder": {…}}}, the U-Net's own config beside the text encoder's.
 */
record TextConditionedSections(Map<String, Object> unet, TextEncoderConfig textEncoder) {
    Map<String, Object> toConfig(String modelType) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", modelType);
        m.put("unet", unet);
        m.put("text_encoder", textEncoder.toConfig());
        return m;
    }

    @SuppressWarnings("unchecked")
    static TextConditionedSections read(Map<String, Object> m, String modelType) {
        if (!(m.get("unet") instanceof Map<?, ?> u) || !(m.get("text_encoder") instanceof Map<?, ?> t)) {
            throw new DiffusionException("a " + modelType + " config needs 'unet' and 'text_encoder' sections: " + m);
        }
        return new TextConditionedSections((Map<String, Object>) u, TextEncoderConfig.fromConfig((Map<String, Object>) t));
    }
}
