package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;

/**
 * What a conditional model is asked for, one sample's worth: a class label, or the token ids of a
 * prompt. {@link #batch} repeats it as the condition tensor of a batch: int64 [B] for a label,
 * [B, L] for a prompt.
 */
public record Condition(long[] ids, boolean prompt) {

    public Condition {
        ids = ids.clone();
    }

    public static Condition ofClass(int label) {
        return new Condition(new long[] {label}, false);
    }

    /** A prompt's token ids as a tokenizer encodes them (start, tokens, end, padding to the context length). */
    public static Condition ofTokens(int[] ids) {
        return new Condition(Arrays.stream(ids).asLongStream().toArray(), true);
    }

    /** The class label of a class condition. */
    public int label() {
        if (prompt) {
            throw new IllegalStateException("a prompt has no class label");
        }
        return (int) ids[0];
    }

    /** This condition for each of {@code batch} samples. */
    public Tensor batch(long batch) {
        return prompt ? Tensor.of(ids, 1, ids.length).expand(batch, ids.length) : Tensor.of(ids, 1).expand(batch);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Condition c && c.prompt == prompt && Arrays.equals(c.ids, ids);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + Boolean.hashCode(prompt);
    }

    @Override
    public String toString() {
        return prompt ? "prompt of " + ids.length + " token ids" : "class " + ids[0];
    }
}
