package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A diffusers model folder: the {@code unet/} or {@code vae/} of a pipeline folder, or one model
 * saved alone. It holds {@value #CONFIG_FILE} (the model's constructor arguments) and the weights
 * as {@value #WEIGHTS_FILE} under diffusers' key names.
 */
public final class DiffusersFolder {
    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "diffusion_pytorch_model.safetensors";

    private DiffusersFolder() {
    }

    /** The folder's config.json. */
    public static Map<String, Object> readConfig(Path folder) {
        return Json.readMap(folder.resolve(CONFIG_FILE));
    }

    /**
     * The folder's weights, opened for reading; their absence is an error that says what a folder of
     * {@code model} holds. Only safetensors are read, never pickled {@code .bin} files.
     */
    public static SafetensorsFile openWeights(Path folder, String model) {
        Path weights = folder.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            throw new DiffusionException(folder + " has no " + WEIGHTS_FILE + ": " + model + " folder holds " + CONFIG_FILE
                    + " and its weights as safetensors (pickled .bin files are never read)");
        }
        return Safetensors.open(weights);
    }

    /** Writes {@code folder} in diffusers' layout: {@code config} and the weights as they are (float32 for a model's own). */
    public static void write(Path folder, Map<String, Object> config, Map<String, Tensor> weights) {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new DiffusionException("could not create " + folder + ": " + AtomicFiles.reason(e), e);
        }
        Safetensors.write(folder.resolve(WEIGHTS_FILE), weights, Map.of("format", "pt"));
        Json.write(folder.resolve(CONFIG_FILE), config);
    }
}
