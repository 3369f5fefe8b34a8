package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.nn.Linear;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.util.Arrays;

/**
 * A U-Net conditioned on a prompt (Rombach et al. 2022; Saharia et al. 2022): the prompt's token
 * ids pass through the {@link TextEncoder}; its per-token features are the context the U-Net's
 * cross-attention blocks attend to, and its pooled feature, projected by {@code add_embedding},
 * joins the timestep embedding as Imagen adds its pooled text embedding. The empty prompt is the
 * null condition that condition dropout trains, as in Stable Diffusion.
 */
public final class TextUNet2DModel extends DenoisingNetwork {
    private final TextUNet2DConfig config;
    private final TextEncoder textEncoder;
    private final Linear addEmbedding;
    private final UNet2DModel unet;
    private final long[] emptyPrompt;

    public TextUNet2DModel(TextUNet2DConfig config, Generator g) {
        this.config = config;
        this.textEncoder = child("text_encoder", new TextEncoder(config.textEncoder(), g));
        this.addEmbedding = child("add_embedding", new Linear(config.textEncoder().hiddenSize(), config.unet().timeEmbedDim(), g));
        this.unet = child("unet", new UNet2DModel(config.unet(), g));
        this.emptyPrompt = Arrays.stream(ClipTokenizer.clip().encode("", contextLength()).ids()).asLongStream().toArray();
    }

    /**
     * Takes {@code clip}'s text tower as this model's text encoder: prompts are then read by an
     * encoder that learnt them against images. Their text configs must match.
     */
    public void useTextEncoderOf(ClipModel clip) {
        if (!clip.config().textConfig().equals(config.textEncoder())) {
            throw new DiffusionException("the CLIP model's text encoder " + clip.config().textConfig().toConfig()
                    + " is not the one this U-Net reads prompts with: " + config.textEncoder().toConfig());
        }
        textEncoder.loadStateDict(clip.textModel().stateDict());
    }

    /** The state-dict prefix of the text encoder's parameters ({@code text_encoder.}). */
    public static final String TEXT_ENCODER_PREFIX = "text_encoder.";

    @Override
    public TextUNet2DConfig config() {
        return config;
    }

    @Override
    public int contextLength() {
        return config.textEncoder().maxPositionEmbeddings();
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
            throw new DiffusionException("a text-conditioned U-Net takes int64 token ids [" + x.size(0) + ", " + contextLength()
                    + "] (a prompt per sample), got " + tokens.dtype() + " " + Arrays.toString(tokens.shape()));
        }
        TextEncoder.Output text = textEncoder.forward(tokens);
        return unet.output(unet.forward(x, t, null, addEmbedding.forward(text.pooled()), text.hidden()));
    }
}
