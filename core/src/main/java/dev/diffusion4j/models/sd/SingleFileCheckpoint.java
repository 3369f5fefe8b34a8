package dev.diffusion4j.models.sd;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.io.TensorInfo;
import dev.diffusion4j.model.LatentSpace;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.models.clip.CLIPTextConfig;
import dev.diffusion4j.models.clip.CLIPTextModel;
import dev.diffusion4j.models.unet.UNet2DConditionConfig;
import dev.diffusion4j.models.unet.UNet2DConditionModel;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.models.vae.AutoencoderKLConfig;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.nn.Init;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An original Stable Diffusion 1.x or 2.x checkpoint in one safetensors file, as model sites share
 * them: the U-Net under {@code model.diffusion_model.}, the autoencoder under
 * {@code first_stage_model.}, and CLIP's text tower under {@code cond_stage_model.transformer.} (SD 1.x,
 * transformers' names) or OpenCLIP's under {@code cond_stage_model.model.} (SD 2.x, whose fused
 * {@code in_proj} is split into q, k and v and whose last layer is left out: SD 2.x reads the
 * penultimate one). The architecture is read off the weights' names and shapes; what they do not
 * record comes from {@link Hints}; what the U-Net predicts from the original config file beside it
 * ({@code NAME.yaml}, its {@code parameterization}) where there is one, else ε for SD 1.x and v for
 * SD 2.x (whose 512-pixel "base" models predict ε: give them their .yaml). Every key is loaded into a part or is one of the kinds listed in
 * {@link #IGNORED} (the training schedule's buffers, EMA bookkeeping, OpenCLIP's projection), which
 * {@link Loaded#ignored} reports; any other key is an error naming it. Tensors are read one at a time
 * into the parts' float32 weights, whatever their stored dtype.
 */
public final class SingleFileCheckpoint {
    static final String UNET = "model.diffusion_model.";
    static final String VAE = "first_stage_model.";
    static final String CLIP = "cond_stage_model.transformer.";
    static final String OPEN_CLIP = "cond_stage_model.model.";
    /** Keys a checkpoint may carry that no part reads: what the original training code saved besides the weights. */
    static final Pattern IGNORED = Pattern.compile("(betas|alphas_cumprod|alphas_cumprod_prev|sqrt_alphas_cumprod|"
            + "sqrt_one_minus_alphas_cumprod|log_one_minus_alphas_cumprod|sqrt_recip_alphas_cumprod|sqrt_recipm1_alphas_cumprod|"
            + "posterior_variance|posterior_log_variance_clipped|posterior_mean_coef1|posterior_mean_coef2|logvar|model_ema\\..*|"
            + "cond_stage_model\\.model\\.(text_projection|logit_scale|attn_mask)|"
            + "cond_stage_model\\.transformer\\.(text_model\\.)?embeddings\\.position_ids)");
    private static final Pattern RESBLOCK = Pattern.compile("cond_stage_model\\.model\\.transformer\\.resblocks\\.(\\d+)\\..*");
    private static final Pattern IN_PROJ = Pattern.compile("transformer\\.resblocks\\.(\\d+)\\.attn\\.in_proj_(weight|bias)");

    /**
     * What the weights of a Stable Diffusion checkpoint do not record: GroupNorm's group count, the
     * attention heads (SD 1.x: 8 per level; SD 2.x: heads of 64 channels; CLIP: heads of 64), and
     * what the U-Net predicts (null: ε for SD 1.x, v for SD 2.x, as diffusers assumes).
     */
    public record Hints(int normGroups, int sd1Heads, int sd2HeadWidth, int clipHeadWidth, Prediction prediction) {
        /** The values of every released Stable Diffusion 1.x and 2.x model. */
        public static final Hints STABLE_DIFFUSION = new Hints(32, 8, 64, 64, null);

        public Hints withPrediction(Prediction p) {
            return new Hints(normGroups, sd1Heads, sd2HeadWidth, clipHeadWidth, p);
        }
    }

    private SingleFileCheckpoint() {
    }

    /** Whether {@code path} names a checkpoint file this class reads (a .safetensors file; .ckpt pickles are refused when read). */
    public static boolean isCheckpointFile(Path path) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return java.nio.file.Files.isRegularFile(path) && (name.endsWith(".safetensors") || name.endsWith(".ckpt") || name.endsWith(".pt")
                || name.endsWith(".bin"));
    }

    /** Reads {@code file} with the released models' {@link Hints}. */
    public static StableDiffusionFolder.Loaded load(Path file) {
        return load(file, Hints.STABLE_DIFFUSION);
    }

    public static StableDiffusionFolder.Loaded load(Path file, Hints hints) {
        String fileName = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (!fileName.endsWith(".safetensors")) {
            throw new DiffusionException(file + " is a pickle (" + fileName.substring(fileName.lastIndexOf('.')) + "), which can run code when read: "
                    + "only .safetensors checkpoints are read");
        }
        try (SafetensorsFile st = Safetensors.open(file)) {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (String name : st.names()) {
                TensorInfo info = st.info(name);
                shapes.put(name, info.shape());
            }
            if (shapes.keySet().stream().anyMatch(k -> k.startsWith("conditioner.embedders."))) {
                throw new DiffusionException(file + " is an SDXL checkpoint (conditioner.embedders.*): this version reads Stable "
                        + "Diffusion 1.x and 2.x single files");
            }
            for (String prefix : List.of(UNET, VAE)) {
                if (shapes.keySet().stream().noneMatch(k -> k.startsWith(prefix))) {
                    throw new DiffusionException(file + " has no " + prefix + "* weights: not a Stable Diffusion checkpoint");
                }
            }
            boolean openClip = shapes.keySet().stream().anyMatch(k -> k.startsWith(OPEN_CLIP));
            if (!openClip && shapes.keySet().stream().noneMatch(k -> k.startsWith(CLIP))) {
                throw new DiffusionException(file + " has no text encoder (cond_stage_model.transformer.* or cond_stage_model.model.*)");
            }
            int layers = layersPerBlock(shapes);
            UNet2DConditionConfig unetConfig = unetConfig(shapes, layers, openClip, hints);
            AutoencoderKLConfig vaeConfig = vaeConfig(shapes, hints);
            CLIPTextConfig clipConfig = openClip ? openClipConfig(shapes, hints) : clipConfig(shapes, hints);

            UNet2DConditionModel unet = new UNet2DConditionModel(unetConfig, Init.FOR_LOADING);
            AutoencoderKL vae = new AutoencoderKL(vaeConfig, Init.FOR_LOADING);
            CLIPTextModel text = new CLIPTextModel(clipConfig, Init.FOR_LOADING);
            Targets targets = new Targets(file);
            targets.add("unet", unet);
            targets.add("vae", vae);
            targets.add("text_encoder", text);
            List<String> ignored = new ArrayList<>();
            try (NoGrad ng = NoGrad.open()) {
                for (String key : shapes.keySet()) {
                    if (!load(key, st, layers, vaeConfig.blockOutChannels().size(), clipConfig.numHiddenLayers(), targets)) {
                        if (!IGNORED.matcher(key).matches() && !droppedLayer(key, clipConfig.numHiddenLayers())) {
                            throw new DiffusionException(file + ": unknown key '" + key + "': not a weight of a Stable Diffusion 1.x or 2.x "
                                    + "checkpoint (a LoRA, an SDXL or another model's file?)");
                        }
                        ignored.add(key);
                    }
                }
            }
            targets.requireComplete();
            unet.train(false);
            vae.train(false);
            text.train(false);

            boolean sd2 = openClip;
            Prediction prediction = hints.prediction() != null ? hints.prediction() : sidecarPrediction(file);
            if (prediction == null) {
                prediction = sd2 ? Prediction.V : Prediction.EPSILON;
            }
            ClipTokenizer tokenizer = ClipTokenizer.stableDiffusion(sd2 ? "!" : ClipTokenizer.END_TOKEN);
            int size = sd2 && prediction == Prediction.V ? 96 : 64;
            StableDiffusionConfig config = new StableDiffusionConfig(unetConfig, clipConfig, tokenizer, size);
            Map<String, Object> scheduler = schedulerConfig(prediction);
            int factor = vaeConfig.downsampleFactor();
            LatentSpace latent = new LatentSpace(vaeConfig.toConfig(), new long[] {vaeConfig.outChannels(), (long) size * factor,
                    (long) size * factor}, file.toAbsolutePath().toString(), "", null);
            ModelSpec spec = new ModelSpec(config, NoiseSchedule.fromConfig(scheduler), prediction, null, null, latent);
            Map<String, Object> index = new LinkedHashMap<>();
            index.put("_class_name", "StableDiffusionPipeline");
            index.put("single_file", file.getFileName().toString());
            index.put("version", sd2 ? "2.x" : "1.x");
            return new StableDiffusionFolder.Loaded(spec, new StableDiffusionNetwork(config, text, unet), vae, index, file, scheduler,
                    List.copyOf(ignored));
        }
    }

    /**
     * What the original config file beside a checkpoint ({@code NAME.yaml}, as the original code and
     * the web UIs keep one) says the U-Net predicts: its {@code parameterization} ("v" or "eps", which is
     * the original code's default); null without such a file.
     */
    static Prediction sidecarPrediction(Path file) {
        String name = file.getFileName().toString();
        Path yaml = file.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".yaml");
        if (!java.nio.file.Files.isRegularFile(yaml)) {
            return null;
        }
        try {
            for (String line : java.nio.file.Files.readAllLines(yaml)) {
                Matcher m = Pattern.compile("^\\s*parameterization:\\s*[\"']?(\\w+)[\"']?\\s*(#.*)?$").matcher(line);
                if (m.matches()) {
                    return switch (m.group(1)) {
                        case "v" -> Prediction.V;
                        case "eps" -> Prediction.EPSILON;
                        case "x0" -> Prediction.SAMPLE;
                        default -> throw new DiffusionException(yaml + ": parameterization '" + m.group(1) + "' is not v, eps or x0");
                    };
                }
            }
            return Prediction.EPSILON;
        } catch (java.io.IOException e) {
            throw new DiffusionException("could not read " + yaml + ": " + e.getMessage(), e);
        }
    }

    /** SD 2.x's text tower has one more layer in the file than it reads: diffusers leaves the last out. */
    private static boolean droppedLayer(String key, int layers) {
        Matcher m = RESBLOCK.matcher(key);
        return m.matches() && Integer.parseInt(m.group(1)) == layers;
    }

    /** Copies one file tensor into its part; false for a key no part reads. */
    private static boolean load(String key, SafetensorsFile st, int layers, int vaeLevels, int textLayers, Targets targets) {
        if (key.startsWith(UNET)) {
            String name = LdmKeys.unet(key.substring(UNET.length()), layers);
            return name != null && targets.copy("unet", name, key, st, false);
        }
        if (key.startsWith(VAE)) {
            String name = LdmKeys.vae(key.substring(VAE.length()), vaeLevels);
            // the LDM autoencoder's attention projections are 1×1 convolutions; diffusers' are linear layers
            return name != null && targets.copy("vae", name, key, st, name.contains(".attentions.0.to_"));
        }
        if (IGNORED.matcher(key).matches()) {
            return false;
        }
        if (key.startsWith(CLIP)) {
            String rest = key.substring(CLIP.length());
            return targets.copy("text_encoder", rest.startsWith("text_model.") ? rest : "text_model." + rest, key, st, false);
        }
        if (key.startsWith(OPEN_CLIP)) {
            String rest = key.substring(OPEN_CLIP.length());
            Matcher m = IN_PROJ.matcher(rest);
            if (m.matches()) {
                if (Integer.parseInt(m.group(1)) >= textLayers) {
                    return false;
                }
                String layer = "text_model.encoder.layers." + m.group(1) + ".self_attn.";
                try (Scope s = Scope.open()) {
                    Tensor fused = st.read(key);
                    long c = fused.size(0) / 3;
                    String[] parts = {"q_proj", "k_proj", "v_proj"};
                    for (int i = 0; i < 3; i++) {
                        targets.put("text_encoder", layer + parts[i] + "." + m.group(2), key, fused.narrow(0, i * c, c));
                    }
                }
                return true;
            }
            Matcher r = RESBLOCK.matcher(key);
            if (r.matches() && Integer.parseInt(r.group(1)) >= textLayers) {
                return false;
            }
            String name = LdmKeys.openClip(rest);
            return name != null && targets.copy("text_encoder", name, key, st, false);
        }
        return false;
    }

    /** The parts' weights by name, and which have been written. */
    private static final class Targets {
        private final Path file;
        private final Map<String, Map<String, Tensor>> parts = new LinkedHashMap<>();
        private final Map<String, Set<String>> written = new HashMap<>();

        Targets(Path file) {
            this.file = file;
        }

        void add(String part, Module module) {
            parts.put(part, module.stateDict());
            written.put(part, new TreeSet<>());
        }

        boolean copy(String part, String name, String key, SafetensorsFile st, boolean squeeze) {
            if (!parts.get(part).containsKey(name)) {
                return false;
            }
            try (Scope s = Scope.open()) {
                Tensor t = st.read(key);
                put(part, name, key, squeeze && t.dim() == 4 ? t.view(t.size(0), t.size(1)) : t);
            }
            return true;
        }

        void put(String part, String name, String key, Tensor value) {
            Tensor dest = parts.get(part).get(name);
            if (dest == null) {
                throw new DiffusionException(file + ": '" + key + "' maps to " + part + " weight '" + name + "', which this architecture lacks");
            }
            if (!Arrays.equals(dest.shape(), value.shape())) {
                throw new DiffusionException(file + ": '" + key + "' has shape " + Arrays.toString(value.shape()) + " but " + part + " weight '"
                        + name + "' is " + Arrays.toString(dest.shape()));
            }
            if (!written.get(part).add(name)) {
                throw new DiffusionException(file + ": '" + key + "' writes " + part + " weight '" + name + "' a second time");
            }
            dest.copy_(value);
        }

        void requireComplete() {
            for (Map.Entry<String, Map<String, Tensor>> e : parts.entrySet()) {
                TreeSet<String> missing = new TreeSet<>(e.getValue().keySet());
                missing.removeAll(written.get(e.getKey()));
                if (!missing.isEmpty()) {
                    throw new DiffusionException(file + ": the " + e.getKey() + "'s weights " + missing.stream().limit(5).toList()
                            + (missing.size() > 5 ? " and " + (missing.size() - 5) + " more" : "") + " are missing");
                }
            }
        }
    }

    /** Resnets per down block: the index of the first downsampler ({@code input_blocks.N.0.op}) less one. */
    private static int layersPerBlock(Map<String, long[]> shapes) {
        int first = Integer.MAX_VALUE;
        int blocks = 0;
        Pattern op = Pattern.compile(Pattern.quote(UNET) + "input_blocks\\.(\\d+)\\.0\\.op\\.weight");
        Pattern any = Pattern.compile(Pattern.quote(UNET) + "input_blocks\\.(\\d+)\\..*");
        for (String k : shapes.keySet()) {
            Matcher m = op.matcher(k);
            if (m.matches()) {
                first = Math.min(first, Integer.parseInt(m.group(1)));
            }
            Matcher a = any.matcher(k);
            if (a.matches()) {
                blocks = Math.max(blocks, Integer.parseInt(a.group(1)));
            }
        }
        return first == Integer.MAX_VALUE ? blocks : first - 1;
    }

    private static long[] shape(Map<String, long[]> shapes, String key) {
        long[] s = shapes.get(key);
        if (s == null) {
            throw new DiffusionException("the checkpoint lacks '" + key + "', which every Stable Diffusion U-Net, autoencoder or text encoder "
                    + "has");
        }
        return s;
    }

    private static UNet2DConditionConfig unetConfig(Map<String, long[]> shapes, int layers, boolean sd2, Hints hints) {
        int levels = 1 + (int) shapes.keySet().stream().filter(k -> k.matches(Pattern.quote(UNET) + "input_blocks\\.\\d+\\.0\\.op\\.weight"))
                .count();
        List<Integer> channels = new ArrayList<>();
        List<String> down = new ArrayList<>();
        List<String> up = new ArrayList<>();
        List<Integer> heads = new ArrayList<>();
        String attention = null;
        for (int i = 0; i < levels; i++) {
            int first = 1 + i * (layers + 1);
            int c = (int) shape(shapes, UNET + "input_blocks." + first + ".0.out_layers.3.weight")[0];
            channels.add(c);
            boolean attends = shapes.containsKey(UNET + "input_blocks." + first + ".1.proj_in.weight");
            down.add(attends ? UNet2DConditionConfig.CROSS_ATTN_DOWN : UNet2DConditionConfig.DOWN);
            if (attends && attention == null) {
                attention = UNET + "input_blocks." + first + ".1.";
            }
            heads.add(sd2 ? Math.max(1, c / hints.sd2HeadWidth()) : hints.sd1Heads());
        }
        for (int u = 0; u < levels; u++) {
            up.add(shapes.containsKey(UNET + "output_blocks." + u * (layers + 1) + ".1.proj_in.weight") ? UNet2DConditionConfig.CROSS_ATTN_UP
                    : UNet2DConditionConfig.UP);
        }
        if (attention == null) {
            attention = UNET + "middle_block.1.";
        }
        int crossDim = (int) shape(shapes, attention + "transformer_blocks.0.attn2.to_k.weight")[1];
        boolean linear = shape(shapes, attention + "proj_in.weight").length == 2;
        String prefix = attention;
        int transformerLayers = (int) shapes.keySet().stream().filter(k -> k.startsWith(prefix + "transformer_blocks."))
                .map(k -> k.substring(prefix.length() + "transformer_blocks.".length()).split("\\.")[0]).distinct().count();
        long[] convIn = shape(shapes, UNET + "input_blocks.0.0.weight");
        long[] convOut = shape(shapes, UNET + "out.2.weight");
        return new UNet2DConditionConfig(null, (int) convIn[1], (int) convOut[0], false, true, 0, down, up, channels, layers, 1, 1,
                hints.normGroups(), 1e-5, crossDim, transformerLayers, heads, linear, false);
    }

    private static AutoencoderKLConfig vaeConfig(Map<String, long[]> shapes, Hints hints) {
        int levels = (int) shapes.keySet().stream().filter(k -> k.matches(Pattern.quote(VAE) + "encoder\\.down\\.\\d+\\.block\\.0\\.conv1\\.weight"))
                .count();
        List<Integer> channels = new ArrayList<>();
        for (int i = 0; i < levels; i++) {
            channels.add((int) shape(shapes, VAE + "encoder.down." + i + ".block.0.conv2.weight")[0]);
        }
        int layers = (int) shapes.keySet().stream().filter(k -> k.matches(Pattern.quote(VAE) + "encoder\\.down\\.0\\.block\\.\\d+\\.conv1\\.weight"))
                .count();
        int latent = (int) shape(shapes, VAE + "post_quant_conv.weight")[0];
        return new AutoencoderKLConfig((int) shape(shapes, VAE + "encoder.conv_in.weight")[1], (int) shape(shapes, VAE + "decoder.conv_out.weight")[0],
                Collections.nCopies(levels, AutoencoderKLConfig.DOWN), Collections.nCopies(levels, AutoencoderKLConfig.UP), channels, layers,
                Activation.SILU, latent, hints.normGroups(), 512, 0.18215, null, true, true, true);
    }

    private static CLIPTextConfig clipConfig(Map<String, long[]> shapes, Hints hints) {
        String p = shapes.containsKey(CLIP + "text_model.embeddings.token_embedding.weight") ? CLIP + "text_model." : CLIP;
        long[] tokens = shape(shapes, p + "embeddings.token_embedding.weight");
        int layers = (int) shapes.keySet().stream().filter(k -> k.matches(Pattern.quote(p) + "encoder\\.layers\\.\\d+\\.mlp\\.fc1\\.weight")).count();
        return new CLIPTextConfig((int) tokens[0], (int) tokens[1], (int) shape(shapes, p + "encoder.layers.0.mlp.fc1.weight")[0],
                (int) tokens[1] / hints.clipHeadWidth(), layers, (int) shape(shapes, p + "embeddings.position_embedding.weight")[0],
                Activation.QUICK_GELU, 1e-5, CLIPTextConfig.LEGACY_EOS, 0);
    }

    /** OpenCLIP's tower, less its last layer. */
    private static CLIPTextConfig openClipConfig(Map<String, long[]> shapes, Hints hints) {
        long[] tokens = shape(shapes, OPEN_CLIP + "token_embedding.weight");
        int blocks = (int) shapes.keySet().stream().filter(k -> k.matches(Pattern.quote(OPEN_CLIP) + "transformer\\.resblocks\\.\\d+\\.ln_1\\.weight"))
                .count();
        return new CLIPTextConfig((int) tokens[0], (int) tokens[1], (int) shape(shapes, OPEN_CLIP + "transformer.resblocks.0.mlp.c_fc.weight")[0],
                (int) tokens[1] / hints.clipHeadWidth(), blocks - 1, (int) shape(shapes, OPEN_CLIP + "positional_embedding")[0],
                Activation.GELU, 1e-5, CLIPTextConfig.LEGACY_EOS, 0);
    }

    /** The scheduler Stable Diffusion 1.x and 2.x were trained with, as their pipelines' scheduler_config.json gives it. */
    private static Map<String, Object> schedulerConfig(Prediction prediction) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num_train_timesteps", 1000);
        m.put("beta_schedule", "scaled_linear");
        m.put("beta_start", 0.00085);
        m.put("beta_end", 0.012);
        m.put("steps_offset", 1);
        m.put("timestep_spacing", "leading");
        m.put("set_alpha_to_one", false);
        m.put("prediction_type", prediction.configName());
        return m;
    }
}
