package dev.diffusion4j.schedule;

import dev.diffusion4j.DiffusionException;
import java.util.Locale;

/**
 * How K sampling steps are chosen among T training timesteps (the three rules compared in
 * Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", table 2).
 * Each returns K distinct timesteps in descending order.
 */
public enum TimestepSpacing {
    /** t = (K−1−i)·⌊T/K⌋: starts below T−1 when T/K is not whole. */
    LEADING("leading"),
    /** t = round(T − i·T/K) − 1: always starts at T−1 (the default). */
    TRAILING("trailing"),
    /** t = round(linspace(T−1, 0, K)): both ends of the grid. */
    LINSPACE("linspace");

    private final String configName;

    TimestepSpacing(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static TimestepSpacing parse(String name) {
        for (TimestepSpacing s : values()) {
            if (s.configName.equals(name.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new DiffusionException("unknown timestep spacing '" + name + "': use leading, trailing or linspace");
    }

    /** K of the T training timesteps, descending. */
    public int[] timesteps(int trainSteps, int steps) {
        if (steps < 1 || steps > trainSteps) {
            throw new DiffusionException("number of sampling steps must be between 1 and the model's " + trainSteps
                    + " training timesteps, got " + steps);
        }
        int[] t = new int[steps];
        for (int i = 0; i < steps; i++) {
            switch (this) {
                case LEADING:
                    t[i] = (steps - 1 - i) * (trainSteps / steps);
                    break;
                case TRAILING:
                    t[i] = (int) Math.round(trainSteps - i * (double) trainSteps / steps) - 1;
                    break;
                default:
                    t[i] = steps == 1 ? trainSteps - 1 : (int) Math.round((trainSteps - 1) * (1 - (double) i / (steps - 1)));
            }
        }
        return t;
    }
}
