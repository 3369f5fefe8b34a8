package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ConfigValues;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.tensor.Generator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shape of a {@link UNet2DModel}, with the keys and meanings of diffusers' {@code UNet2DModel}
 * config.json, so such a config (and its safetensors weights) loads as is. Our own additions:
 * {@code model_type} "unet_2d", {@code variance_type}, and {@code downsample_type} "pool".
 */
public record UNet2DConfig(int sampleSize, int inChannels, int outChannels, boolean centerInputSample, boolean flipSinToCos,
                           double freqShift, List<String> downBlockTypes, List<String> upBlockTypes,
                           List<Integer> blockOutChannels, int layersPerBlock, double midBlockScaleFactor, int downsamplePadding,
                           String downsampleType, Activation actFn, Integer attentionHeadDim, int normNumGroups,
                           Integer attnNormNumGroups, double normEps, String resnetTimeScaleShift, boolean addAttention,
                           Integer numClassEmbeds, double dropout, VarianceType varianceType, Integer crossAttentionDim)
        implements NetworkConfig {
    public static final String TYPE = "unet_2d";
    public static final String DOWN = "DownBlock2D";
    public static final String ATTN_DOWN = "AttnDownBlock2D";
    public static final String UP = "UpBlock2D";
    public static final String ATTN_UP = "AttnUpBlock2D";
    public static final String CROSS_ATTN_DOWN = "CrossAttnDownBlock2D";
    public static final String CROSS_ATTN_UP = "CrossAttnUpBlock2D";
    private static final List<String> DOWN_TYPES = List.of(DOWN, ATTN_DOWN, CROSS_ATTN_DOWN);
    private static final List<String> UP_TYPES = List.of(UP, ATTN_UP, CROSS_ATTN_UP);

    public UNet2DConfig {
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        if (varianceType == null) {
            varianceType = VarianceType.FIXED;
        }
        int levels = blockOutChannels.size();
        require(levels >= 1, "block_out_channels needs at least one level");
        require(downBlockTypes.size() == levels && upBlockTypes.size() == levels, "down_block_types, up_block_types and "
                + "block_out_channels must have the same length, got " + downBlockTypes.size() + ", " + upBlockTypes.size() + ", " + levels);
        for (String t : downBlockTypes) {
            require(DOWN_TYPES.contains(t), "unsupported down block type '" + t + "' (supported: " + String.join(", ", DOWN_TYPES) + ")");
            require(!t.equals(CROSS_ATTN_DOWN) || crossAttentionDim != null, t + " needs cross_attention_dim");
        }
        for (String t : upBlockTypes) {
            require(UP_TYPES.contains(t), "unsupported up block type '" + t + "' (supported: " + String.join(", ", UP_TYPES) + ")");
            require(!t.equals(CROSS_ATTN_UP) || crossAttentionDim != null, t + " needs cross_attention_dim");
        }
        require(crossAttentionDim == null || (crossAttentionDim >= 1 && addAttention), "cross_attention_dim must be ≥ 1 and needs the "
                + "middle block's attention (add_attention), which then cross-attends");
        require(inChannels >= 1, "in_channels must be at least 1");
        int expectedOut = varianceType == VarianceType.LEARNED_RANGE ? 2 * inChannels : inChannels;
        require(outChannels == expectedOut, "out_channels must be " + expectedOut + " for in_channels " + inChannels
                + " and variance_type " + varianceType.configName() + ", got " + outChannels);
        require(layersPerBlock >= 1, "layers_per_block must be at least 1");
        require(normNumGroups >= 1, "norm_num_groups must be at least 1");
        for (int c : blockOutChannels) {
            require(c >= 1 && c % normNumGroups == 0, "block_out_channels " + blockOutChannels + " must be multiples of norm_num_groups "
                    + normNumGroups);
        }
        if (attentionHeadDim != null) {
            for (int i = 0; i < levels; i++) {
                boolean attends = !downBlockTypes.get(i).equals(DOWN) || !upBlockTypes.get(levels - 1 - i).equals(UP)
                        || (addAttention && i == levels - 1);
                require(!attends || blockOutChannels.get(i) % attentionHeadDim == 0, "block_out_channels[" + i + "] = "
                        + blockOutChannels.get(i) + " has attention and must be a multiple of attention_head_dim " + attentionHeadDim);
            }
        }
        require(blockOutChannels.get(0) % 2 == 0 && blockOutChannels.get(0) >= 4, "block_out_channels[0] must be even and ≥ 4 "
                + "(it sizes the timestep embedding)");
        require(sampleSize >= 1 && sampleSize % (1 << (levels - 1)) == 0, "sample_size " + sampleSize + " must be divisible by 2^"
                + (levels - 1) + " for " + levels + " resolution levels");
        require(resnetTimeScaleShift.equals("default") || resnetTimeScaleShift.equals("scale_shift"),
                "resnet_time_scale_shift must be default or scale_shift, got " + resnetTimeScaleShift);
        require(downsampleType.equals("conv") || downsampleType.equals("pool"), "downsample_type must be conv or pool, got " + downsampleType);
        require(downsamplePadding == 0 || downsamplePadding == 1, "downsample_padding must be 0 or 1");
        require(numClassEmbeds == null || numClassEmbeds >= 1, "num_class_embeds must be at least 1");
        require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1)");
        require(midBlockScaleFactor > 0, "mid_block_scale_factor must be positive");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new DiffusionException("U-Net config: " + message);
        }
    }

    /**
     * The default U-Net for small images (28–32 px): three levels of 16, 32 and 64 channels, one
     * residual block per level, self-attention at the coarsest level and in the middle, scale-shift
     * timestep conditioning, 8 normalisation groups — sized for a CPU budget of minutes.
     */
    public static UNet2DConfig defaults(int channels, int imageSize) {
        return defaults(channels, imageSize, 16, 32, 64);
    }

    /**
     * The default design at other widths, one level per entry of {@code widths}: self-attention at
     * the coarsest level and in the middle. The image size need only suit this many levels.
     */
    public static UNet2DConfig defaults(int channels, int imageSize, int... widths) {
        return new UNet2DConfig(imageSize, channels, channels, false, true, 0, coarsestAttends(DOWN, ATTN_DOWN, widths.length, true),
                coarsestAttends(UP, ATTN_UP, widths.length, false), Arrays.stream(widths).boxed().toList(), 1, 1.0, 1, "conv",
                Activation.SILU, 32, 8, null, 1e-5, "scale_shift", true, null, 0.0, VarianceType.FIXED, null);
    }

    /** {@code levels} block types, {@code plain} but {@code attending} at the coarsest level (last going down, first going up). */
    private static List<String> coarsestAttends(String plain, String attending, int levels, boolean down) {
        List<String> types = new ArrayList<>(Collections.nCopies(levels, plain));
        types.set(down ? levels - 1 : 0, attending);
        return types;
    }

    /** This architecture with other widths per level; the block types are kept when the level count is the same. */
    public UNet2DConfig withBlockOutChannels(int... channels) {
        List<Integer> widths = Arrays.stream(channels).boxed().toList();
        boolean sameLevels = channels.length == blockOutChannels.size();
        List<String> down = sameLevels ? downBlockTypes : coarsestAttends(DOWN, ATTN_DOWN, channels.length, true);
        List<String> up = sameLevels ? upBlockTypes : coarsestAttends(UP, ATTN_UP, channels.length, false);
        return new UNet2DConfig(sampleSize, inChannels, outChannels, centerInputSample, flipSinToCos, freqShift, down, up, widths,
                layersPerBlock, midBlockScaleFactor, downsamplePadding, downsampleType, actFn, attentionHeadDim, normNumGroups,
                attnNormNumGroups, normEps, resnetTimeScaleShift, addAttention, numClassEmbeds, dropout, varianceType, crossAttentionDim);
    }

    /** This architecture with another variance head (a learned range doubles the output channels). */
    public UNet2DConfig withVarianceType(VarianceType v) {
        int out = v == VarianceType.LEARNED_RANGE ? 2 * inChannels : inChannels;
        return new UNet2DConfig(sampleSize, inChannels, out, centerInputSample, flipSinToCos, freqShift, downBlockTypes, upBlockTypes,
                blockOutChannels, layersPerBlock, midBlockScaleFactor, downsamplePadding, downsampleType, actFn, attentionHeadDim,
                normNumGroups, attnNormNumGroups, normEps, resnetTimeScaleShift, addAttention, numClassEmbeds, dropout, v, crossAttentionDim);
    }

    /** This architecture with a class-label embedding of {@code classes} entries added to the timestep embedding. */
    public UNet2DConfig withClassEmbeddings(Integer classes) {
        return new UNet2DConfig(sampleSize, inChannels, outChannels, centerInputSample, flipSinToCos, freqShift, downBlockTypes,
                upBlockTypes, blockOutChannels, layersPerBlock, midBlockScaleFactor, downsamplePadding, downsampleType, actFn,
                attentionHeadDim, normNumGroups, attnNormNumGroups, normEps, resnetTimeScaleShift, addAttention, classes, dropout,
                varianceType, crossAttentionDim);
    }

    /**
     * This architecture conditioned on context tokens of {@code dim} channels: its attention blocks
     * become cross-attention blocks (self-attention, then attention to the context) and so does the
     * middle block's.
     */
    public UNet2DConfig withCrossAttention(int dim) {
        List<String> down = downBlockTypes.stream().map(t -> t.equals(ATTN_DOWN) ? CROSS_ATTN_DOWN : t).toList();
        List<String> up = upBlockTypes.stream().map(t -> t.equals(ATTN_UP) ? CROSS_ATTN_UP : t).toList();
        return new UNet2DConfig(sampleSize, inChannels, outChannels, centerInputSample, flipSinToCos, freqShift, down, up,
                blockOutChannels, layersPerBlock, midBlockScaleFactor, downsamplePadding, downsampleType, actFn, attentionHeadDim,
                normNumGroups, attnNormNumGroups, normEps, resnetTimeScaleShift, addAttention, numClassEmbeds, dropout, varianceType, dim);
    }

    /** Channels of the timestep embedding: 4 × block_out_channels[0], as in diffusers. */
    public int timeEmbedDim() {
        return 4 * blockOutChannels.get(0);
    }

    @Override
    public String modelType() {
        return TYPE;
    }

    @Override
    public int sizeMultiple() {
        return 1 << (blockOutChannels.size() - 1);
    }

    /** The class table has one more row than classes: the last is the null label. */
    @Override
    public NetworkConfig withClasses(int classes) {
        return withClassEmbeddings(classes + 1);
    }

    @Override
    public NetworkConfig withText() {
        return TextUNet2DConfig.of(this);
    }

    @Override
    public long[] sampleShape() {
        return new long[] {inChannels, sampleSize, sampleSize};
    }

    @Override
    public UNet2DModel build(Generator g) {
        return new UNet2DModel(this, g);
    }

    @Override
    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", TYPE);
        m.put("_class_name", "UNet2DModel");
        m.put("sample_size", sampleSize);
        m.put("in_channels", inChannels);
        m.put("out_channels", outChannels);
        m.put("center_input_sample", centerInputSample);
        m.put("time_embedding_type", "positional");
        m.put("freq_shift", freqShift);
        m.put("flip_sin_to_cos", flipSinToCos);
        m.put("down_block_types", downBlockTypes);
        m.put("up_block_types", upBlockTypes);
        m.put("block_out_channels", blockOutChannels);
        m.put("layers_per_block", layersPerBlock);
        m.put("mid_block_scale_factor", midBlockScaleFactor);
        m.put("downsample_padding", downsamplePadding);
        m.put("downsample_type", downsampleType);
        m.put("upsample_type", "conv");
        m.put("dropout", dropout);
        m.put("act_fn", actFn.configName());
        m.put("attention_head_dim", attentionHeadDim);
        m.put("norm_num_groups", normNumGroups);
        m.put("attn_norm_num_groups", attnNormNumGroups);
        m.put("norm_eps", normEps);
        m.put("resnet_time_scale_shift", resnetTimeScaleShift);
        m.put("add_attention", addAttention);
        m.put("class_embed_type", null);
        m.put("num_class_embeds", numClassEmbeds);
        m.put("variance_type", varianceType.configName());
        if (crossAttentionDim != null) {
            m.put("cross_attention_dim", crossAttentionDim);
        }
        return m;
    }

    /** Reads a diffusion4j or diffusers UNet2DModel config; absent keys take diffusers' defaults. */
    public static UNet2DConfig fromConfig(Map<String, Object> m) {
        try {
            require(m.get("sample_size") instanceof Number, "config lacks a numeric sample_size (square images only)");
            String timeEmbedding = (String) m.getOrDefault("time_embedding_type", "positional");
            require("positional".equals(timeEmbedding), "time_embedding_type '" + timeEmbedding + "' is not supported (only positional)");
            String upsample = (String) m.getOrDefault("upsample_type", "conv");
            require("conv".equals(upsample), "upsample_type '" + upsample + "' is not supported (only conv)");
            Object classEmbedType = m.get("class_embed_type");
            require(classEmbedType == null, "class_embed_type '" + classEmbedType + "' is not supported (only the default embedding "
                    + "table selected by num_class_embeds)");
            int in = ConfigValues.number(m, "in_channels", 3, "U-Net").intValue();
            return new UNet2DConfig(
                    ((Number) m.get("sample_size")).intValue(),
                    in,
                    ConfigValues.number(m, "out_channels", 3, "U-Net").intValue(),
                    (Boolean) m.getOrDefault("center_input_sample", false),
                    (Boolean) m.getOrDefault("flip_sin_to_cos", true),
                    ConfigValues.number(m, "freq_shift", 0, "U-Net").doubleValue(),
                    ConfigValues.strings(m.getOrDefault("down_block_types", List.of(DOWN, ATTN_DOWN, ATTN_DOWN, ATTN_DOWN))),
                    ConfigValues.strings(m.getOrDefault("up_block_types", List.of(ATTN_UP, ATTN_UP, ATTN_UP, UP))),
                    ConfigValues.ints(m.getOrDefault("block_out_channels", List.of(224, 448, 672, 896))),
                    ConfigValues.number(m, "layers_per_block", 2, "U-Net").intValue(),
                    ConfigValues.number(m, "mid_block_scale_factor", 1, "U-Net").doubleValue(),
                    ConfigValues.number(m, "downsample_padding", 1, "U-Net").intValue(),
                    (String) m.getOrDefault("downsample_type", "conv"),
                    Activation.parse((String) m.getOrDefault("act_fn", "silu")),
                    m.containsKey("attention_head_dim") ? nullableInt(m.get("attention_head_dim")) : Integer.valueOf(8),
                    ConfigValues.number(m, "norm_num_groups", 32, "U-Net").intValue(),
                    nullableInt(m.get("attn_norm_num_groups")),
                    ConfigValues.number(m, "norm_eps", 1e-5, "U-Net").doubleValue(),
                    (String) m.getOrDefault("resnet_time_scale_shift", "default"),
                    (Boolean) m.getOrDefault("add_attention", true),
                    nullableInt(m.get("num_class_embeds")),
                    ConfigValues.number(m, "dropout", 0, "U-Net").doubleValue(),
                    VarianceType.parse((String) m.getOrDefault("variance_type", VarianceType.FIXED.configName())),
                    nullableInt(m.get("cross_attention_dim")));
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException("U-Net config has a malformed field (" + e.getMessage() + "): " + m);
        }
    }

    private static Integer nullableInt(Object v) {
        return v == null ? null : ((Number) v).intValue();
    }

}
