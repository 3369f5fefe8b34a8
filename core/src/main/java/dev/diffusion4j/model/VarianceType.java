package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import java.util.Locale;

/**
 * Whether a network predicts the variance of the reverse steps (the {@code variance_type} of a
 * model's config, named as in diffusers). {@link #FIXED}: it predicts only ε, x₀ or v, and samplers
 * pick a fixed β̃ or β. {@link #LEARNED_RANGE}: it also outputs one value v per coordinate that
 * interpolates the log variance between the two (Nichol &amp; Dhariwal 2021, "Improved DDPM", eq. 15).
 */
public enum VarianceType {
    FIXED("fixed"),
    LEARNED_RANGE("learned_range");

    private final String configName;

    VarianceType(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static VarianceType parse(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "fixed": return FIXED;
            case "learned_range": return LEARNED_RANGE;
            default: throw new DiffusionException("unknown variance type '" + name + "': use fixed (the sampler picks β̃ or β) or learned_range (the network learns it)");
        }
    }
}
