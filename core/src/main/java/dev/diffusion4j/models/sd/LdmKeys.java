package dev.diffusion4j.models.sd;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names an original Stable Diffusion checkpoint (the CompVis/Stability "LDM" layout) gives the
 * U-Net's and the autoencoder's weights, mapped to diffusers' names — the same correspondence
 * diffusers' single-file conversion applies. Each method returns the diffusers name of one LDM name
 * (without the part's prefix), or null for a name it does not know.
 */
final class LdmKeys {
    private static final Pattern INPUT = Pattern.compile("input_blocks\\.(\\d+)\\.(\\d+)\\.(.+)");
    private static final Pattern OUTPUT = Pattern.compile("output_blocks\\.(\\d+)\\.(\\d+)\\.(.+)");
    private static final Pattern MIDDLE = Pattern.compile("middle_block\\.(\\d)\\.(.+)");
    private static final Map<String, String> RESNET = Map.of("in_layers.0", "norm1", "in_layers.2", "conv1", "emb_layers.1", "time_emb_proj",
            "out_layers.0", "norm2", "out_layers.3", "conv2", "skip_connection", "conv_shortcut");
    private static final Map<String, String> UNET_TOP = Map.of("time_embed.0", "time_embedding.linear_1", "time_embed.2",
            "time_embedding.linear_2", "input_blocks.0.0", "conv_in", "out.0", "conv_norm_out", "out.2", "conv_out");

    private static final Pattern VAE_DOWN = Pattern.compile("encoder\\.down\\.(\\d+)\\.(block\\.(\\d+)|downsample)\\.(.+)");
    private static final Pattern VAE_UP = Pattern.compile("decoder\\.up\\.(\\d+)\\.(block\\.(\\d+)|upsample)\\.(.+)");
    private static final Pattern VAE_MID = Pattern.compile("(encoder|decoder)\\.mid\\.(block_1|block_2|attn_1)\\.(.+)");
    private static final Map<String, String> VAE_ATTENTION = Map.of("norm", "group_norm", "q", "to_q", "k", "to_k", "v", "to_v",
            "proj_out", "to_out.0");

    private static final Pattern RESBLOCK = Pattern.compile(
            "transformer\\.resblocks\\.(\\d+)\\.(ln_1|ln_2|attn\\.out_proj|mlp\\.c_fc|mlp\\.c_proj)\\.(weight|bias)");

    private LdmKeys() {
    }

    /** A U-Net weight's diffusers name; {@code layersPerBlock} resnets per down block. */
    static String unet(String key, int layersPerBlock) {
        for (Map.Entry<String, String> e : UNET_TOP.entrySet()) {
            if (key.startsWith(e.getKey() + ".") && key.indexOf('.', e.getKey().length() + 1) < 0) {
                return e.getValue() + key.substring(e.getKey().length());
            }
        }
        Matcher m = INPUT.matcher(key);
        if (m.matches()) {
            int j = Integer.parseInt(m.group(1));
            int part = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            int level = (j - 1) / (layersPerBlock + 1);
            int layer = (j - 1) % (layersPerBlock + 1);
            if (j == 0) {
                return null;
            }
            if (layer == layersPerBlock) {
                return part == 0 && rest.startsWith("op.") ? "down_blocks." + level + ".downsamplers.0.conv." + rest.substring(3) : null;
            }
            return part == 0 ? resnet("down_blocks." + level + ".resnets." + layer, rest)
                    : part == 1 ? "down_blocks." + level + ".attentions." + layer + "." + rest : null;
        }
        m = MIDDLE.matcher(key);
        if (m.matches()) {
            return switch (m.group(1)) {
                case "0" -> resnet("mid_block.resnets.0", m.group(2));
                case "1" -> "mid_block.attentions.0." + m.group(2);
                case "2" -> resnet("mid_block.resnets.1", m.group(2));
                default -> null;
            };
        }
        m = OUTPUT.matcher(key);
        if (m.matches()) {
            int j = Integer.parseInt(m.group(1));
            int part = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            int level = j / (layersPerBlock + 1);
            int layer = j % (layersPerBlock + 1);
            if (part == 0) {
                return resnet("up_blocks." + level + ".resnets." + layer, rest);
            }
            if (rest.startsWith("conv.") && rest.indexOf('.', 5) < 0) {
                return layer == layersPerBlock ? "up_blocks." + level + ".upsamplers.0.conv." + rest.substring(5) : null;
            }
            return part == 1 ? "up_blocks." + level + ".attentions." + layer + "." + rest : null;
        }
        return null;
    }

    private static String resnet(String prefix, String rest) {
        for (Map.Entry<String, String> e : RESNET.entrySet()) {
            if (rest.startsWith(e.getKey() + ".")) {
                return prefix + "." + e.getValue() + rest.substring(e.getKey().length());
            }
        }
        return null;
    }

    /** An autoencoder weight's diffusers name; {@code levels} resolution levels (the decoder's are numbered from the bottom in LDM). */
    static String vae(String key, int levels) {
        if (key.matches("(encoder|decoder)\\.(conv_in|conv_out)\\.(weight|bias)") || key.matches("(post_)?quant_conv\\.(weight|bias)")) {
            return key;
        }
        if (key.matches("(encoder|decoder)\\.norm_out\\.(weight|bias)")) {
            return key.replace("norm_out", "conv_norm_out");
        }
        Matcher m = VAE_DOWN.matcher(key);
        if (m.matches()) {
            String level = "encoder.down_blocks." + m.group(1);
            return m.group(3) != null ? vaeResnet(level + ".resnets." + m.group(3), m.group(4))
                    : m.group(4).startsWith("conv.") ? level + ".downsamplers.0." + m.group(4) : null;
        }
        m = VAE_UP.matcher(key);
        if (m.matches()) {
            String level = "decoder.up_blocks." + (levels - 1 - Integer.parseInt(m.group(1)));
            return m.group(3) != null ? vaeResnet(level + ".resnets." + m.group(3), m.group(4))
                    : m.group(4).startsWith("conv.") ? level + ".upsamplers.0." + m.group(4) : null;
        }
        m = VAE_MID.matcher(key);
        if (m.matches()) {
            String mid = m.group(1) + ".mid_block.";
            String rest = m.group(3);
            return switch (m.group(2)) {
                case "block_1" -> vaeResnet(mid + "resnets.0", rest);
                case "block_2" -> vaeResnet(mid + "resnets.1", rest);
                default -> {
                    int dot = rest.indexOf('.');
                    String to = dot < 0 ? null : VAE_ATTENTION.get(rest.substring(0, dot));
                    yield to == null ? null : mid + "attentions.0." + to + rest.substring(dot);
                }
            };
        }
        return null;
    }

    private static String vaeResnet(String prefix, String rest) {
        String r = rest.startsWith("nin_shortcut.") ? "conv_shortcut." + rest.substring("nin_shortcut.".length()) : rest;
        return r.matches("(norm1|conv1|norm2|conv2|conv_shortcut)\\.(weight|bias)") ? prefix + "." + r : null;
    }

    /** An OpenCLIP text tower weight's transformers name (SD 2.x's {@code cond_stage_model.model.*}); q/k/v come split elsewhere. */
    static String openClip(String key) {
        if (key.equals("token_embedding.weight")) {
            return "text_model.embeddings.token_embedding.weight";
        }
        if (key.equals("positional_embedding")) {
            return "text_model.embeddings.position_embedding.weight";
        }
        if (key.startsWith("ln_final.")) {
            return "text_model.final_layer_norm." + key.substring("ln_final.".length());
        }
        Matcher m = RESBLOCK.matcher(key);
        if (!m.matches()) {
            return null;
        }
        String part = switch (m.group(2)) {
            case "ln_1" -> "layer_norm1";
            case "ln_2" -> "layer_norm2";
            case "attn.out_proj" -> "self_attn.out_proj";
            case "mlp.c_fc" -> "mlp.fc1";
            default -> "mlp.fc2";
        };
        return "text_model.encoder.layers." + m.group(1) + "." + part + "." + m.group(3);
    }
}
