package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;

/**
 * What a conditional model is asked for, one sample's worth: a class label, the token ids of a
 * prompt, or a prompt already encoded by the model's text encoder (Stable Diffusion's
 * {@code prompt_embeds}, which long and weighted prompts need). {@link #batch} repeats it as the
 * condition tensor of a batch: int64 [B] for a label, [B, L] for token ids, [B, L, C] for features.
 *
 * @param features the encoded prompt [1, L, C], or null for labels and token ids
 * @param pooled   a pooled vector of the prompt [1, P] that goes with the features (SDXL's), or null; the
 *                 batch is then each sample's features flattened with the pooled vector appended, [B, L·C + P]
 */
public record Condition(long[] ids, boolean prompt, Tensor features, Tensor pooled) {

    public Condition {
        ids = ids.clone();
        if (features != null && (features.dim() != 3 || features.size(0) != 1)) {
            throw new IllegalArgumentException("an encoded prompt is [1, tokens, channels], got " + Arrays.toString(features.shape()));
        }
        if (pooled != null && (features == null || pooled.dim() != 2 || pooled.size(0) != 1)) {
            throw new IllegalArgumentException("a pooled vector is [1, P] and goes with features, got " + Arrays.toString(pooled.shape()));
        }
    }

    public Condition(long[] ids, boolean prompt, Tensor features) {
        this(ids, prompt, features, null);
    }

    public static Condition ofClass(int label) {
        return new Condition(new long[] {label}, false, null);
    }

    /** A prompt's token ids as a tokenizer encodes them (start, tokens, end, padding to the context length). */
    public static Condition ofTokens(int[] ids) {
        return new Condition(Arrays.stream(ids).asLongStream().toArray(), true, null);
    }

    /** A prompt as the text encoder's features [1, L, C]. */
    public static Condition ofFeatures(Tensor features) {
        return new Condition(new long[0], true, features);
    }

    /** A prompt as features [1, L, C] and a pooled vector [1, P] (SDXL's). */
    public static Condition ofFeatures(Tensor features, Tensor pooled) {
        return new Condition(new long[0], true, features, pooled);
    }

    /** The class label of a class condition. */
    public int label() {
        if (prompt) {
            throw new IllegalStateException("a prompt has no class label");
        }
        return (int) ids[0];
    }

    /** Whether this is an encoded prompt rather than labels or token ids. */
    public boolean encoded() {
        return features != null;
    }

    /** This condition for each of {@code batch} samples. */
    public Tensor batch(long batch) {
        if (features != null && pooled != null) {
            Tensor packed = Tensor.cat(java.util.List.of(features.reshape(1, -1), pooled.to(features.dtype())), 1);
            return packed.expand(batch, packed.size(1));
        }
        if (features != null) {
            return features.expand(batch, features.size(1), features.size(2));
        }
        return prompt ? Tensor.of(ids, 1, ids.length).expand(batch, ids.length) : Tensor.of(ids, 1).expand(batch);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Condition c && c.prompt == prompt && Arrays.equals(c.ids, ids) && c.features == features && c.pooled == pooled;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + Boolean.hashCode(prompt) + System.identityHashCode(features) + System.identityHashCode(pooled);
    }

    @Override
    public String toString() {
        if (features != null) {
            return "encoded prompt of " + features.size(1) + " tokens";
        }
        return prompt ? "prompt of " + ids.length + " token ids" : "class " + ids[0];
    }
}
