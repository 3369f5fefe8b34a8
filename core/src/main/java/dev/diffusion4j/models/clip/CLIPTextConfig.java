package dev.diffusion4j.models.clip;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ConfigValues;
import dev.diffusion4j.nn.Activation;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The architecture of a {@link CLIPTextModel}, with the keys of transformers' {@code CLIPTextConfig},
 * so the {@code text_encoder/} (and SDXL's {@code text_encoder_2/}) folder of a Stable Diffusion
 * pipeline reads unchanged. Keys that only steer training or generation in transformers (dropout,
 * initialisation, token ids of padding and start) build the same network and are not read.
 *
 * @param hiddenAct      {@code quick_gelu} (OpenAI's CLIP, SD 1.x) or {@code gelu} (OpenCLIP, SD 2.x and SDXL)
 * @param eosTokenId     where the pooled feature is read: transformers' legacy value 2 (which SD 1.x configs
 *                       carry) means "at the largest id of each row", as OpenAI's CLIP did; any other value, at
 *                       the first occurrence of that id
 * @param projectionDim  width of {@code text_projection} for a {@code CLIPTextModelWithProjection}, 0 for a
 *                       plain {@code CLIPTextModel} (whose config may carry a projection_dim it has no weights for)
 */
public record CLIPTextConfig(int vocabSize, int hiddenSize, int intermediateSize, int numAttentionHeads, int numHiddenLayers,
                             int maxPositionEmbeddings, Activation hiddenAct, double layerNormEps, int eosTokenId, int projectionDim) {
    public static final String TEXT_MODEL = "CLIPTextModel";
    public static final String WITH_PROJECTION = "CLIPTextModelWithProjection";
    /** transformers' legacy end-of-text id: pool at the argmax of the ids. */
    public static final int LEGACY_EOS = 2;

    public CLIPTextConfig {
        check(vocabSize >= 1 && hiddenSize >= 1 && intermediateSize >= 1 && maxPositionEmbeddings >= 1 && numHiddenLayers >= 0,
                "vocab_size, hidden_size, intermediate_size and max_position_embeddings must be positive");
        check(numAttentionHeads >= 1 && hiddenSize % numAttentionHeads == 0,
                "hidden_size " + hiddenSize + " does not split into num_attention_heads = " + numAttentionHeads + " heads");
        check(hiddenAct == Activation.QUICK_GELU || hiddenAct == Activation.GELU,
                "hidden_act '" + hiddenAct.configName() + "' is not a CLIP activation (quick_gelu or gelu)");
        check(layerNormEps > 0, "layer_norm_eps must be positive");
        check(projectionDim >= 0, "projection_dim must not be negative");
    }

    /** Whether this is a {@code CLIPTextModelWithProjection} (SDXL's second text encoder). */
    public boolean hasProjection() {
        return projectionDim > 0;
    }

    /**
     * Reads a transformers config.json. The class comes from {@code architectures}, or from
     * {@code withProjection} when the config names none (a single-file checkpoint's encoder).
     */
    public static CLIPTextConfig fromConfig(Map<String, Object> m) {
        String owner = "text encoder";
        Object type = m.get("model_type");
        if (type != null && !"clip_text_model".equals(type)) {
            throw new DiffusionException(owner + " config: model_type '" + type + "' is not a CLIP text model (clip_text_model)");
        }
        boolean projection = false;
        if (m.get("architectures") != null) {
            List<String> arch = ConfigValues.strings(m.get("architectures"));
            if (arch.size() != 1 || !(arch.get(0).equals(TEXT_MODEL) || arch.get(0).equals(WITH_PROJECTION))) {
                throw new DiffusionException(owner + " config: architectures " + arch + " is not " + TEXT_MODEL + " or " + WITH_PROJECTION);
            }
            projection = arch.get(0).equals(WITH_PROJECTION);
        }
        int hidden = ConfigValues.number(m, "hidden_size", 512, owner).intValue();
        return new CLIPTextConfig(ConfigValues.number(m, "vocab_size", 49408, owner).intValue(), hidden,
                ConfigValues.number(m, "intermediate_size", 2048, owner).intValue(),
                ConfigValues.number(m, "num_attention_heads", 8, owner).intValue(),
                ConfigValues.number(m, "num_hidden_layers", 12, owner).intValue(),
                ConfigValues.number(m, "max_position_embeddings", 77, owner).intValue(),
                Activation.parse(String.valueOf(m.getOrDefault("hidden_act", "quick_gelu"))),
                ConfigValues.number(m, "layer_norm_eps", 1e-5, owner).doubleValue(),
                ConfigValues.number(m, "eos_token_id", LEGACY_EOS, owner).intValue(),
                projection ? ConfigValues.number(m, "projection_dim", 512, owner).intValue() : 0);
    }

    /** transformers' config.json for this architecture. */
    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of(hasProjection() ? WITH_PROJECTION : TEXT_MODEL));
        m.put("model_type", "clip_text_model");
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", hiddenSize);
        m.put("intermediate_size", intermediateSize);
        m.put("num_attention_heads", numAttentionHeads);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("hidden_act", hiddenAct.configName());
        m.put("layer_norm_eps", layerNormEps);
        m.put("eos_token_id", eosTokenId);
        if (hasProjection()) {
            m.put("projection_dim", projectionDim);
        }
        return m;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new DiffusionException("text encoder config: " + message);
        }
    }
}
