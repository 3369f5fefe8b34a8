package dev.diffusion4j.model;

import java.util.List;

/**
 * A text-conditioned network that reads prompts with its own tokenizer and text encoder (a Stable
 * Diffusion pipeline's), rather than CLIP's vocabulary fed as token ids to a text encoder trained with
 * it. The pipeline asks it once per generation for the prompt and the negative prompt together, so
 * that prompts of several chunks can be made the same length for guidance's batch.
 */
public interface PromptEncoder {
    /**
     * {@code prompt} and {@code negative} (null: the empty prompt, guidance's unconditional branch) as
     * this network's conditions, of the same length, read {@code clipSkip} layers before the text
     * encoder's last (0: the last); what the encoding had to change is added to {@code warnings}.
     */
    Condition[] encodePrompts(String prompt, String negative, int clipSkip, List<String> warnings);
}
