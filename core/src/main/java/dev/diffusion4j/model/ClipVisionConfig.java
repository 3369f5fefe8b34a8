package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ConfigValues;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Shape of a {@link ClipVisionModel}: images of {@code num_channels} × {@code image_size}², cut into
 * {@code patch_size}² patches (the key names of a CLIP vision config), read by a convolutional tower
 * with diffusers' encoder keys: {@code block_out_channels} per resolution level (multiples of 8, the
 * GroupNorm groups) and {@code layers_per_block} residual blocks in each.
 */
public record ClipVisionConfig(int numChannels, int imageSize, int patchSize, List<Integer> blockOutChannels, int layersPerBlock) {
    private static final String OWNER = "CLIP vision";
    private static final Set<String> KEYS = Set.of("num_channels", "image_size", "patch_size", "block_out_channels", "layers_per_block");

    public ClipVisionConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        if (numChannels < 1 || patchSize < 1 || imageSize < patchSize || imageSize % patchSize != 0 || layersPerBlock < 1
                || blockOutChannels.isEmpty() || blockOutChannels.stream().anyMatch(c -> c < 8 || c % 8 != 0)) {
            throw new DiffusionException("invalid CLIP vision config: num_channels " + numChannels + ", image_size " + imageSize
                    + " (a multiple of patch_size " + patchSize + "), block_out_channels " + blockOutChannels + " (multiples of 8), "
                    + "layers_per_block " + layersPerBlock);
        }
    }

    /** Patches of 2×2 pixels, then three levels of 32, 64 and 128 channels, one residual block each. */
    public static ClipVisionConfig of(int numChannels, int imageSize) {
        return new ClipVisionConfig(numChannels, imageSize, imageSize % 2 == 0 ? 2 : 1, List.of(32, 64, 128), 1);
    }

    /** Width of the pooled image feature. */
    public int hiddenSize() {
        return blockOutChannels.get(blockOutChannels.size() - 1);
    }

    /** "1x28x28". */
    public String inputShape() {
        return numChannels + "x" + imageSize + "x" + imageSize;
    }

    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num_channels", numChannels);
        m.put("image_size", imageSize);
        m.put("patch_size", patchSize);
        m.put("block_out_channels", blockOutChannels);
        m.put("layers_per_block", layersPerBlock);
        return m;
    }

    /** Reads {@link #toConfig}'s keys, all required; any other key is refused. */
    public static ClipVisionConfig fromConfig(Map<String, Object> m) {
        ConfigValues.refuseUnknown(m, KEYS, OWNER);
        try {
            return new ClipVisionConfig(ConfigValues.number(m, "num_channels", null, OWNER).intValue(),
                    ConfigValues.number(m, "image_size", null, OWNER).intValue(), ConfigValues.number(m, "patch_size", null, OWNER).intValue(),
                    ConfigValues.ints(m.get("block_out_channels")),
                    ConfigValues.number(m, "layers_per_block", null, OWNER).intValue());
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException(OWNER + " config has a missing or malformed block_out_channels (" + e.getMessage() + "): " + m);
        }
    }
}
