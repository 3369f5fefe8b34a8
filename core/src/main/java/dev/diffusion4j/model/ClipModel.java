package dev.diffusion4j.model;

import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.nn.Linear;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * A CLIP-style pair of encoders trained here (Radford et al. 2021), with transformers'
 * {@code CLIPModel} names: {@code text_model} (the project's {@link TextEncoder}), {@code vision_model}
 * (a {@link ClipVisionModel}), the bias-free linear maps {@code text_projection} and
 * {@code visual_projection} into one embedding space, and {@code logit_scale}, the log of the inverse
 * temperature. The logits of image i against text j are exp(logit_scale)·cos(Iᵢ, Tⱼ).
 *
 * <p>Trained contrastively on captioned images ({@code train.ClipTraining}), its text encoder's
 * per-token features are a text-to-image model's conditioning and its cosines give the CLIP score
 * ({@code eval.ClipScore}).
 */
public final class ClipModel extends Module {
    public static final String CONFIG_FILE = ModelFolder.CONFIG_FILE;
    public static final String WEIGHTS_FILE = "model.safetensors";
    /** Pairs per batch when embedding many images or texts for evaluation. */
    private static final int BATCH = 500;

    private final ClipConfig config;
    private final TextEncoder textModel;
    private final ClipVisionModel visionModel;
    private final Linear visualProjection;
    private final Linear textProjection;
    private final Tensor logitScale;

    public ClipModel(ClipConfig config, Generator g) {
        this.config = config;
        this.textModel = child("text_model", new TextEncoder(config.textConfig(), g));
        this.visionModel = child("vision_model", new ClipVisionModel(config.visionConfig(), g));
        this.visualProjection = child("visual_projection", new Linear(config.visionConfig().hiddenSize(), config.projectionDim(), false, g));
        this.textProjection = child("text_projection", new Linear(config.textConfig().hiddenSize(), config.projectionDim(), false, g));
        this.logitScale = parameter("logit_scale", Tensor.scalar(config.logitScaleInitValue()));
    }

    public ClipConfig config() {
        return config;
    }

    /** The text tower, whose per-token hidden states condition a text-to-image model. */
    public TextEncoder textModel() {
        return textModel;
    }

    /** Token ids int64 [B, L] of {@code texts} at the text encoder's context length (longer texts are cut). */
    public Tensor tokenize(List<String> texts) {
        return ClipTokenizer.clip().ids(texts, config.textConfig().maxPositionEmbeddings());
    }

    /** Projected text features [B, projection_dim] of token ids [B, L] (not normalised; differentiable). */
    public Tensor textFeatures(Tensor ids) {
        return textProjection.forward(textModel.forward(ids).pooled());
    }

    /** Projected image features [B, projection_dim] of images [B, C, S, S] in [−1, 1] (not normalised; differentiable). */
    public Tensor imageFeatures(Tensor images) {
        return visualProjection.forward(visionModel.forward(images));
    }

    /** The logit scale 1/τ = exp(logit_scale), capped at 100 however the parameter was set (a scalar tensor). */
    public Tensor logitScale() {
        return logitScale.clampMax(ClipConfig.LOGIT_SCALE_MAX).exp();
    }

    /**
     * Clips the {@code logit_scale} parameter to ln 100 in place, after an optimizer step, as CLIP
     * does: above the cap {@link #logitScale()} passes no gradient, so a parameter left there would
     * never come back down.
     */
    public void clampLogitScale() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            logitScale.copy_(logitScale.clampMax(ClipConfig.LOGIT_SCALE_MAX));
        }
    }

    /** logits_per_image [B_images, B_texts] = logit scale · cos(imageFeatures_i, textFeatures_j). */
    public Tensor logitsPerImage(Tensor imageFeatures, Tensor textFeatures) {
        return normalize(imageFeatures).matmul(normalize(textFeatures).t()).mul(logitScale());
    }

    /** The rows of {@code x} [B, D] scaled to unit length. */
    public static Tensor normalize(Tensor x) {
        return x.div(x.norm(1, true).clampMin(1e-12));
    }

    /** Unit-length image embeddings [n, projection_dim] of many images, in batches, without gradients. */
    public Tensor embedImages(Tensor images) {
        return embed(images.size(0), (from, n) -> imageFeatures(images.narrow(0, from, n)));
    }

    /** Unit-length text embeddings [n, projection_dim] of many texts, in batches, without gradients. */
    public Tensor embedTexts(List<String> texts) {
        return embed(texts.size(), (from, n) -> textFeatures(tokenize(texts.subList(from.intValue(), from.intValue() + n.intValue()))));
    }

    private Tensor embed(long count, BiFunction<Long, Long, Tensor> features) {
        List<Tensor> parts = new ArrayList<>();
        try (NoGrad ng = NoGrad.inference()) {
            for (long i = 0; i < count; i += BATCH) {
                try (Scope s = Scope.open()) {
                    parts.add(s.keep(normalize(features.apply(i, Math.min(BATCH, count - i)))));
                }
            }
            return Tensor.cat(parts, 0);
        }
    }

    /** Writes {@code folder}: {@value #CONFIG_FILE} and float32 {@value #WEIGHTS_FILE}, as transformers lays a model out. */
    public void save(Path folder) {
        ModelFolder.write(folder, config.toConfig(), WEIGHTS_FILE, stateDict());
    }

    /** Reads a folder {@link #save} wrote; a config key or weight this model does not have is an error that names it. */
    public static ClipModel load(Path folder) {
        ClipModel model = new ClipModel(ClipConfig.fromConfig(ModelFolder.readConfig(folder)), new Generator(0));
        ModelFolder.readWeights(folder, WEIGHTS_FILE, "a CLIP model", "; train one into it first", model::loadStateDict);
        model.train(false);
        return model;
    }
}
