package dev.diffusion4j.model;

import dev.diffusion4j.models.unet.UNet2DConditionModel;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Stable Diffusion's denoiser as this project trains it: a {@link UNet2DConditionModel} (diffusers'
 * module names, child {@code unet}) whose cross-attention reads the per-token features of the
 * {@link TextEncoder} (child {@code text_encoder}). Unlike {@link TextUNet2DModel} the pooled
 * feature is not used: the U-Net sees the prompt through cross-attention only, as SD 1.x and 2.x do,
 * so its {@code unet} weights are a diffusers {@code unet/} folder's.
 */
public final class TextUNet2DConditionModel extends TextConditionedNetwork {
    private final TextUNet2DConditionConfig config;
    private final UNet2DConditionModel unet;

    public TextUNet2DConditionModel(TextUNet2DConditionConfig config, Generator g) {
        super(new TextEncoder(config.textEncoder(), g));
        this.config = config;
        this.unet = child("unet", new UNet2DConditionModel(config.unet(), g));
    }

    @Override
    public TextUNet2DConditionConfig config() {
        return config;
    }

    /** The U-Net alone, with diffusers' names: {@link UNet2DConditionModel#save} writes it as a {@code unet/} folder. */
    public UNet2DConditionModel unet() {
        return unet;
    }

    @Override
    protected Output denoise(Tensor x, Tensor t, TextEncoder.Output text) {
        return new Output(unet.forward(x, t, text.hidden()), null);
    }
}
