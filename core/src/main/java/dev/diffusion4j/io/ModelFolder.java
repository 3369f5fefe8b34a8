package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A model stored as diffusers and transformers store one: a folder holding {@value #CONFIG_FILE} (the
 * architecture) and the weights as one safetensors file. Only safetensors are read, never pickles.
 */
public final class ModelFolder {
    public static final String CONFIG_FILE = "config.json";
    /** The weights' name in a diffusers model folder ({@code unet/}, {@code vae/}). */
    public static final String DIFFUSERS_WEIGHTS = "diffusion_pytorch_model.safetensors";

    private ModelFolder() {
    }

    /** Writes {@code folder}/{@value #CONFIG_FILE} and {@code folder}/{@code weightsFile} (as the tensors are), creating the folder. */
    public static void write(Path folder, Map<String, Object> config, String weightsFile, Map<String, Tensor> weights) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new DiffusionException("could not create " + folder + ": " + AtomicFiles.reason(e), e);
        }
        Safetensors.write(folder.resolve(weightsFile), weights, Map.of("format", "pt"));
        Json.write(folder.resolve(CONFIG_FILE), config);
    }

    /**
     * The weights file of {@code folder}: {@code name} ({@code model.safetensors}), else diffusers'
     * half-precision variant of it ({@code model.fp16.safetensors}) when only that is there, else
     * {@code name} (whose absence the reader reports).
     */
    public static String weightsFile(Path folder, String name) {
        String variant = name.replaceFirst("\\.safetensors$", ".fp16.safetensors");
        return !Files.isRegularFile(folder.resolve(name)) && Files.isRegularFile(folder.resolve(variant)) ? variant : name;
    }

    /** {@code folder}/{@value #CONFIG_FILE} as a map. */
    public static Map<String, Object> readConfig(Path folder) {
        return Json.readMap(folder.resolve(CONFIG_FILE));
    }

    /**
     * Hands the tensors of {@code folder}/{@code weightsFile} to {@code load}, valid during the call. A
     * missing file is an error saying that {@code kind} ("an AutoencoderKL") holds it, then {@code advice}.
     */
    public static void readWeights(Path folder, String weightsFile, String kind, String advice, Consumer<Map<String, Tensor>> load) {
        Path weights = folder.resolve(weightsFile);
        if (!Files.isRegularFile(weights)) {
            throw new DiffusionException(folder + " has no " + weightsFile + ": " + kind + " folder holds " + CONFIG_FILE + " and "
                    + weightsFile + advice);
        }
        try (SafetensorsFile file = Safetensors.open(weights); Scope s = Scope.open()) {
            load.accept(file.readAll());
        }
    }

    /** SHA-256 (hex) of {@code folder}/{@code weightsFile}: what names the weights a model was built on. */
    public static String sha256(Path folder, String weightsFile) {
        Path file = folder.resolve(weightsFile);
        try {
            return CheckpointStore.sha256(file);
        } catch (IOException e) {
            throw new DiffusionException("could not read " + file + ": " + AtomicFiles.reason(e), e);
        }
    }
}
