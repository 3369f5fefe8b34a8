package dev.diffusion4j.models.vae;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ConfigValues;
import dev.diffusion4j.nn.Activation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The architecture of an {@link AutoencoderKL}, with diffusers' {@code config.json} keys, so a Stable
 * Diffusion {@code vae/} folder's config reads unchanged. Latents are {@code scalingFactor·(z − shiftFactor)}
 * when handed to a diffusion model (Rombach et al. 2022: the factor makes the latents' std about 1).
 *
 * @param blockOutChannels channels per resolution level; the image shrinks by 2^(levels − 1)
 * @param layersPerBlock   resnets per encoder level (the decoder has one more per level)
 */
public record AutoencoderKLConfig(int inChannels, int outChannels, List<String> downBlockTypes, List<String> upBlockTypes,
                                  List<Integer> blockOutChannels, int layersPerBlock, Activation actFn, int latentChannels,
                                  int normNumGroups, int sampleSize, double scalingFactor, Double shiftFactor,
                                  boolean useQuantConv, boolean usePostQuantConv, boolean midBlockAddAttention) {
    public static final String DOWN = "DownEncoderBlock2D";
    public static final String UP = "UpDecoderBlock2D";
    /** GroupNorm's ε in every block of diffusers' autoencoder (fixed there, not a config key). */
    public static final double NORM_EPS = 1e-6;

    private static final Set<String> KNOWN = Set.of("_class_name", "_diffusers_version", "_name_or_path", "in_channels", "out_channels",
            "down_block_types", "up_block_types", "block_out_channels", "layers_per_block", "act_fn", "latent_channels",
            "norm_num_groups", "sample_size", "scaling_factor", "shift_factor", "latents_mean", "latents_std", "force_upcast",
            "use_quant_conv", "use_post_quant_conv", "mid_block_add_attention");

    public AutoencoderKLConfig {
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        check(!blockOutChannels.isEmpty(), "block_out_channels is empty");
        check(downBlockTypes.size() == blockOutChannels.size() && upBlockTypes.size() == blockOutChannels.size(),
                "down_block_types, up_block_types and block_out_channels must have one entry per level, got " + downBlockTypes.size()
                        + ", " + upBlockTypes.size() + " and " + blockOutChannels.size());
        // diffusers' AutoencoderKL is built from these two block types only (its get_down_block /
        // get_up_block choices for this class); a config naming others is a different model, refused
        for (String t : downBlockTypes) {
            check(DOWN.equals(t), "down block type '" + t + "' is not supported (only " + DOWN + ")");
        }
        for (String t : upBlockTypes) {
            check(UP.equals(t), "up block type '" + t + "' is not supported (only " + UP + ")");
        }
        check(inChannels > 0 && outChannels > 0 && latentChannels > 0 && layersPerBlock > 0,
                "in_channels, out_channels, latent_channels and layers_per_block must be positive");
        for (int c : blockOutChannels) {
            check(c > 0 && c % normNumGroups == 0, "block_out_channels " + blockOutChannels + " must be multiples of norm_num_groups "
                    + normNumGroups);
        }
        check(scalingFactor > 0, "scaling_factor must be positive, got " + scalingFactor);
    }

    /** Stable Diffusion 1.x/2.x's autoencoder: 3 → 4 latent channels, 8× smaller, scaling factor 0.18215. */
    public static AutoencoderKLConfig stableDiffusion() {
        return new AutoencoderKLConfig(3, 3, List.of(DOWN, DOWN, DOWN, DOWN), List.of(UP, UP, UP, UP), List.of(128, 256, 512, 512), 2,
                Activation.SILU, 4, 32, 512, 0.18215, null, true, true, true);
    }

    /**
     * An autoencoder of {@code imageChannels}×{@code imageSize}² images with one level per entry of
     * {@code blockOutChannels} (downsampling by 2 between levels), SiLU, both quant convolutions and the
     * mid-block attention, as diffusers builds it by default; scaling factor 1 until one is measured.
     */
    public static AutoencoderKLConfig of(int imageChannels, int imageSize, List<Integer> blockOutChannels, int layersPerBlock,
                                         int latentChannels, int normGroups) {
        return new AutoencoderKLConfig(imageChannels, imageChannels, java.util.Collections.nCopies(blockOutChannels.size(), DOWN),
                java.util.Collections.nCopies(blockOutChannels.size(), UP), blockOutChannels, layersPerBlock, Activation.SILU,
                latentChannels, normGroups, imageSize, 1.0, null, true, true, true);
    }

    /** This config with another {@code scaling_factor} (found from the data's latents after training). */
    public AutoencoderKLConfig withScalingFactor(double s) {
        return new AutoencoderKLConfig(inChannels, outChannels, downBlockTypes, upBlockTypes, blockOutChannels, layersPerBlock, actFn,
                latentChannels, normNumGroups, sampleSize, s, shiftFactor, useQuantConv, usePostQuantConv, midBlockAddAttention);
    }

    /** How many times smaller than the image a latent is, per side. */
    public int downsampleFactor() {
        return 1 << (blockOutChannels.size() - 1);
    }

    /** [latent channels, H / f, W / f] of images [C, H, W]; fails unless such images fit this autoencoder. */
    public long[] latentShape(long[] image) {
        int f = downsampleFactor();
        if (image.length != 3 || image[0] != inChannels || image[1] % f != 0 || image[2] % f != 0) {
            throw new DiffusionException("the autoencoder reads " + inChannels + "-channel images with sides divisible by " + f
                    + ", got " + String.join("×", java.util.Arrays.stream(image).mapToObj(Long::toString).toList())
                    + "; train one on these images (train-vae) or pick --image-size/--color to match");
        }
        return new long[] {latentChannels, image[1] / f, image[2] / f};
    }

    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "AutoencoderKL");
        m.put("in_channels", inChannels);
        m.put("out_channels", outChannels);
        m.put("down_block_types", downBlockTypes);
        m.put("up_block_types", upBlockTypes);
        m.put("block_out_channels", blockOutChannels);
        m.put("layers_per_block", layersPerBlock);
        m.put("act_fn", actFn.configName());
        m.put("latent_channels", latentChannels);
        m.put("norm_num_groups", normNumGroups);
        m.put("sample_size", sampleSize);
        m.put("scaling_factor", scalingFactor);
        m.put("shift_factor", shiftFactor);
        m.put("use_quant_conv", useQuantConv);
        m.put("use_post_quant_conv", usePostQuantConv);
        m.put("mid_block_add_attention", midBlockAddAttention);
        return m;
    }

    /**
     * Reads a diffusers {@code AutoencoderKL} config; absent keys take diffusers' defaults. A key this
     * class does not know is an error: an architecture change we would otherwise build wrong.
     */
    public static AutoencoderKLConfig fromConfig(Map<String, Object> m) {
        ConfigValues.refuseUnknown(m, KNOWN, "AutoencoderKL");
        Object cls = m.get("_class_name");
        check(cls == null || "AutoencoderKL".equals(cls), "_class_name is '" + cls + "', not AutoencoderKL");
        try {
            Object shift = m.get("shift_factor");
            return new AutoencoderKLConfig(
                    ConfigValues.number(m, "in_channels", 3, "AutoencoderKL").intValue(),
                    ConfigValues.number(m, "out_channels", 3, "AutoencoderKL").intValue(),
                    ConfigValues.strings(m.getOrDefault("down_block_types", List.of(DOWN))),
                    ConfigValues.strings(m.getOrDefault("up_block_types", List.of(UP))),
                    ConfigValues.ints(m.getOrDefault("block_out_channels", List.of(64))),
                    ConfigValues.number(m, "layers_per_block", 1, "AutoencoderKL").intValue(),
                    Activation.parse((String) m.getOrDefault("act_fn", "silu")),
                    ConfigValues.number(m, "latent_channels", 4, "AutoencoderKL").intValue(),
                    ConfigValues.number(m, "norm_num_groups", 32, "AutoencoderKL").intValue(),
                    ConfigValues.number(m, "sample_size", 32, "AutoencoderKL").intValue(),
                    ConfigValues.number(m, "scaling_factor", 0.18215, "AutoencoderKL").doubleValue(),
                    shift == null ? null : ConfigValues.number(m, "shift_factor", 0, "AutoencoderKL").doubleValue(),
                    (Boolean) m.getOrDefault("use_quant_conv", true),
                    (Boolean) m.getOrDefault("use_post_quant_conv", true),
                    (Boolean) m.getOrDefault("mid_block_add_attention", true));
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException("AutoencoderKL config has a malformed field (" + e.getMessage() + "): " + m);
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new DiffusionException("AutoencoderKL config: " + message);
        }
    }

}
