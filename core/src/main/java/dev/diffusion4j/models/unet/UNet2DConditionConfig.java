package dev.diffusion4j.models.unet;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ConfigValues;
import dev.diffusion4j.nn.Activation;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The architecture of a {@link UNet2DConditionModel}, with the keys and meanings of diffusers'
 * {@code UNet2DConditionModel} config.json, so the {@code unet/} folder of a Stable Diffusion 1.x or
 * 2.x pipeline (and SDXL's, with its text-time embedding and per-level transformer depths) reads
 * unchanged. Keys that select what those U-Nets do not have (class embeddings, other added
 * embeddings or block types, …) are refused by name, as are keys this class does not know: either
 * would build a different network than the weights were made for.
 *
 * @param sampleSize         the latent size the model was trained at; informational, null when the config has none
 * @param blockOutChannels   channels per resolution level; the latent shrinks by 2^(levels − 1)
 * @param layersPerBlock     resnets per down block (up blocks have one more)
 * @param attentionHeads     the spatial transformers' head count per level. The config's
 *                           {@code attention_head_dim} holds it, an int for every level or a list: diffusers
 *                           reads that key as the number of heads (its {@code num_attention_heads} must be
 *                           null), so SD 1.5's 8 means 8 heads of 40, 80 and 160 channels
 * @param useLinearProjection linear proj_in / proj_out in the spatial transformers (SD 2.x) instead of 1×1 convolutions
 * @param upcastAttention    SD 2.x's request that attention be computed in float32 under reduced precision; this
 *                           project's attention always is, so the flag only travels with the config
 * @param transformerLayersPerBlock spatial transformer layers per level (SDXL: 1, 2, 10); the middle block has the
 *                           coarsest level's, the up blocks mirror the down blocks
 * @param textTime           SDXL's added conditioning ({@code addition_embed_type: text_time}), or null
 */
public record UNet2DConditionConfig(Integer sampleSize, int inChannels, int outChannels, boolean centerInputSample, boolean flipSinToCos,
                                    double freqShift, List<String> downBlockTypes, List<String> upBlockTypes,
                                    List<Integer> blockOutChannels, int layersPerBlock, int downsamplePadding, double midBlockScaleFactor,
                                    int normNumGroups, double normEps, int crossAttentionDim, List<Integer> transformerLayersPerBlock,
                                    List<Integer> attentionHeads, boolean useLinearProjection, boolean upcastAttention, TextTime textTime) {
    public static final String CLASS_NAME = "UNet2DConditionModel";
    public static final String DOWN = "DownBlock2D";
    public static final String CROSS_ATTN_DOWN = "CrossAttnDownBlock2D";
    public static final String UP = "UpBlock2D";
    public static final String CROSS_ATTN_UP = "CrossAttnUpBlock2D";
    public static final String MID = "UNetMidBlock2DCrossAttn";
    /** The added embedding SDXL's U-Net takes. */
    public static final String TEXT_TIME = "text_time";

    /**
     * SDXL's added conditioning: each of the six size and crop numbers through a sinusoid of
     * {@code timeEmbedDim} channels, appended to the pooled text embedding ({@code inputDim} in all),
     * mapped by {@code add_embedding} to the timestep embedding's width and added to it.
     */
    public record TextTime(int timeEmbedDim, int inputDim) {
    }

    /** A U-Net without an added embedding and with one transformer depth for every level (SD 1.x and 2.x). */
    public UNet2DConditionConfig(Integer sampleSize, int inChannels, int outChannels, boolean centerInputSample, boolean flipSinToCos,
                                 double freqShift, List<String> downBlockTypes, List<String> upBlockTypes, List<Integer> blockOutChannels,
                                 int layersPerBlock, int downsamplePadding, double midBlockScaleFactor, int normNumGroups, double normEps,
                                 int crossAttentionDim, int transformerLayersPerBlock, List<Integer> attentionHeads,
                                 boolean useLinearProjection, boolean upcastAttention) {
        this(sampleSize, inChannels, outChannels, centerInputSample, flipSinToCos, freqShift, downBlockTypes, upBlockTypes, blockOutChannels,
                layersPerBlock, downsamplePadding, midBlockScaleFactor, normNumGroups, normEps, crossAttentionDim,
                Collections.nCopies(blockOutChannels.size(), transformerLayersPerBlock), attentionHeads, useLinearProjection,
                upcastAttention, null);
    }

    /** diffusers' bookkeeping, not architecture. */
    private static final Set<String> BOOKKEEPING = Set.of("_class_name", "_diffusers_version", "_name_or_path");
    /** The keys this record holds, plus the two whose one supported value it implies. */
    private static final Set<String> READ = Set.of("sample_size", "in_channels", "out_channels", "center_input_sample",
            "flip_sin_to_cos", "freq_shift", "down_block_types", "mid_block_type", "up_block_types", "block_out_channels",
            "layers_per_block", "downsample_padding", "mid_block_scale_factor", "act_fn", "norm_num_groups", "norm_eps",
            "cross_attention_dim", "transformer_layers_per_block", "attention_head_dim", "use_linear_projection", "upcast_attention",
            "addition_embed_type", "addition_time_embed_dim", "projection_class_embeddings_input_dim");
    /**
     * Keys that change the network when set: only diffusers' default (which the Stable Diffusion 1.x
     * and 2.x U-Nets keep) is supported.
     */
    private static final Map<String, Object> DEFAULT_ONLY = defaultsOnly();
    /**
     * Keys diffusers reads only for blocks or embeddings these U-Nets do not have (simple
     * cross-attention blocks, resnet-downsample blocks, the text and text-time added embeddings,
     * projected class embeddings), so any value builds the same network.
     */
    private static final Set<String> INERT = Set.of("resnet_skip_time_act", "resnet_out_scale_factor", "cross_attention_norm",
            "mid_block_only_cross_attention", "addition_embed_type_num_heads");

    private static Map<String, Object> defaultsOnly() {
        Map<String, Object> m = new TreeMap<>();
        m.put("only_cross_attention", false);
        m.put("dropout", 0.0);
        m.put("reverse_transformer_layers_per_block", null);
        m.put("encoder_hid_dim", null);
        m.put("encoder_hid_dim_type", null);
        m.put("num_attention_heads", null);
        m.put("dual_cross_attention", false);
        m.put("class_embed_type", null);
        m.put("num_class_embeds", null);
        m.put("resnet_time_scale_shift", "default");
        m.put("time_embedding_type", "positional");
        m.put("time_embedding_dim", null);
        m.put("time_embedding_act_fn", null);
        m.put("timestep_post_act", null);
        m.put("time_cond_proj_dim", null);
        m.put("conv_in_kernel", 3);
        m.put("conv_out_kernel", 3);
        m.put("attention_type", "default");
        m.put("class_embeddings_concat", false);
        return Collections.unmodifiableMap(m);
    }

    public UNet2DConditionConfig {
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        attentionHeads = List.copyOf(attentionHeads);
        transformerLayersPerBlock = List.copyOf(transformerLayersPerBlock);
        int levels = blockOutChannels.size();
        check(levels >= 1, "block_out_channels is empty");
        check(downBlockTypes.size() == levels && upBlockTypes.size() == levels && attentionHeads.size() == levels,
                "down_block_types, up_block_types, block_out_channels and a list attention_head_dim need one entry per level, got "
                        + downBlockTypes.size() + ", " + upBlockTypes.size() + ", " + levels + " and " + attentionHeads.size());
        for (String t : downBlockTypes) {
            check(t.equals(DOWN) || t.equals(CROSS_ATTN_DOWN), "down block type '" + t + "' is not supported (only " + CROSS_ATTN_DOWN
                    + " and " + DOWN + ")");
        }
        for (String t : upBlockTypes) {
            check(t.equals(UP) || t.equals(CROSS_ATTN_UP), "up block type '" + t + "' is not supported (only " + CROSS_ATTN_UP
                    + " and " + UP + ")");
        }
        check(inChannels >= 1 && outChannels >= 1, "in_channels and out_channels must be positive");
        check(transformerLayersPerBlock.size() == levels, "transformer_layers_per_block needs one entry per level, got "
                + transformerLayersPerBlock);
        check(layersPerBlock >= 1 && transformerLayersPerBlock.stream().allMatch(n -> n >= 1),
                "layers_per_block and transformer_layers_per_block must be positive");
        check(textTime == null || (textTime.timeEmbedDim() >= 2 && textTime.timeEmbedDim() % 2 == 0 && textTime.inputDim() > 6 * textTime.timeEmbedDim()),
                "addition_time_embed_dim must be even, and projection_class_embeddings_input_dim larger than six of it (the pooled text "
                        + "embedding comes first)");
        check(crossAttentionDim >= 1, "cross_attention_dim must be positive");
        check(normNumGroups >= 1, "norm_num_groups must be positive");
        for (int i = 0; i < levels; i++) {
            int c = blockOutChannels.get(i);
            check(c >= 1 && c % normNumGroups == 0, "block_out_channels " + blockOutChannels + " must be multiples of norm_num_groups "
                    + normNumGroups);
            int heads = attentionHeads.get(i);
            check(!attends(downBlockTypes, upBlockTypes, i) || (heads >= 1 && c % heads == 0), "level " + i + " has " + c
                    + " channels, which do not split into attention_head_dim = " + heads + " heads (diffusers reads "
                    + "attention_head_dim as the head count)");
        }
        int c0 = blockOutChannels.get(0);
        check(c0 % 2 == 0 && c0 >= 4 && freqShift < c0 / 2.0, "block_out_channels[0] sizes the timestep embedding: it must be even and "
                + "at least 4, with freq_shift below half of it");
        check(downsamplePadding >= 0, "downsample_padding must not be negative");
        check(midBlockScaleFactor > 0 && normEps > 0, "mid_block_scale_factor and norm_eps must be positive");
    }

    /**
     * Whether level i (0 the finest) has spatial transformers: in its down block, in the up block at
     * the same resolution, or, at the coarsest level, in the middle block.
     */
    private static boolean attends(List<String> down, List<String> up, int level) {
        int levels = down.size();
        return down.get(level).equals(CROSS_ATTN_DOWN) || up.get(levels - 1 - level).equals(CROSS_ATTN_UP) || level == levels - 1;
    }

    /** Channels of the timestep embedding: 4 × block_out_channels[0], as in diffusers. */
    public int timeEmbedDim() {
        return 4 * blockOutChannels.get(0);
    }

    /**
     * The published config of Stable Diffusion 1.5's U-Net (4 latent channels, CLIP ViT-L/14's 768-wide
     * text features, 8 heads per level, 1×1-convolution projections).
     */
    public static UNet2DConditionConfig stableDiffusion15() {
        return new UNet2DConditionConfig(64, 4, 4, false, true, 0, List.of(CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, DOWN),
                List.of(UP, CROSS_ATTN_UP, CROSS_ATTN_UP, CROSS_ATTN_UP), List.of(320, 640, 1280, 1280), 2, 1, 1, 32, 1e-5, 768, 1,
                List.of(8, 8, 8, 8), false, false);
    }

    /** The config.json diffusers would write for this architecture's keys (the others keep their defaults). */
    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", CLASS_NAME);
        m.put("sample_size", sampleSize);
        m.put("in_channels", inChannels);
        m.put("out_channels", outChannels);
        m.put("center_input_sample", centerInputSample);
        m.put("flip_sin_to_cos", flipSinToCos);
        m.put("freq_shift", freqShift);
        m.put("down_block_types", downBlockTypes);
        m.put("mid_block_type", MID);
        m.put("up_block_types", upBlockTypes);
        m.put("block_out_channels", blockOutChannels);
        m.put("layers_per_block", layersPerBlock);
        m.put("downsample_padding", downsamplePadding);
        m.put("mid_block_scale_factor", midBlockScaleFactor);
        m.put("act_fn", Activation.SILU.configName());
        m.put("norm_num_groups", normNumGroups);
        m.put("norm_eps", normEps);
        m.put("cross_attention_dim", crossAttentionDim);
        m.put("transformer_layers_per_block", transformerLayersPerBlock.stream().distinct().count() == 1 ? transformerLayersPerBlock.get(0)
                : transformerLayersPerBlock);
        // one number when every level has the same head count, as SD 1.x's config writes it
        m.put("attention_head_dim", attentionHeads.stream().distinct().count() == 1 ? attentionHeads.get(0) : attentionHeads);
        m.put("use_linear_projection", useLinearProjection);
        m.put("upcast_attention", upcastAttention);
        if (textTime != null) {
            m.put("addition_embed_type", TEXT_TIME);
            m.put("addition_time_embed_dim", textTime.timeEmbedDim());
            m.put("projection_class_embeddings_input_dim", textTime.inputDim());
        }
        return m;
    }

    /**
     * Reads a diffusers {@code UNet2DConditionModel} config; absent keys take diffusers' defaults.
     * An unknown key, or a known one set to what these U-Nets do not have, is an error that names it.
     */
    public static UNet2DConditionConfig fromConfig(Map<String, Object> m) {
        List<String> unknown = m.keySet().stream()
                .filter(k -> !BOOKKEEPING.contains(k) && !READ.contains(k) && !DEFAULT_ONLY.containsKey(k) && !INERT.contains(k))
                .sorted().toList();
        check(unknown.isEmpty(), "unknown keys " + unknown + " (a newer or different model than the Stable Diffusion 1.x / 2.x U-Net)");
        Object cls = m.get("_class_name");
        check(cls == null || CLASS_NAME.equals(cls), "_class_name is '" + cls + "', not " + CLASS_NAME);
        DEFAULT_ONLY.forEach((key, supported) -> {
            Object v = m.getOrDefault(key, supported);
            boolean same = v instanceof Number n && supported instanceof Number s ? n.doubleValue() == s.doubleValue()
                    : Objects.equals(v, supported);
            check(same, "'" + key + "' = " + v + " is not supported (only " + supported + ", as in the Stable Diffusion 1.x / 2.x U-Net)");
        });
        Object mid = m.getOrDefault("mid_block_type", MID);
        check(MID.equals(mid), "'mid_block_type' = " + mid + " is not supported (only " + MID + ")");
        Object act = m.getOrDefault("act_fn", "silu");
        check(act instanceof String a && Activation.parse(a) == Activation.SILU, "'act_fn' = " + act + " is not supported (only silu)");
        try {
            List<Integer> channels = ConfigValues.ints(m.getOrDefault("block_out_channels", List.of(320, 640, 1280, 1280)));
            return new UNet2DConditionConfig(
                    sampleSize(m.get("sample_size")),
                    ConfigValues.number(m, "in_channels", 4, CLASS_NAME).intValue(),
                    ConfigValues.number(m, "out_channels", 4, CLASS_NAME).intValue(),
                    (Boolean) m.getOrDefault("center_input_sample", false),
                    (Boolean) m.getOrDefault("flip_sin_to_cos", true),
                    ConfigValues.number(m, "freq_shift", 0, CLASS_NAME).doubleValue(),
                    ConfigValues.strings(m.getOrDefault("down_block_types", List.of(CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, DOWN))),
                    ConfigValues.strings(m.getOrDefault("up_block_types", List.of(UP, CROSS_ATTN_UP, CROSS_ATTN_UP, CROSS_ATTN_UP))),
                    channels,
                    perModel(m, "layers_per_block", 2),
                    ConfigValues.number(m, "downsample_padding", 1, CLASS_NAME).intValue(),
                    ConfigValues.number(m, "mid_block_scale_factor", 1, CLASS_NAME).doubleValue(),
                    ConfigValues.number(m, "norm_num_groups", 32, CLASS_NAME).intValue(),
                    ConfigValues.number(m, "norm_eps", 1e-5, CLASS_NAME).doubleValue(),
                    perModel(m, "cross_attention_dim", 1280),
                    transformerLayers(m, channels.size()),
                    attentionHeads(m, channels.size()),
                    (Boolean) m.getOrDefault("use_linear_projection", false),
                    Boolean.TRUE.equals(m.get("upcast_attention")),
                    textTime(m));
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException(CLASS_NAME + " config has a malformed field (" + e.getMessage() + "): " + m);
        }
    }

    /** attention_head_dim: a head count per level, or one for every level. */
    private static List<Integer> attentionHeads(Map<String, Object> m, int levels) {
        Object heads = m.getOrDefault("attention_head_dim", 8);
        return heads instanceof List<?> ? ConfigValues.ints(heads)
                : Collections.nCopies(levels, ConfigValues.number(m, "attention_head_dim", 8, CLASS_NAME).intValue());
    }

    /** transformer_layers_per_block: a depth per level, or one for every level (lists of lists, per layer, are refused). */
    private static List<Integer> transformerLayers(Map<String, Object> m, int levels) {
        Object v = m.getOrDefault("transformer_layers_per_block", 1);
        if (v instanceof List<?> l) {
            check(l.stream().allMatch(x -> x instanceof Number), "'transformer_layers_per_block' = " + v + " is not supported (a number, or "
                    + "one per level)");
            return ConfigValues.ints(v);
        }
        return Collections.nCopies(levels, ConfigValues.number(m, "transformer_layers_per_block", 1, CLASS_NAME).intValue());
    }

    /** SDXL's added text-time embedding, or null; any other added embedding is refused. */
    private static TextTime textTime(Map<String, Object> m) {
        Object type = m.get("addition_embed_type");
        if (type == null) {
            return null;
        }
        check(TEXT_TIME.equals(type), "'addition_embed_type' = " + type + " is not supported (only " + TEXT_TIME + ", SDXL's)");
        return new TextTime(ConfigValues.number(m, "addition_time_embed_dim", 256, CLASS_NAME).intValue(),
                ConfigValues.number(m, "projection_class_embeddings_input_dim", 2816, CLASS_NAME).intValue());
    }

    /** A key diffusers also takes per level (a list): one value for the whole model is supported. */
    private static int perModel(Map<String, Object> m, String key, int fallback) {
        check(!(m.get(key) instanceof List), "'" + key + "' = " + m.get(key) + " is not supported (one number for every level, as in the "
                + "Stable Diffusion 1.x / 2.x U-Net)");
        return ConfigValues.number(m, key, fallback, CLASS_NAME).intValue();
    }

    private static Integer sampleSize(Object v) {
        check(v == null || v instanceof Number, "'sample_size' = " + v + " is not supported (one number: square latents)");
        return v == null ? null : ((Number) v).intValue();
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new DiffusionException(CLASS_NAME + " config: " + message);
        }
    }
}
