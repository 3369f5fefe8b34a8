package dev.diffusion4j.models.vae;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.nn.Init;
import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The KL-regularised autoencoder of latent diffusion (Rombach et al. 2022) with diffusers' module
 * names ({@code encoder, decoder, quant_conv, post_quant_conv}), so a Stable Diffusion {@code vae/}
 * folder's weights load by key. {@link #encode} gives the posterior over latents, {@link #decode}
 * maps a latent back to an image; images are in [−1, 1].
 */
public final class AutoencoderKL extends Module {
    /** diffusers' names inside a model folder. */
    public static final String CONFIG_FILE = ModelFolder.CONFIG_FILE;
    public static final String WEIGHTS_FILE = ModelFolder.DIFFUSERS_WEIGHTS;

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

    /**
     * Reads a diffusers model folder ({@code vae/} of a Stable Diffusion folder, or one {@link #save}
     * wrote): {@value #CONFIG_FILE} and {@value #WEIGHTS_FILE}, any float dtype. Only safetensors are
     * read; a missing, extra or misshapen weight is an error that names it.
     */
    public static AutoencoderKL load(Path folder) {
        AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.fromConfig(ModelFolder.readConfig(folder)), Init.FOR_LOADING);
        ModelFolder.readWeights(folder, ModelFolder.weightsFile(folder, WEIGHTS_FILE), "an AutoencoderKL", " (safetensors: pickled .bin files are never read)",
                vae::loadStateDict);
        return vae;
    }

    /** The autoencoder of a config.json map (diffusers' keys) with {@code weights}; a missing, extra or misshapen weight is an error. */
    public static AutoencoderKL of(Map<String, Object> config, Map<String, Tensor> weights) {
        AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.fromConfig(config), Init.FOR_LOADING);
        vae.loadStateDict(weights);
        return vae;
    }

    /** Writes {@code folder} in diffusers' layout: {@value #CONFIG_FILE} and float32 {@value #WEIGHTS_FILE}. */
    public void save(Path folder) {
        ModelFolder.write(folder, config.toConfig(), WEIGHTS_FILE, stateDict());
    }

    /** images [B, in, H, W] (H, W multiples of the downsampling factor) → q(z | x). */
    public DiagonalGaussian encode(Tensor images) {
        checkShape(images, config.inChannels(), config.downsampleFactor(), "images");
        return DiagonalGaussian.fromMoments(moments(images));
    }

    private Tensor moments(Tensor images) {
        Tensor moments = encoder.forward(images);
        return quantConv == null ? moments : quantConv.forward(moments);
    }

    /** z [B, latent, h, w] → images [B, out, h·f, w·f]. */
    public Tensor decode(Tensor z) {
        checkShape(z, config.latentChannels(), 1, "latents");
        return decoder.forward(postQuantConv == null ? z : postQuantConv.forward(z));
    }

    /**
     * {@link #decode} in overlapping tiles of {@code tile}×{@code tile} latent pixels, {@code overlap}
     * of them shared by neighbours, one batch item at a time: memory is bounded by one tile's
     * activations whatever the image size. Latents no larger than one tile decode whole.
     */
    public Tensor decodeTiled(Tensor z, int tile, int overlap) {
        checkShape(z, config.latentChannels(), 1, "latents");
        return tiled(z, tile, overlap, config.downsampleFactor(), 1, config.outChannels(), this::decode);
    }

    /**
     * {@link #encode} in overlapping tiles of {@code tile}×{@code tile} image pixels ({@code tile} and
     * {@code overlap} multiples of the downsampling factor), one batch item at a time; the moments of
     * the tiles are blended as {@link #decodeTiled} blends images.
     */
    public DiagonalGaussian encodeTiled(Tensor images, int tile, int overlap) {
        int f = config.downsampleFactor();
        checkShape(images, config.inChannels(), f, "images");
        if (tile % f != 0 || overlap % f != 0) {
            throw new DiffusionException("AutoencoderKL: encoder tiles and overlaps must be multiples of " + f + ", got tile " + tile
                    + " and overlap " + overlap);
        }
        return DiagonalGaussian.fromMoments(tiled(images, tile, overlap, 1, f, 2 * config.latentChannels(), this::moments));
    }

    /**
     * Runs {@code op}, which scales sizes by up/down, over overlapping tiles of each item of {@code x}.
     * Each tile's output is weighted by a ramp that rises across the overlap on the sides it shares,
     * and the weighted outputs are averaged, so seams blend linearly. The networks are not strictly
     * local (GroupNorm and attention see a whole tile), so tiles differ slightly from a whole pass.
     */
    private static Tensor tiled(Tensor x, int tile, int overlap, int up, int down, int outChannels, UnaryOperator<Tensor> op) {
        if (tile <= 0 || overlap < 0 || overlap >= tile) {
            throw new DiffusionException("AutoencoderKL: tiles need 0 <= overlap < tile, got tile " + tile + " and overlap " + overlap);
        }
        long h = x.size(2);
        long w = x.size(3);
        List<Tensor> outputs = new ArrayList<>();
        for (long item = 0; item < x.size(0); item++) {
            Tensor one = x.narrow(0, item, 1);
            if (h <= tile && w <= tile) {
                outputs.add(op.apply(one));
                continue;
            }
            Tensor sum = Tensor.zeros(1, outChannels, h * up / down, w * up / down);
            Tensor weights = Tensor.zeros(1, 1, h * up / down, w * up / down);
            for (long top : starts(h, tile, overlap)) {
                for (long left : starts(w, tile, overlap)) {
                    long th = Math.min(tile, h - top);
                    long tw = Math.min(tile, w - left);
                    Tensor out = op.apply(one.narrow(2, top, th).narrow(3, left, tw));
                    Tensor ramp = ramp(th * up / down, overlap * up / down, top > 0, top + th < h).view(1, 1, -1, 1)
                            .mul(ramp(tw * up / down, overlap * up / down, left > 0, left + tw < w).view(1, 1, 1, -1));
                    long[] pad = {left * up / down, (w - left - tw) * up / down, top * up / down, (h - top - th) * up / down};
                    sum = sum.add(out.mul(ramp).pad2d(pad[0], pad[1], pad[2], pad[3]));
                    weights = weights.add(ramp.pad2d(pad[0], pad[1], pad[2], pad[3]));
                }
            }
            outputs.add(sum.div(weights));
        }
        return Tensor.cat(outputs, 0);
    }

    /** Tile origins covering [0, size) with a stride of tile − overlap; the last tile ends at size. */
    private static List<Long> starts(long size, int tile, int overlap) {
        List<Long> out = new ArrayList<>();
        long stride = tile - overlap;
        for (long s = 0; ; s += stride) {
            if (s + tile >= size) {
                out.add(Math.max(0, size - tile));
                return out;
            }
            out.add(s);
        }
    }

    /** 1 inside, rising linearly over {@code overlap} pixels on each side that meets a neighbour (never 0). */
    private static Tensor ramp(long length, long overlap, boolean rampStart, boolean rampEnd) {
        double[] r = new double[(int) length];
        for (int i = 0; i < length; i++) {
            double v = 1;
            if (rampStart && i < overlap) {
                v = Math.min(v, (i + 1.0) / (overlap + 1));
            }
            if (rampEnd && length - 1 - i < overlap) {
                v = Math.min(v, (length - i) / (overlap + 1.0));
            }
            r[i] = v;
        }
        return Tensor.of(r, length).to(DType.FLOAT32);
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
