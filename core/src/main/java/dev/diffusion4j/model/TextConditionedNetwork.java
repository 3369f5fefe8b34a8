package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.util.Arrays;

/**
 * A denoiser conditioned on a prompt: the prompt's token ids pass through a {@link TextEncoder}
 * (child {@code text_encoder}) whose features the denoising network reads. The empty prompt is the
 * null condition that condition dropout trains, as in Stable Diffusion.
 */
public abstract class TextConditionedNetwork extends DenoisingNetwork {
    /** The state-dict prefix of the text encoder's parameters. */
    public static final String TEXT_ENCODER_PREFIX = "text_encoder.";

    private final TextEncoderConfig textConfig;
    private final TextEncoder textEncoder;
    private final long[] emptyPrompt;

    protected TextConditionedNetwork(TextEncoder textEncoder) {
        this.textConfig = textEncoder.config();
        this.textEncoder = child("text_encoder", textEncoder);
        this.emptyPrompt = Arrays.stream(ClipTokenizer.clip().encode("", contextLength()).ids()).asLongStream().toArray();
    }

    /** The denoising network's output for {@code x} at {@code t} under the encoded prompts {@code text}. */
    protected abstract Output denoise(Tensor x, Tensor t, TextEncoder.Output text);

    /**
     * Takes {@code clip}'s text tower as this model's text encoder: prompts are then read by an
     * encoder that learnt them against images. Their text configs must match.
     */
    public void useTextEncoderOf(ClipModel clip) {
        if (!clip.config().textConfig().equals(textConfig)) {
            throw new DiffusionException("the CLIP model's text encoder " + clip.config().textConfig().toConfig()
                    + " is not the one this model reads prompts with: " + textConfig.toConfig());
        }
        textEncoder.loadStateDict(clip.textModel().stateDict());
    }

    @Override
    public int contextLength() {
        return textConfig.maxPositionEmbeddings();
    }

    /** The empty prompt's token ids, [batch, L]. */
    @Override
    public Tensor nullCondition(long batch) {
        return Tensor.of(emptyPrompt, 1, emptyPrompt.length).expand(batch, emptyPrompt.length);
    }

    @Override
    public Tensor predict(Tensor x, Tensor t) {
        return predictWithVariance(x, t).prediction();
    }

    @Override
    public Output predictWithVariance(Tensor x, Tensor t) {
        return predictWithVariance(x, t, nullCondition(x.size(0)));
    }

    /** {@code tokens}: int64 token ids [B, L], one prompt per sample; null for the empty prompt. */
    @Override
    public Output predictWithVariance(Tensor x, Tensor t, Tensor tokens) {
        if (tokens == null) {
            return predictWithVariance(x, t);
        }
        if (tokens.dim() != 2 || tokens.size(0) != x.size(0) || tokens.dtype() != DType.INT64) {
            throw new DiffusionException("a text-conditioned model takes int64 token ids [" + x.size(0) + ", " + contextLength()
                    + "] (a prompt per sample), got " + tokens.dtype() + " " + Arrays.toString(tokens.shape()));
        }
        return denoise(x, t, textEncoder.forward(tokens));
    }
}
