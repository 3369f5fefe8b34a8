package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.text.ClipTokenizer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Shape of a {@link TextEncoder}, with the key names of a CLIP text config: a vocabulary of
 * CLIP's BPE ids, {@code max_position_embeddings} tokens per prompt, {@code hidden_size} channels,
 * {@code num_hidden_layers} causal transformer layers of {@code head_dim}-channel heads.
 */
public record TextEncoderConfig(int vocabSize, int maxPositionEmbeddings, int hiddenSize, int numHiddenLayers, int headDim) {
    /** The keys {@link #toConfig} writes. */
    public static final Set<String> KEYS = Set.of("vocab_size", "max_position_embeddings", "hidden_size", "num_hidden_layers", "head_dim");

    public TextEncoderConfig {
        if (vocabSize < 3 || maxPositionEmbeddings < 2 || hiddenSize < 1 || numHiddenLayers < 0 || headDim < 1
                || hiddenSize % headDim != 0) {
            throw new DiffusionException("invalid text encoder: vocab_size " + vocabSize + ", max_position_embeddings "
                    + maxPositionEmbeddings + ", hidden_size " + hiddenSize + " (a multiple of head_dim " + headDim + "), "
                    + numHiddenLayers + " layers");
        }
    }

    /** A small encoder over CLIP's vocabulary and 77-token context: 64 channels, 2 layers of 2 heads. */
    public static TextEncoderConfig defaults() {
        return new TextEncoderConfig(ClipTokenizer.VOCAB_SIZE, ClipTokenizer.CONTEXT_LENGTH, 64, 2, 32);
    }

    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vocab_size", vocabSize);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("hidden_size", hiddenSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("head_dim", headDim);
        return m;
    }

    public static TextEncoderConfig fromConfig(Map<String, Object> m) {
        try {
            return new TextEncoderConfig(((Number) m.get("vocab_size")).intValue(), ((Number) m.get("max_position_embeddings")).intValue(),
                    ((Number) m.get("hidden_size")).intValue(), ((Number) m.get("num_hidden_layers")).intValue(),
                    ((Number) m.get("head_dim")).intValue());
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException("text encoder config has a missing or malformed field (" + e.getMessage() + "): " + m);
        }
    }
}
