package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.io.CheckpointStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The rules every trainer keeps for its run directory: where it starts, what resumes, what a divergence says. */
final class RunDirectory {
    private RunDirectory() {
    }

    /** Creates {@code runDir} if needed; it must be a writable directory. */
    static void prepare(Path runDir) {
        try {
            Files.createDirectories(runDir);
        } catch (IOException e) {
            throw new DiffusionException("cannot create output directory " + runDir + ": " + e.getMessage());
        }
        if (!Files.isDirectory(runDir) || !Files.isWritable(runDir)) {
            throw new DiffusionException("output directory " + runDir + " is not writable; choose another directory");
        }
    }

    /** Prepares {@code runDir} for a new run: it must not hold checkpoints yet. */
    static void prepareNew(Path runDir) {
        prepare(runDir);
        if (CheckpointStore.latest(runDir).isPresent()) {
            throw new DiffusionException(runDir + " already holds a training run; resume it, or train into another directory");
        }
    }

    /** The newest checkpoint of {@code runDir}, verified, to resume from. */
    static Checkpoint latestToResume(Path runDir) {
        prepare(runDir);
        Path latest = CheckpointStore.latest(runDir).orElseThrow(() -> new DiffusionException(
                "nothing to resume: " + runDir + " holds no checkpoint; start a new run there instead"));
        return Checkpoint.open(latest);
    }

    /** The error that stops a run whose step {@code step} (1-based) went non-finite, pointing at the last good checkpoint. */
    static DiffusionException divergence(Path runDir, String what, long step, String problem) {
        String resume = CheckpointStore.latest(runDir).map(p -> "; the last good checkpoint is " + p.getFileName()
                + " (resume from it)").orElse("");
        return new DiffusionException(what + " diverged at step " + step + ": " + problem
                + "; lower the learning rate (learning_rate) or keep gradient clipping on (max_grad_norm)" + resume);
    }
}
