package dev.diffusion4j.models.sd;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ConfigValues;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.model.LatentSpace;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.models.clip.CLIPTextModel;
import dev.diffusion4j.models.unet.UNet2DConditionModel;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.text.ClipTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Stable Diffusion 1.x / 2.x / XL pipeline saved by diffusers: a folder whose {@code model_index.json}
 * names its parts ({@code "unet": ["diffusers", "UNet2DConditionModel"]}, …), each in a subfolder of
 * that name. The U-Net, autoencoder, text encoder and tokenizer are read from theirs; the scheduler's
 * config gives the noise schedule the U-Net was trained on and what it predicts (ε or v), while the
 * sampler is the request's. A safety checker or feature extractor the folder lists is not read.
 */
public final class StableDiffusionFolder {
    public static final String MODEL_INDEX = "model_index.json";
    /** The pipeline classes whose parts this reads: the text-to-image one and those built from the same parts. */
    private static final Set<String> PIPELINES = Set.of("StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline",
            "StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline");
    private static final Set<String> TOKENIZERS = Set.of("CLIPTokenizer", "CLIPTokenizerFast");

    /**
     * The parts, loaded: the spec the pipeline runs by, the denoising network, the decoder,
     * model_index.json itself, the U-Net's weights file (whose hash names the model) and the
     * scheduler's config (whose spacing and options {@link DiffusersScheduler} follows), and the keys
     * of a single-file checkpoint that no part reads (empty for a folder, whose every key is read).
     */
    public record Loaded(ModelSpec spec, StableDiffusionNetwork network, AutoencoderKL autoencoder, Map<String, Object> modelIndex,
                         Path unetWeights, Map<String, Object> schedulerConfig, List<String> ignored) {
    }

    private StableDiffusionFolder() {
    }

    /** Whether {@code dir} is a diffusers pipeline folder. */
    public static boolean isPipelineFolder(Path dir) {
        return Files.isRegularFile(dir.resolve(MODEL_INDEX));
    }

    /**
     * The image a pipeline folder or checkpoint file makes by default, [3, H, W], from its configs
     * alone (no weights read): the U-Net's sample size times the autoencoder's factor; 512² for a file.
     */
    public static long[] imageShape(Path model) {
        if (!isPipelineFolder(model)) {
            return new long[] {3, 512, 512};
        }
        Map<String, Object> unet = Json.readMap(model.resolve("unet").resolve("config.json"));
        Map<String, Object> vae = Json.readMap(model.resolve("vae").resolve("config.json"));
        int size = unet.get("sample_size") instanceof Number n ? n.intValue() : 64;
        int levels = vae.get("block_out_channels") instanceof List<?> l ? l.size() : 4;
        long side = (long) size << (levels - 1);
        return new long[] {3, side, side};
    }

