package dev.diffusion4j.objective;

import dev.diffusion4j.tensor.Tensor;

/**
 * A denoising network as the training objective sees it: given the noisy batch x_t and its
 * timesteps t (float32 [B], values in 0..T−1), it returns a tensor shaped like x_t holding its
 * prediction in the objective's {@link dev.diffusion4j.process.Prediction parameterisation}
 * (ε, x₀ or v).
 */
@FunctionalInterface
public interface NoisePredictionNetwork {
    Tensor predict(Tensor xt, Tensor t);
}
