package dev.diffusion4j.models.sd;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A LoRA file (Hu et al. 2021) for a Stable Diffusion 1.x / 2.x pipeline: low-rank updates of the
 * U-Net's and the text encoder's weights, ΔW = (α/r)·up·down, in either format users share:
 * <ul>
 * <li>kohya's ({@code lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight},
 *     {@code .lora_up.weight}, {@code .alpha}; {@code lora_te_} for the text encoder): the module's
 *     path with dots written as underscores, α per module (r where absent);</li>
 * <li>diffusers' ({@code unet.….lora_A.weight} / {@code .lora_B.weight}, or the older
 *     {@code .lora.down.weight} / {@code .lora_linear_layer.down.weight}; {@code text_encoder.}), which
 *     carries no α: α = r.</li>
 * </ul>
 * Convolutions take a LoRA as kohya shapes it: down [r, in, kh, kw], up [out, r, 1, 1], and ΔW is
 * up·down over the flattened shapes. {@link #merge} adds multiplier·ΔW to each target weight and
 * {@link Merged#close} puts the weights back as they were; every key either changes a weight or is an
 * error naming it (a LoRA for another base model).
 */
public final class Lora implements AutoCloseable {
    private static final Pattern KOHYA = Pattern.compile("(lora_unet|lora_te)_(.+)\\.(lora_down\\.weight|lora_up\\.weight|alpha)");
    private static final Pattern DIFFUSERS = Pattern.compile(
            "(unet|text_encoder)\\.(.+?)\\.(lora_A\\.weight|lora_B\\.weight|lora\\.down\\.weight|lora\\.up\\.weight|"
                    + "lora_linear_layer\\.down\\.weight|lora_linear_layer\\.up\\.weight)");

    /** One module's update: the part ("unet" or "text_encoder"), its weight's name there, the factors and the scale α/r. */
    record Update(String part, String weight, String key, Tensor down, Tensor up, double scale) {
    }

    private final Path file;
    private final List<Update> updates;

    private Lora(Path file, List<Update> updates) {
        this.file = file;
        this.updates = updates;
    }

    public Path file() {
        return file;
    }

    /** Modules the file updates. */
    public int size() {
        return updates.size();
    }

    /** Reads {@code file} against {@code network}, whose module names resolve kohya's underscored paths. */
    public static Lora read(Path file, StableDiffusionNetwork network) {
        Map<String, Map<String, String>> underscored = Map.of("unet", underscoredWeights(network.unet()), "text_encoder",
                underscoredWeights(network.textEncoder()));
        Map<String, Map<String, String>> parts = Map.of("unet", weightNames(network.unet()), "text_encoder", weightNames(network.textEncoder()));
        Map<String, Tensor[]> factors = new LinkedHashMap<>();   // "part:weight" → {down, up, alpha}
        Map<String, String> keys = new HashMap<>();
        try (SafetensorsFile st = Safetensors.open(file); NoGrad ng = NoGrad.open()) {
            for (String key : st.names()) {
                String part;
                String weight;
                int slot;
                Matcher k = KOHYA.matcher(key);
                Matcher d = DIFFUSERS.matcher(key);
                if (k.matches()) {
                    part = k.group(1).equals("lora_unet") ? "unet" : "text_encoder";
                    weight = underscored.get(part).get(k.group(2));
                    slot = k.group(3).startsWith("lora_down") ? 0 : k.group(3).startsWith("lora_up") ? 1 : 2;
                } else if (d.matches()) {
                    part = d.group(1);
                    // the oldest form names the attention processor's layers: attn1.processor.to_out_lora.down.weight
                    String module = d.group(2).replace(".processor.", ".").replaceAll("_lora$", "").replaceAll("\\.to_out$", ".to_out.0");
                    weight = parts.get(part).get(module);
                    slot = d.group(3).contains("lora_A") || d.group(3).contains("down") ? 0 : 1;
                } else {
                    throw new DiffusionException(file + ": '" + key + "' is not a LoRA key of kohya's format (lora_unet_*, lora_te_*) or "
                            + "diffusers' (unet.*, text_encoder.*); SDXL's second text encoder (lora_te2_*) is not read yet");
                }
                if (weight == null) {
                    throw new DiffusionException(file + ": '" + key + "' names no module of this " + (part.equals("unet") ? "U-Net" : "text "
                            + "encoder") + ": a LoRA for another base model?");
                }
                Tensor[] f = factors.computeIfAbsent(part + ":" + weight, x -> new Tensor[3]);
                keys.putIfAbsent(part + ":" + weight, key);
                f[slot] = Scope.escape(st.read(key).to(DType.FLOAT32));
            }
        }
        List<Update> updates = new ArrayList<>();
        for (Map.Entry<String, Tensor[]> e : factors.entrySet()) {
            Tensor[] f = e.getValue();
            String key = keys.get(e.getKey());
            if (f[0] == null || f[1] == null) {
                throw new DiffusionException(file + ": '" + key + "' has no " + (f[0] == null ? "down" : "up") + " matrix");
            }
            long rank = f[0].size(0);
            if (f[1].size(1) != rank) {
                throw new DiffusionException(file + ": '" + key + "' has a down matrix of rank " + rank + " but an up matrix of rank " + f[1].size(1));
            }
            double alpha = f[2] == null ? rank : f[2].item();
            String[] pw = e.getKey().split(":", 2);
            updates.add(new Update(pw[0], pw[1], key, f[0], f[1], alpha / rank));
        }
        if (updates.isEmpty()) {
            throw new DiffusionException(file + " holds no LoRA weights");
        }
        return new Lora(file, updates);
    }

    /** Releases the factors read from the file (native memory; a large LoRA holds hundreds of megabytes). */
    @Override
    public void close() {
        for (Update u : updates) {
            u.down().close();
            u.up().close();
        }
    }

    /** ΔW at multiplier 1 for each updated weight, "unet.NAME" or "text_encoder.NAME": (α/r)·up·down in the weight's shape. */
    public Map<String, Tensor> deltas(StableDiffusionNetwork network) {
        Map<String, Map<String, Tensor>> weights = weights(network);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Update u : updates) {
            Tensor w = weights.get(u.part()).get(u.weight());
            out.put(u.part() + "." + u.weight(), delta(u, w));
        }
        return out;
    }

    private static Tensor delta(Update u, Tensor w) {
        Tensor up = u.up().flatten(1, -1);
        Tensor down = u.down().flatten(1, -1);
        long in = Arrays.stream(w.shape()).skip(1).reduce(1, (a, b) -> a * b);
        if (up.size(0) != w.size(0) || down.size(1) != in) {
            throw new DiffusionException("LoRA '" + u.key() + "' updates a " + up.size(0) + "×" + down.size(1) + " weight but " + u.part() + " '"
                    + u.weight() + "' is " + Arrays.toString(w.shape()) + ": a LoRA for another base model?");
        }
        return up.matmul(down).mul(u.scale()).reshape(w.shape());
    }

    private static Map<String, Map<String, Tensor>> weights(StableDiffusionNetwork network) {
        return Map.of("unet", network.unet().stateDict(), "text_encoder", network.textEncoder().stateDict());
    }

    /** LoRAs merged into a network's weights; closing restores the weights they changed, exactly. */
    public static final class Merged implements AutoCloseable {
        private final Map<Tensor, Tensor> originals = new LinkedHashMap<>();

        @Override
        public void close() {
            try (NoGrad ng = NoGrad.open()) {
                originals.forEach((weight, original) -> {
                    weight.copy_(original);
                    original.close();
                });
            }
            originals.clear();
        }
    }

    /**
     * Adds each LoRA's ΔW times its multiplier to {@code network}'s weights (all checked before any
     * is changed) until the returned handle is closed.
     */
    public static Merged merge(StableDiffusionNetwork network, List<Lora> loras, List<Double> multipliers) {
        Map<Tensor, Tensor> sums = new LinkedHashMap<>();
        Merged merged = new Merged();
        Map<String, Map<String, Tensor>> weights = weights(network);
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            for (int i = 0; i < loras.size(); i++) {
                for (Update u : loras.get(i).updates) {
                    Tensor w = weights.get(u.part()).get(u.weight());
                    Tensor d = delta(u, w).mul(multipliers.get(i));
                    Tensor sum = sums.get(w);
                    sums.put(w, sum == null ? d : sum.add(d));
                }
            }
            sums.forEach((w, d) -> {
                merged.originals.put(w, Scope.escape(w.detach().clone()));
                w.add_(d);
            });
        }
        return merged;
    }

    /** Every weight's name mapped from its module path with dots as underscores, as kohya writes it (no "weight"). */
    private static Map<String, String> underscoredWeights(Module module) {
        Map<String, String> out = new HashMap<>();
        for (String name : module.stateDict().keySet()) {
            if (name.endsWith(".weight")) {
                out.put(name.substring(0, name.length() - ".weight".length()).replace('.', '_'), name);
            }
        }
        return out;
    }

    /** Every weight's name by its module path. */
    private static Map<String, String> weightNames(Module module) {
        Map<String, String> out = new HashMap<>();
        for (String name : module.stateDict().keySet()) {
            if (name.endsWith(".weight")) {
                out.put(name.substring(0, name.length() - ".weight".length()), name);
            }
        }
        return out;
    }
}
