package dev.diffusion4j.text;

import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Captions to the token ids a text encoder reads, [B, L]: each caption encoded once by the
 * tokenizer (start, tokens, end, padding to the context length L) and remembered, since a training
 * run draws the same captions again and again.
 */
public final class CaptionTokens {
    private final ClipTokenizer tokenizer;
    private final int contextLength;
    private final Map<String, long[]> encoded = new ConcurrentHashMap<>();

    public CaptionTokens(ClipTokenizer tokenizer, int contextLength) {
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
    }

    /** int64 token ids [captions.size(), L]. */
    public Tensor ids(List<String> captions) {
        long[] ids = new long[captions.size() * contextLength];
        for (int i = 0; i < captions.size(); i++) {
            System.arraycopy(encode(captions.get(i)), 0, ids, i * contextLength, contextLength);
        }
        return Tensor.of(ids, captions.size(), contextLength);
    }

    private long[] encode(String caption) {
        return encoded.computeIfAbsent(caption, c -> Arrays.stream(tokenizer.encode(c, contextLength).ids()).asLongStream().toArray());
    }
}
