package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The U-Net of the seed tutorial (an annotated DDPM on Fashion-MNIST), reproduced layer for layer:
 * a 7×7 initial conv to ⌊dim/3⌋·2 channels, levels of width dim·mult, each with two
 * {@link dev.diffusion4j.nn.ConvNextBlock ConvNeXt blocks}, pre-normalised linear attention in a
 * residual and a 4×4 stride-2 conv down (none at the coarsest level); a middle of ConvNeXt, full
 * attention, ConvNeXt; the mirror path up with 4×4 stride-2 transposed convs; a final ConvNeXt
 * block and 1×1 conv. The timestep enters as sin/cos features of size dim, Linear → GELU →
 * Linear to 4·dim.
 */
public record SeedUNetConfig(int sampleSize, int channels, int dim, List<Integer> dimMults, int convnextMult, int attentionHeads,
                             int attentionHeadDim) implements NetworkConfig {
    public static final String TYPE = "seed_unet";

    public SeedUNetConfig {
        dimMults = List.copyOf(dimMults);
        if (channels < 1 || dim < 6 || dimMults.isEmpty() || dimMults.stream().anyMatch(m -> m < 1) || convnextMult < 1
                || attentionHeads < 1 || attentionHeadDim < 1) {
            throw new DiffusionException("invalid seed U-Net: channels " + channels + ", dim " + dim + ", mults " + dimMults
                    + ", ConvNeXt mult " + convnextMult + ", " + attentionHeads + " heads of " + attentionHeadDim);
        }
        int downs = dimMults.size() - 1;
        if (sampleSize < 1 || sampleSize % (1 << downs) != 0) {
            throw new DiffusionException("the seed U-Net halves the image " + downs + " times: image size " + sampleSize
                    + " must be a multiple of " + (1 << downs));
        }
    }

    /** The seed's network: dim 28, mults 1, 2, 4, ConvNeXt mult 2, 4 heads of 32. */
    public static SeedUNetConfig seed(int channels, int imageSize) {
        return new SeedUNetConfig(imageSize, channels, 28, List.of(1, 2, 4), 2, 4, 32);
    }

    /** Width after the initial conv: ⌊dim/3⌋·2. */
    public int initDim() {
        return dim / 3 * 2;
    }

    /** 4·dim. */
    public int timeDim() {
        return 4 * dim;
    }

    /** [initDim, dim·m₁, dim·m₂, …]. */
    public List<Integer> dims() {
        List<Integer> d = new ArrayList<>();
        d.add(initDim());
        dimMults.forEach(m -> d.add(dim * m));
        return d;
    }

    @Override
    public String modelType() {
        return TYPE;
    }

    @Override
    public int sizeMultiple() {
        return 1 << (dimMults.size() - 1);
    }

    @Override
    public long[] sampleShape() {
        return new long[] {channels, sampleSize, sampleSize};
    }

    @Override
    public VarianceType varianceType() {
        return VarianceType.FIXED;
    }

    @Override
    public SeedUNet build(Generator g) {
        return new SeedUNet(this, g);
    }

    @Override
    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", TYPE);
        m.put("sample_size", sampleSize);
        m.put("channels", channels);
        m.put("dim", dim);
        m.put("dim_mults", dimMults);
        m.put("convnext_mult", convnextMult);
        m.put("attention_heads", attentionHeads);
        m.put("attention_head_dim", attentionHeadDim);
        return m;
    }

    public static SeedUNetConfig fromConfig(Map<String, Object> m) {
        try {
            List<Integer> mults = new ArrayList<>();
            for (Object o : (List<?>) m.get("dim_mults")) {
                mults.add(((Number) o).intValue());
            }
            return new SeedUNetConfig(((Number) m.get("sample_size")).intValue(), ((Number) m.get("channels")).intValue(),
                    ((Number) m.get("dim")).intValue(), mults, ((Number) m.get("convnext_mult")).intValue(),
                    ((Number) m.get("attention_heads")).intValue(), ((Number) m.get("attention_head_dim")).intValue());
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException("seed U-Net config has a missing or malformed field (" + e.getMessage() + "): " + m);
        }
    }
}
