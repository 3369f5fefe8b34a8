package dev.diffusion4j.models.clip;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.nn.Init;
import dev.diffusion4j.nn.Embedding;
import dev.diffusion4j.nn.LayerNorm;
import dev.diffusion4j.nn.Linear;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.nn.Named;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CLIP's text tower as transformers' {@code CLIPTextModel} and {@code CLIPTextModelWithProjection},
 * with their parameter names ({@code text_model.encoder.layers.0.self_attn.q_proj.weight}), so the
 * text encoders of Stable Diffusion pipelines load by key:
 * <pre>
 * h₀ = token_embedding(ids) + position_embedding(0 … L−1)
 * h_k = layer_k(h_{k−1}),  k = 1 … num_hidden_layers      causal: a token sees the tokens before it
 * last_hidden_state = final_layer_norm(h_last);  pooled = last_hidden_state at the end-of-text token
 * text_embeds = text_projection(pooled)                   (the WithProjection model only)
 * </pre>
 * Stable Diffusion 1.x reads {@code last_hidden_state}; "clip skip" k reads
 * {@code final_layer_norm(h_{last−k})}; SDXL reads the un-normalised penultimate state and the
 * second encoder's {@code text_embeds}. {@link #forward} returns them all.
 */
public final class CLIPTextModel extends Module {
    /** transformers' weights file in a model folder. */
    public static final String WEIGHTS = "model.safetensors";
    /** A buffer older transformers versions saved with the weights: always 0 … L−1, so it is checked and not loaded. */
    private static final String POSITION_IDS = "text_model.embeddings.position_ids";

    private final CLIPTextConfig config;
    private final Embedding tokenEmbedding;
    private final Embedding positionEmbedding;
    private final ModuleList<CLIPEncoderLayer> layers;
    private final LayerNorm finalLayerNorm;
    private final Linear textProjection;

    /**
     * What the encoder computes for token ids [B, L]: the normalised last state [B, L, C], the pooled
     * feature [B, C], the projected feature [B, projection_dim] (null without a projection) and the
     * hidden states h₀ … h_last before the final norm, as transformers' {@code hidden_states}.
     */
    public record Output(Tensor lastHiddenState, Tensor pooled, Tensor textEmbeds, List<Tensor> hiddenStates) {
        /** {@code hidden_states[-(k+1)]}: the output of the k-th layer from the end (0 for the last). */
        public Tensor fromEnd(int k) {
            return hiddenStates.get(hiddenStates.size() - 1 - k);
        }
    }

    public CLIPTextModel(CLIPTextConfig config, Generator g) {
        this.config = config;
        Named textModel = child("text_model", new Named());
        Named embeddings = textModel.add("embeddings", new Named());
        this.tokenEmbedding = embeddings.add("token_embedding", new Embedding(config.vocabSize(), config.hiddenSize(), 0.02, g));
        this.positionEmbedding = embeddings.add("position_embedding",
                new Embedding(config.maxPositionEmbeddings(), config.hiddenSize(), 0.01, g));
        this.layers = textModel.add("encoder", new Named()).add("layers", new ModuleList<>());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(new CLIPEncoderLayer(config, g));
        }
        this.finalLayerNorm = textModel.add("final_layer_norm", new LayerNorm(config.hiddenSize(), config.layerNormEps(), true));
        this.textProjection = config.hasProjection() ? child("text_projection", new Linear(config.hiddenSize(), config.projectionDim(),
                false, g)) : null;
    }

    public CLIPTextConfig config() {
        return config;
    }

    /**
     * Reads a transformers model folder ({@code text_encoder/}): config.json and model.safetensors
     * (or diffusers' {@code model.fp16.safetensors} variant), any float dtype read as float32. A
     * missing, extra or misshapen weight is an error that names it.
     */
    public static CLIPTextModel load(Path folder) {
        CLIPTextModel model = new CLIPTextModel(CLIPTextConfig.fromConfig(ModelFolder.readConfig(folder)), Init.FOR_LOADING);
        ModelFolder.readWeights(folder, ModelFolder.weightsFile(folder, WEIGHTS), "a " + CLIPTextConfig.TEXT_MODEL,
                " (safetensors: pickled .bin files are never read)", model::loadWeights);
        model.train(false);
        return model;
    }

    /** Loads transformers' state dict, which may carry the position-ids buffer older versions saved. */
    public void loadWeights(Map<String, Tensor> state) {
        Map<String, Tensor> weights = new LinkedHashMap<>(state);
        Tensor positionIds = weights.remove(POSITION_IDS);
        if (positionIds != null) {
            long n = config.maxPositionEmbeddings();
            if (positionIds.numel() != n || positionIds.reshape(-1).to(DType.INT64).sub(Tensor.arange(n)).abs().amax().item() != 0) {
                throw new DiffusionException("weight '" + POSITION_IDS + "' is not 0 … " + (n - 1) + ": these weights were not saved "
                        + "by a CLIP text model");
            }
        }
        loadStateDict(weights);
    }

    /** Token ids int64 [B, L] (L ≤ max_position_embeddings) → every output of the encoder. */
    public Output forward(Tensor ids) {
        if (ids.dim() != 2 || ids.size(1) > config.maxPositionEmbeddings() || ids.size(1) < 1) {
            throw new DiffusionException("the CLIP text model takes token ids [batch, up to " + config.maxPositionEmbeddings()
                    + "], got " + Arrays.toString(ids.shape()));
        }
        long b = ids.size(0);
        long c = config.hiddenSize();
        List<Tensor> states = new ArrayList<>(config.numHiddenLayers() + 1);
        Tensor h = tokenEmbedding.forward(ids).add(positionEmbedding.forward(Tensor.arange(ids.size(1))));
        states.add(h);
        for (CLIPEncoderLayer layer : layers.items()) {
            h = layer.forward(h);
            states.add(h);
        }
        Tensor last = finalLayerNorm.forward(h);
        Tensor end = endOfText(ids).view(b, 1, 1).expand(b, 1, c);
        Tensor pooled = last.gather(1, end).view(b, c);
        return new Output(last, pooled, textProjection == null ? null : textProjection.forward(pooled), List.copyOf(states));
    }

    /** The final layer norm, for callers that read an earlier layer's state as Stable Diffusion's clip skip does. */
    public Tensor finalLayerNorm(Tensor hidden) {
        return finalLayerNorm.forward(hidden);
    }

    /** Each row's end-of-text position [B]: the largest id under the legacy config, else the first end-of-text id. */
    private Tensor endOfText(Tensor ids) {
        if (config.eosTokenId() == CLIPTextConfig.LEGACY_EOS) {
            return ids.argmax(1);
        }
        return ids.eq(Tensor.full(DType.INT64, config.eosTokenId(), 1)).to(DType.FLOAT32).argmax(1);   // the first maximum
    }
}
