package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;

/** Noise-level grids for samplers: descending σ values ending with an appended 0. */
final class SigmaGrid {
    private SigmaGrid() {
    }

    /**
     * {@code steps} noise levels for {@code model}: the training levels picked by {@code spacing}
     * for discrete-time models, otherwise a geometric grid from σ_max down to σ_min.
     */
    static double[] forModel(Denoiser model, int steps, TimestepSpacing spacing) {
        double[] train = model.trainingSigmas();
        double[] grid = new double[steps + 1];
        if (train.length > 0) {
            int[] ts = spacing.timesteps(train.length, steps);
            for (int i = 0; i < steps; i++) {
                grid[i] = train[ts[i]];
            }
        } else {
            double hi = Math.log(model.sigmaMax());
            double lo = Math.log(model.sigmaMin());
            for (int i = 0; i < steps; i++) {
                grid[i] = Math.exp(steps == 1 ? hi : hi + (lo - hi) * i / (steps - 1));
            }
        }
        grid[steps] = 0.0;
        return grid;
    }

    /** The number of training timesteps of a discrete model, or {@code fallback} for continuous ones. */
    static int trainingSteps(Denoiser model, int fallback) {
        int n = model.trainingSigmas().length;
        return n > 0 ? n : fallback;
    }
}
