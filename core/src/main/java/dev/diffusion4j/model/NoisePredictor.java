package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;

/**
 * A trainable network as the training objective sees it: (x_t at the network's input scale,
 * timestep t as float [B]) → a prediction shaped like x_t, in the parameterisation it is trained
 * for (ε, x₀ or v).
 */
@FunctionalInterface
public interface NoisePredictor {
    Tensor predict(Tensor xt, Tensor t);
}