    /** Reads every part of the pipeline in {@code dir}; an error names the part and file that does not fit. */
    public static Loaded load(Path dir) {
        Map<String, Object> index = Json.readMap(dir.resolve(MODEL_INDEX));
        Object pipeline = index.get("_class_name");
        if (!PIPELINES.contains(pipeline)) {
            throw new DiffusionException(dir.resolve(MODEL_INDEX) + ": _class_name '" + pipeline + "' is not a pipeline this version "
                    + "reads (" + String.join(", ", PIPELINES.stream().sorted().toList()) + ": Stable Diffusion 1.x and 2.x)");
        }
        requirePart(dir, index, "unet", "diffusers", Set.of(UNet2DConditionModel.class.getSimpleName()));
        requirePart(dir, index, "vae", "diffusers", Set.of(AutoencoderKL.class.getSimpleName()));
        requirePart(dir, index, "text_encoder", "transformers", Set.of("CLIPTextModel"));
        requirePart(dir, index, "tokenizer", "transformers", TOKENIZERS);
        boolean xl = String.valueOf(pipeline).startsWith("StableDiffusionXL");
        if (xl) {
            requirePart(dir, index, "text_encoder_2", "transformers", Set.of("CLIPTextModelWithProjection"));
            requirePart(dir, index, "tokenizer_2", "transformers", TOKENIZERS);
        }
        Object scheduler = index.get("scheduler");
        if (!(scheduler instanceof List<?> s) || s.size() != 2 || !Files.isRegularFile(dir.resolve("scheduler").resolve("scheduler_config.json"))) {
            throw new DiffusionException(dir + ": model_index.json names no scheduler, or scheduler/scheduler_config.json is missing; "
                    + "it gives the noise schedule the U-Net was trained on");
        }
        Map<String, Object> schedulerConfig = Json.readMap(dir.resolve("scheduler").resolve("scheduler_config.json"));

        ClipTokenizer tokenizer = ClipTokenizer.load(dir.resolve("tokenizer"));
        CLIPTextModel textEncoder = CLIPTextModel.load(dir.resolve("text_encoder"));
        UNet2DConditionModel unet = UNet2DConditionModel.load(dir.resolve("unet"));
        unet.train(false);
        Path vaeDir = dir.resolve("vae");
        AutoencoderKL vae = AutoencoderKL.load(vaeDir);
        vae.train(false);
        if (unet.config().inChannels() != vae.config().latentChannels()) {
            throw new DiffusionException(dir + ": the U-Net takes " + unet.config().inChannels() + " channels but the autoencoder's latents "
                    + "have " + vae.config().latentChannels() + " (an inpainting U-Net takes 9: this version reads text-to-image pipelines)");
        }
        int size = unet.config().sampleSize() != null ? unet.config().sampleSize() : 64;
        int factor = vae.config().downsampleFactor();
        CLIPTextModel textEncoder2 = xl ? CLIPTextModel.load(dir.resolve("text_encoder_2")) : null;
        ClipTokenizer tokenizer2 = xl ? ClipTokenizer.load(dir.resolve("tokenizer_2")) : null;
        boolean zeros = xl && !Boolean.FALSE.equals(index.get("force_zeros_for_empty_prompt"));
        StableDiffusionConfig config = new StableDiffusionConfig(unet.config(), textEncoder.config(), tokenizer, size,
                xl ? textEncoder2.config() : null, tokenizer2, factor, zeros);
        StableDiffusionNetwork network = new StableDiffusionNetwork(config, textEncoder, textEncoder2, unet);
        LatentSpace latent = new LatentSpace(vae.config().toConfig(), new long[] {vae.config().outChannels(), (long) size * factor,
                (long) size * factor}, vaeDir.toAbsolutePath().toString(),
                ModelFolder.sha256(vaeDir, ModelFolder.weightsFile(vaeDir, AutoencoderKL.WEIGHTS_FILE)), null);
        Object prediction = schedulerConfig.getOrDefault("prediction_type", "epsilon");
        ModelSpec spec = new ModelSpec(config, NoiseSchedule.fromConfig(schedulerConfig), Prediction.parse(String.valueOf(prediction)),
                null, null, latent);
        Path unetDir = dir.resolve("unet");
        return new Loaded(spec, network, vae, index, unetDir.resolve(ModelFolder.weightsFile(unetDir, ModelFolder.DIFFUSERS_WEIGHTS)),
                schedulerConfig, List.of());
    }

    private static void requirePart(Path dir, Map<String, Object> index, String part, String library, Set<String> classes) {
        Object entry = index.get(part);
        List<String> pair;
        try {
            pair = entry == null ? List.of() : ConfigValues.strings(entry);
        } catch (ClassCastException e) {
            pair = List.of();
        }
        if (pair.size() != 2 || !pair.get(0).equals(library) || !classes.contains(pair.get(1))) {
            throw new DiffusionException(dir.resolve(MODEL_INDEX) + ": '" + part + "' is " + entry + ", expected [\"" + library + "\", "
                    + "one of " + classes.stream().sorted().toList() + "]");
        }
        if (!Files.isDirectory(dir.resolve(part))) {
            throw new DiffusionException(dir + " has no " + part + "/ folder, which model_index.json lists");
        }
    }
}
