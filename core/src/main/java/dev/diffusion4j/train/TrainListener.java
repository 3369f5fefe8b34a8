package dev.diffusion4j.train;

import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;

/** Observes a training run; every method has a no-op default. */
public interface TrainListener {
    TrainListener NONE = new TrainListener() { };

    /** Called once before the first step; {@code startStep} is 0 unless resuming. */
    default void onStart(long startStep, long totalSteps, long parameterCount) {
    }

    /** Called after each optimizer step with that step's mean loss and learning rate. */
    default void onStep(long step, long totalSteps, double loss, double lr) {
    }

    default void onCheckpoint(Path checkpoint) {
    }

    /**
     * Called every {@code sample_every} steps of an image model (and after the last) with the weights
     * previews should sample from: the EMA's when the run keeps one. The tensors are valid during the
     * call only; {@code DiffusionPipeline.of} copies them.
     */
    default void onPreview(long step, ModelSpec spec, Map<String, Tensor> weights) {
    }

    /**
     * Polled after every step; returning true ends the run early with a checkpoint of that step,
     * from which {@link Trainer#resume} continues exactly.
     */
    default boolean stopRequested() {
        return false;
    }

    /** Polled after every step; returning true writes a checkpoint of that step (if none was due anyway). */
    default boolean checkpointRequested() {
        return false;
    }
}
