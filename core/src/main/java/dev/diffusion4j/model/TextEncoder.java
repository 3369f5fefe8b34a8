package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.nn.Embedding;
import dev.diffusion4j.nn.LayerNorm;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.nn.Named;
import dev.diffusion4j.nn.TransformerBlock;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * A small CLIP-style text transformer, trained together with the diffusion model (Imagen and
 * Stable Diffusion use a frozen pretrained one; none can be downloaded here):
 * <pre>
 * h = token_embedding(ids) + position_embedding(0 … L−1)
 * h ← layers(h)            causal self-attention, so a token sees only the tokens before it
 * hidden = final_layer_norm(h);  pooled = hidden at the end-of-text token
 * </pre>
 * The causal mask makes the padding after end-of-text unable to change the prompt's features, and
 * pooling at end-of-text (the largest id, as in CLIP) gives a summary of the whole prompt.
 */
public final class TextEncoder extends Module {
    private final TextEncoderConfig config;
    private final Embedding tokenEmbedding;
    private final Embedding positionEmbedding;
    private final ModuleList<TransformerBlock> layers;
    private final LayerNorm finalLayerNorm;

    /** The encoded prompt: per-token features [B, L, C] and the end-of-text feature [B, C]. */
    public record Output(Tensor hidden, Tensor pooled) {
    }

    public TextEncoder(TextEncoderConfig config, Generator g) {
        this.config = config;
        Named embeddings = child("embeddings", new Named());
        // CLIP's initialisation (std 0.02 and 0.01): with N(0, 1) rows, AdamW's steps of about the learning rate would
        // need thousands of steps to move a word's embedding, and every prompt's pooled feature stayed alike (cosine > 0.93)
        this.tokenEmbedding = embeddings.add("token_embedding", new Embedding(config.vocabSize(), config.hiddenSize(), 0.02, g));
        this.positionEmbedding = embeddings.add("position_embedding",
                new Embedding(config.maxPositionEmbeddings(), config.hiddenSize(), 0.01, g));
        this.layers = child("encoder", new Named()).add("layers", new ModuleList<>());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(new TransformerBlock(config.hiddenSize(), config.headDim(), 0, true, g));
        }
        this.finalLayerNorm = child("final_layer_norm", new LayerNorm(config.hiddenSize()));
    }

    public TextEncoderConfig config() {
        return config;
    }

    /** ids: int64 [B, L] with L = max_position_embeddings (a tokenizer's encoding) → hidden and pooled features. */
    public Output forward(Tensor ids) {
        if (ids.dim() != 2 || ids.size(1) != config.maxPositionEmbeddings()) {
            throw new DiffusionException("the text encoder takes token ids [batch, " + config.maxPositionEmbeddings() + "], got "
                    + java.util.Arrays.toString(ids.shape()));
        }
        Tensor h = tokenEmbedding.forward(ids).add(positionEmbedding.forward(Tensor.arange(ids.size(1))));
        for (TransformerBlock layer : layers.items()) {
            h = layer.forward(h, null);
        }
        Tensor hidden = finalLayerNorm.forward(h);
        long b = ids.size(0);
        long c = config.hiddenSize();
        Tensor end = ids.argmax(1).view(b, 1, 1).expand(b, 1, c);
        return new Output(hidden, hidden.gather(1, end).view(b, c));
    }
}
