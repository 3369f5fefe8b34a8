package dev.diffusion4j.model;

import java.util.List;

/**
 * A text-conditioned network that reads prompts with its own tokenizer and text encoder (a Stable
 * Diffusion pipeline's), rather than CLIP's vocabulary fed as token ids to a text encoder trained with
 * it. The pipeline asks it for each prompt's condition once per generation.
 */
public interface PromptEncoder {
    /**
     * {@code text} as this network's condition, read {@code clipSkip} layers before the text encoder's
     * last (0: the last); {@code field} names the request's field in messages, and what the encoding
     * had to change (a prompt cut to the context) is added to {@code warnings}.
     */
    Condition encodePrompt(String text, int clipSkip, String field, List<String> warnings);
}
