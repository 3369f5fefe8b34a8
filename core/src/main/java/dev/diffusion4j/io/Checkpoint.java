package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The checkpoint format, in one place: a sealed directory ({@link CheckpointStore}) holding
 * {@value #CONFIG_FILE} (the {@code model}, {@code scheduler}, {@code data} and {@code training}
 * sections), {@value #MODEL_FILE}, {@value #EMA_FILE} when the run keeps an EMA,
 * {@value #OPTIMIZER_FILE} (libtorch archive) and {@value #STATE_FILE} (step, random generator
 * states, loss log). The trainer writes it, and the pipeline, the CLI and the studio read it, all
 * through this class.
 */
public final class Checkpoint {
    /**
     * Newest config.json {@code format_version} this code reads. 1: the first layout; 2: the model
     * section gained {@code variance_type} (absent in version 1, meaning a fixed variance); 3: image
     * models ({@code model_type} unet_2d, a {@code data.shape} and no normalizer).
     */
    public static final int FORMAT_VERSION = 3;
    public static final String CONFIG_FILE = "config.json";
    public static final String MODEL_FILE = "model.safetensors";
    public static final String EMA_FILE = "ema.safetensors";
    public static final String OPTIMIZER_FILE = "optimizer.pt";
    public static final String STATE_FILE = "trainer_state.json";
    /** An autoencoder run's patch critic, its optimizer, and the frozen network its perceptual term reads. */
    public static final String DISCRIMINATOR_FILE = "discriminator.safetensors";
    public static final String DISCRIMINATOR_OPTIMIZER_FILE = "discriminator_optimizer.pt";
    public static final String PERCEPTUAL_FILE = "perceptual_network.safetensors";
    /** A latent diffusion model's autoencoder, which decodes its samples. */
    public static final String AUTOENCODER_FILE = "autoencoder.safetensors";

    private final Path dir;

    private Checkpoint(Path dir) {
        this.dir = dir;
    }

    /**
     * The checkpoint {@code dir}, or the newest one in run directory {@code dir}, after checking every
     * file against its manifest (so a truncated or corrupt file is a clear error, not a bad model).
     */
    public static Checkpoint open(Path dir) {
        Path ckpt = CheckpointStore.resolve(dir);
        CheckpointStore.verify(ckpt);
        return new Checkpoint(ckpt);
    }

    /** The checkpoint directory. */
    public Path dir() {
        return dir;
    }

    /** The training step it was written at. */
    public long step() {
        return CheckpointStore.step(dir);
    }

    /** The run's name: the run directory's name (the checkpoint's parent). */
    public String runName() {
        Path run = dir.toAbsolutePath().normalize().getParent();
        return run != null && run.getFileName() != null ? run.getFileName().toString() : dir.toString();
    }

    /** config.json as a map. */
    public Map<String, Object> config() {
        return readConfig(dir);
    }

    /** Whether the run kept an EMA of its weights. */
    public boolean hasEma() {
        return Files.isRegularFile(dir.resolve(EMA_FILE));
    }

    /** The weights file read for {@code preferEma}: the EMA weights when asked for and present, else the raw ones. */
    public String weightsFile(boolean preferEma) {
        return preferEma && hasEma() ? EMA_FILE : MODEL_FILE;
    }

    /**
     * The tensors of weights file {@code file} ({@value #MODEL_FILE} or {@value #EMA_FILE}); they belong
     * to the caller's enclosing {@link Scope}.
     */
    public Map<String, Tensor> weights(String file) {
        try (SafetensorsFile f = Safetensors.open(dir.resolve(file)); Scope s = Scope.open()) {
            Map<String, Tensor> all = f.readAll();
            all.values().forEach(s::keep);
            return all;
        }
    }

    /** The SHA-256 of a file of the checkpoint as its manifest records it (hex). */
    public String sha256(String file) {
        return CheckpointStore.sha256(dir, file).orElseThrow(() -> new DiffusionException(
                dir.resolve(CheckpointStore.MANIFEST) + " lists no " + file + "; the checkpoint is damaged — use an earlier one"));
    }

    /** trainer_state.json as a map. */
    public Map<String, Object> trainerState() {
        return readJson(dir.resolve(STATE_FILE));
    }

    /** Reads config.json of checkpoint directory {@code dir} as a map (without verifying the manifest). */
    public static Map<String, Object> readConfig(Path dir) {
        return readJson(dir.resolve(CONFIG_FILE));
    }

    private static Map<String, Object> readJson(Path file) {
        return Json.readMap(file);
    }

    /**
     * Starts checkpoint {@code step} of run {@code runDir}: files go into a staging directory, and
     * {@link Writer#commit} seals and publishes it atomically.
     */
    public static Writer write(Path runDir, long step) {
        return new Writer(CheckpointStore.stage(runDir, step));
    }

    /** A checkpoint being written; closing it without {@link #commit} discards it. */
    public static final class Writer implements AutoCloseable {
        private final CheckpointStore.Staging staging;

        private Writer(CheckpointStore.Staging staging) {
            this.staging = staging;
        }

        public void config(Map<String, Object> config) {
            staging.writeJson(CONFIG_FILE, config);
        }

        public void model(Map<String, Tensor> weights, Map<String, String> metadata) {
            staging.writeTensors(MODEL_FILE, weights, metadata);
        }

        public void ema(Map<String, Tensor> weights, Map<String, String> metadata) {
            staging.writeTensors(EMA_FILE, weights, metadata);
        }

        /** Where the optimizer writes its state. */
        public Path optimizerFile() {
            return staging.path(OPTIMIZER_FILE);
        }

        /** Weights of another part of the run ({@value #DISCRIMINATOR_FILE}, say) as safetensors file {@code file}. */
        public void tensors(String file, Map<String, Tensor> weights, Map<String, String> metadata) {
            staging.writeTensors(file, weights, metadata);
        }

        /** Where a part of the run that writes itself (an optimizer, a classifier) puts file {@code file}. */
        public Path file(String file) {
            return staging.path(file);
        }

        public void trainerState(Map<String, Object> state) {
            staging.writeJson(STATE_FILE, state);
        }

        /** Seals and publishes the checkpoint, keeping the newest {@code keep} of the run. */
        public Checkpoint commit(int keep) {
            return new Checkpoint(staging.commit(keep));
        }

        @Override
        public void close() {
            staging.close();
        }
    }
}
