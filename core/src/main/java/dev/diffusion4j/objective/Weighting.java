package dev.diffusion4j.objective;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.process.Prediction;
import java.util.Locale;

/**
 * Per-timestep loss weights. {@link #MIN_SNR} is the Min-SNR-γ strategy of Hang et al. 2023
 * ("Efficient Diffusion Training via Min-SNR Weighting Strategy", eq. 7 and sec. 3.4): it weights
 * the x₀-space loss by min(SNR_t, γ), which in the ε- and v-parameterisations becomes
 * min(SNR, γ)/SNR and min(SNR, γ)/(SNR + 1).
 */
public enum Weighting {
    /** Every timestep weighs 1. */
    NONE("none"),
    /** min(SNR, γ)/SNR for ε, min(SNR, γ)/(SNR + 1) for v, min(SNR, γ) for x₀ (Hang et al. 2023). */
    MIN_SNR("min_snr");

    /** The γ of Min-SNR-γ recommended by Hang et al. 2023. */
    public static final double DEFAULT_GAMMA = 5.0;

    private final String configName;

    Weighting(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /**
     * The weight of a timestep with signal-to-noise ratio {@code snr} for a network predicting
     * {@code prediction}. At SNR = 0 (zero terminal SNR) the ε weight takes its limit 1.
     */
    public double weight(double snr, Prediction prediction, double gamma) {
        if (this == NONE) {
            return 1.0;
        }
        double clipped = Math.min(snr, gamma);
        switch (prediction) {
            case EPSILON: return snr == 0.0 ? 1.0 : clipped / snr;
            case V: return clipped / (snr + 1.0);
            case SAMPLE: return clipped;
            default: throw new IllegalStateException(prediction.name());
        }
    }

    /** Parses none and min_snr (also min-snr, minsnr), case-insensitively. */
    public static Weighting parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "none": return NONE;
            case "min_snr": case "min-snr": case "minsnr": return MIN_SNR;
            default: throw new DiffusionException("unknown loss weighting '" + name + "': use none or min_snr");
        }
    }
}
