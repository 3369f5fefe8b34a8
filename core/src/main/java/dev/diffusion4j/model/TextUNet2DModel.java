package dev.diffusion4j.model;

import dev.diffusion4j.nn.Linear;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * A U-Net conditioned on a prompt (Rombach et al. 2022; Saharia et al. 2022): the prompt's token
 * ids pass through the {@link TextEncoder}; its per-token features are the context the U-Net's
 * cross-attention blocks attend to, and its pooled feature, projected by {@code add_embedding},
 * joins the timestep embedding as Imagen adds its pooled text embedding.
 */
public final class TextUNet2DModel extends TextConditionedNetwork {
    private final TextUNet2DConfig config;
    private final Linear addEmbedding;
    private final UNet2DModel unet;

    public TextUNet2DModel(TextUNet2DConfig config, Generator g) {
        super(new TextEncoder(config.textEncoder(), g));
        this.config = config;
        this.addEmbedding = child("add_embedding", new Linear(config.textEncoder().hiddenSize(), config.unet().timeEmbedDim(), g));
        this.unet = child("unet", new UNet2DModel(config.unet(), g));
    }

    @Override
    public TextUNet2DConfig config() {
        return config;
    }

    @Override
    protected Output denoise(Tensor x, Tensor t, TextEncoder.Output text) {
        return unet.output(unet.forward(x, t, null, addEmbedding.forward(text.pooled()), text.hidden()));
    }
}
