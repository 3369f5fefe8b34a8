package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;

/**
 * A trainable network as the training objective sees it: (x_t at the network's input scale,
 * timestep t as float [B]) → a prediction shaped like x_t, in the parameterisation it is trained
 * for (ε, x₀ or v). A network with a {@link VarianceType#LEARNED_RANGE learned variance} also
 * outputs the raw variance values v of {@link LearnedVariance}, from the same evaluation.
 */
@FunctionalInterface
public interface NoisePredictor {
    /** The error for labels given to a network without a class embedding. */
    String NOT_CONDITIONAL = "this model is not class-conditional; train one on labelled data with class conditioning";

    Tensor predict(Tensor xt, Tensor t);

    /** The prediction and, for a network that learns its variance, the raw values v (else null). */
    record Output(Tensor prediction, Tensor varianceValues) {
    }

    /** Whether {@link #predictWithVariance} returns variance values. */
    default boolean learnsVariance() {
        return false;
    }

    /** One evaluation: the prediction and, when {@link #learnsVariance()}, the variance values shaped like it. */
    default Output predictWithVariance(Tensor xt, Tensor t) {
        return new Output(predict(xt, t), null);
    }

    /**
     * Classes a class-conditional network was trained on; its learned null label ("no class") is
     * index {@code numClasses()}. 0 for an unconditional network.
     */
    default int numClasses() {
        return 0;
    }

    /**
     * Tokens per prompt of a text-conditioned network, whose condition is a prompt's token ids
     * [B, contextLength]; 0 for a network that reads no text.
     */
    default int contextLength() {
        return 0;
    }

    /**
     * The condition meaning "none" for {@code batch} samples: the null label for a class-conditional
     * network, the empty prompt for a text-conditioned one; null for an unconditional network.
     */
    default Tensor nullCondition(long batch) {
        return numClasses() > 0 ? Tensor.full(DType.INT64, numClasses(), batch) : null;
    }

    /**
     * One evaluation under a condition, one per sample: int64 class labels [B] (each in 0 … numClasses,
     * the last being the null label) or token ids [B, contextLength]; null means unconditional, the
     * same as {@link #predictWithVariance(Tensor, Tensor)}.
     */
    default Output predictWithVariance(Tensor xt, Tensor t, Tensor condition) {
        if (condition != null) {
            throw new DiffusionException(NOT_CONDITIONAL);
        }
        return predictWithVariance(xt, t);
    }
}
