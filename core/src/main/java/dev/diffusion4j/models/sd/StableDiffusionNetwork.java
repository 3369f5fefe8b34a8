package dev.diffusion4j.models.sd;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.model.DenoisingNetwork;
import dev.diffusion4j.model.PromptEncoder;
import dev.diffusion4j.models.clip.CLIPTextModel;
import dev.diffusion4j.models.unet.UNet2DConditionModel;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.text.ClipTokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * Stable Diffusion's denoising network as a pipeline runs it: a prompt is tokenized by the
 * pipeline's tokenizer and encoded once by its CLIP text encoder (child {@code text_encoder}); the
 * U-Net (child {@code unet}) cross-attends to those features at every step. The unconditional
 * branch of guidance is the empty prompt's features, as in diffusers' pipelines.
 */
public final class StableDiffusionNetwork extends DenoisingNetwork implements PromptEncoder {
    private final StableDiffusionConfig config;
    private final CLIPTextModel textEncoder;
    private final UNet2DConditionModel unet;
    private Tensor emptyPrompt;

    public StableDiffusionNetwork(StableDiffusionConfig config, Generator g) {
        this.config = config;
        this.textEncoder = child("text_encoder", new CLIPTextModel(config.textEncoder(), g));
        this.unet = child("unet", new UNet2DConditionModel(config.unet(), g));
        if (config.textEncoder().hiddenSize() != config.unet().crossAttentionDim()) {
            throw new DiffusionException("the text encoder's hidden_size " + config.textEncoder().hiddenSize() + " is not the U-Net's "
                    + "cross_attention_dim " + config.unet().crossAttentionDim() + ": these parts come from different pipelines");
        }
    }

    /** The network of already-loaded parts. */
    public StableDiffusionNetwork(StableDiffusionConfig config, CLIPTextModel textEncoder, UNet2DConditionModel unet) {
        this.config = config;
        this.textEncoder = child("text_encoder", textEncoder);
        this.unet = child("unet", unet);
    }

    @Override
    public StableDiffusionConfig config() {
        return config;
    }

    public CLIPTextModel textEncoder() {
        return textEncoder;
    }

    public UNet2DConditionModel unet() {
        return unet;
    }

    public ClipTokenizer tokenizer() {
        return config.tokenizer();
    }

    @Override
    public int contextLength() {
        return config.tokenizer().contextLength();
    }

    /**
     * The prompt's features [1, L, C], as diffusers' {@code encode_prompt} gives them: the text
     * encoder's last hidden state, or with clip skip k the final-normalised state k layers before it.
     * A prompt cut to the context is warned of.
     */
    @Override
    public Condition encodePrompt(String text, int clipSkip, String field, List<String> warnings) {
        if (clipSkip >= config.textEncoder().numHiddenLayers()) {
            throw new DiffusionException("clip_skip " + clipSkip + " skips every layer of the text encoder, which has "
                    + config.textEncoder().numHiddenLayers());
        }
        ClipTokenizer.Encoding e = config.tokenizer().encode(text);
        if (e.truncated()) {
            warnings.add("the " + field + " is longer than the text encoder's " + contextLength() + " tokens (with start and end) and "
                    + "was cut to: \"" + config.tokenizer().decode(e) + "\"");
        }
        return Condition.ofFeatures(encode(e.ids(), clipSkip));
    }

    /** Token ids → the text encoder's features [1, L, C] (clip skip k: k layers before the last), outliving any scope. */
    private Tensor encode(int[] ids, int clipSkip) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor tokens = Tensor.of(Arrays.stream(ids).asLongStream().toArray(), 1, ids.length);
            CLIPTextModel.Output out = textEncoder.forward(tokens);
            return Scope.escape(clipSkip == 0 ? out.lastHiddenState() : textEncoder.finalLayerNorm(out.fromEnd(clipSkip)));
        }
    }

    @Override
    public Tensor nullCondition(long batch) {
        if (emptyPrompt == null) {
            emptyPrompt = encode(config.tokenizer().encode("").ids(), 0);
        }
        return emptyPrompt.expand(batch, emptyPrompt.size(1), emptyPrompt.size(2));
    }

    @Override
    public Tensor predict(Tensor x, Tensor t) {
        return predictWithVariance(x, t, null).prediction();
    }

    /** {@code condition}: encoded prompts [B, L, C] (or int64 token ids [B, L], encoded here); null for the empty prompt. */
    @Override
    public Output predictWithVariance(Tensor x, Tensor t, Tensor condition) {
        Tensor context = condition == null ? nullCondition(x.size(0))
                : condition.dtype() == DType.INT64 ? textEncoder.forward(condition).lastHiddenState() : condition;
        return new Output(unet.forward(x, t, context), null);
    }

    @Override
    public Output predictWithVariance(Tensor x, Tensor t) {
        return predictWithVariance(x, t, null);
    }
}
