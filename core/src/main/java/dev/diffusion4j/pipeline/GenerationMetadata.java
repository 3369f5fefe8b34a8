package dev.diffusion4j.pipeline;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What produced a set of samples, complete enough to reproduce them: software version, model and the
 * hash of its weights, every setting of the request that applied, and what the run resolved them to —
 * the real step count, the σ range walked, the network evaluations. PNG text chunks, the CLI's
 * {@code --json} line and the studio's answers all carry this same map; keys are snake_case. It holds
 * no timings, so the same request on the same model writes byte-identical files.
 */
public final class GenerationMetadata {
    private final Map<String, Object> values;

    GenerationMetadata(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Every entry in a fixed order; values are strings, numbers or booleans. */
    public Map<String, Object> asMap() {
        return values;
    }

    /**
     * Every entry as text, for PNG text chunks; an image generation also gets the web UI's
     * {@value A1111Parameters#KEY} text, which Stable Diffusion tools read.
     */
    public Map<String, String> asText() {
        Map<String, String> m = new LinkedHashMap<>();
        values.forEach((k, v) -> m.put(k, String.valueOf(v)));
        String parameters = A1111Parameters.format(values);
        if (parameters != null) {
            m.put(A1111Parameters.KEY, parameters);
        }
        return m;
    }

    /** The steps the sampler took. */
    public int steps() {
        return ((Number) values.get("steps")).intValue();
    }

    /** Network evaluations the run made (a guided evaluation of a batch of 2B counts once). */
    public long evaluations() {
        return ((Number) values.get("model_evaluations")).longValue();
    }

    public Object get(String key) {
        return values.get(key);
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
