package dev.diffusion4j.model;

import dev.diffusion4j.nn.Module;

/** A trainable network that predicts ε, x₀ or v from (x_t, t), built from a {@link NetworkConfig}. */
public abstract class DenoisingNetwork extends Module implements NoisePredictor {

    /** The architecture this network was built from. */
    public abstract NetworkConfig config();

    @Override
    public boolean learnsVariance() {
        return config().varianceType() == VarianceType.LEARNED_RANGE;
    }
}
