package dev.diffusion4j.process;

import dev.diffusion4j.DiffusionException;
import java.util.Locale;

/**
 * The variance of a reverse step p(x_s | x_t): fixed as in Ho et al. 2020 (sec. 3.2), or learned
 * (Nichol &amp; Dhariwal 2021). DDPM sampling and the variational bound read it.
 */
public enum ReverseVariance {
    /** σ_t² = β̃_t, the posterior variance: optimal for deterministic x₀ ("fixed_small"). */
    BETA_TILDE("fixed_small"),
    /** σ_t² = β_t: optimal for x₀ ~ N(0, I) ("fixed_large"). */
    BETA("fixed_large"),
    /** log σ_t² = u·log β_t + (1 − u)·log β̃_t with u predicted by the model ("learned_range"). */
    LEARNED_RANGE("learned_range");

    private final String configName;

    ReverseVariance(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static ReverseVariance parse(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "fixed_small": case "beta_tilde": case "small": return BETA_TILDE;
            case "fixed_large": case "beta": case "large": return BETA;
            case "learned_range": case "learned": return LEARNED_RANGE;
            default: throw new DiffusionException("unknown variance '" + name
                    + "': use fixed_small (β̃), fixed_large (β) or learned_range (for a model trained with a learned variance)");
        }
    }
}
