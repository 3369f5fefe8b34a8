package dev.diffusion4j.models.vae;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * The KL-regularised autoencoder of latent diffusion (Rombach et al. 2022) with diffusers' module
 * names ({@code encoder, decoder, quant_conv, post_quant_conv}), so a Stable Diffusion {@code vae/}
 * folder's weights load by key. {@link #encode} gives the posterior over latents, {@link #decode}
 * maps a latent back to an image; images are in [−1, 1].
 */
public final class AutoencoderKL extends Module {
    private final AutoencoderKLConfig config;
    private final Encoder encoder;
    private final Decoder decoder;
    private final Conv2d quantConv;
    private final Conv2d postQuantConv;

    public AutoencoderKL(AutoencoderKLConfig config, Generator g) {
        this.config = config;
        this.encoder = child("encoder", new Encoder(config, g));
        this.decoder = child("decoder", new Decoder(config, g));
        int moments = 2 * config.latentChannels();
        this.quantConv = config.useQuantConv() ? child("quant_conv", new Conv2d(moments, moments, 1, g)) : null;
        this.postQuantConv = config.usePostQuantConv()
                ? child("post_quant_conv", new Conv2d(config.latentChannels(), config.latentChannels(), 1, g)) : null;
    }

    public AutoencoderKLConfig config() {
        return config;
    }

    /** images [B, in, H, W] (H, W multiples of the downsampling factor) → q(z | x). */
    public DiagonalGaussian encode(Tensor images) {
        checkShape(images, config.inChannels(), config.downsampleFactor(), "images");
        Tensor moments = encoder.forward(images);
        return DiagonalGaussian.fromMoments(quantConv == null ? moments : quantConv.forward(moments));
    }

    /** z [B, latent, h, w] → images [B, out, h·f, w·f]. */
    public Tensor decode(Tensor z) {
        checkShape(z, config.latentChannels(), 1, "latents");
        return decoder.forward(postQuantConv == null ? z : postQuantConv.forward(z));
    }

    /** Reconstruction through the posterior's mode, diffusers' {@code forward(sample_posterior=False)}. */
    public Tensor reconstruct(Tensor images) {
        return decode(encode(images).mode());
    }

    /** z ↦ the latent a diffusion model sees: scaling_factor · (z − shift_factor). */
    public Tensor toDiffusionLatent(Tensor z) {
        Tensor shifted = config.shiftFactor() == null ? z : z.sub(config.shiftFactor());
        return shifted.mul(config.scalingFactor());
    }

    /** The inverse of {@link #toDiffusionLatent}. */
    public Tensor fromDiffusionLatent(Tensor latent) {
        Tensor z = latent.div(config.scalingFactor());
        return config.shiftFactor() == null ? z : z.add(config.shiftFactor());
    }

    private static void checkShape(Tensor t, int channels, int multiple, String what) {
        long[] s = t.shape();
        if (s.length != 4 || s[1] != channels || s[2] % multiple != 0 || s[3] % multiple != 0) {
            throw new DiffusionException("AutoencoderKL: " + what + " must be [batch, " + channels + ", H, W]"
                    + (multiple > 1 ? " with H and W multiples of " + multiple : "") + ", got " + java.util.Arrays.toString(s));
        }
    }
}
