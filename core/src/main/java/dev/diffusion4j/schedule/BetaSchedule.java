package dev.diffusion4j.schedule;

import dev.diffusion4j.DiffusionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;

/**
 * The shape of the per-step noise variances β_0..β_{T−1} of a discrete diffusion process, named
 * as in diffusers' {@code beta_schedule} config key. Range-based schedules interpolate between
 * β_start and β_end; {@link #COSINE} and {@link #EXPONENTIAL} are defined through a continuous
 * ᾱ(τ), τ ∈ [0, 1], with β_t = 1 − ᾱ((t+1)/T)/ᾱ(t/T) capped at {@value #MAX_BETA}
 * (Nichol &amp; Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models", eq. 17).
 */
public enum BetaSchedule {
    /** β_t = linspace(β_start, β_end, T) (Ho et al. 2020); defaults 1e-4 … 0.02. */
    LINEAR("linear", null, 1e-4, 0.02, true),
    /** β_t = linspace(√β_start, √β_end, T)², the latent-diffusion schedule; defaults 0.00085 … 0.012. */
    SCALED_LINEAR("scaled_linear", null, 0.00085, 0.012, true),
    /** The same square-root-space interpolation as {@link #SCALED_LINEAR}, with defaults 1e-4 … 0.02. */
    QUADRATIC("quadratic", null, 1e-4, 0.02, true),
    /** β_t = β_start + (β_end − β_start)·sigmoid(linspace(−6, 6, T)); defaults 1e-4 … 0.02. */
    SIGMOID("sigmoid", null, 1e-4, 0.02, true),
    /**
     * ᾱ(τ) = cos²((τ + s)/(1 + s)·π/2) with s = 0.008 (Nichol &amp; Dhariwal 2021, eq. 17); β_start and
     * β_end are not used.
     */
    COSINE("squaredcos_cap_v2", "cosine", 1e-4, 0.02, false),
    /** ᾱ(τ) = exp(−12τ), i.e. a constant β = 1 − exp(−12/T); β_start and β_end are not used. */
    EXPONENTIAL("exp", "exponential", 1e-4, 0.02, false);

    /** Upper bound on β_t for the ᾱ-defined schedules, so that no step destroys the signal at once. */
    public static final double MAX_BETA = 0.9999;

    /** Offset s of the cosine schedule, which keeps β_0 from being vanishingly small. */
    public static final double COSINE_OFFSET = 0.008;

    private final String configName;
    private final String alias;
    private final double defaultBetaStart;
    private final double defaultBetaEnd;
    private final boolean usesBetaRange;

    BetaSchedule(String configName, String alias, double defaultBetaStart, double defaultBetaEnd, boolean usesBetaRange) {
        this.configName = configName;
        this.alias = alias;
        this.defaultBetaStart = defaultBetaStart;
        this.defaultBetaEnd = defaultBetaEnd;
        this.usesBetaRange = usesBetaRange;
    }

    /** The name used in {@code beta_schedule} config entries. */
    public String configName() {
        return configName;
    }

    /** Default β_start; recorded in configs but ignored when {@link #usesBetaRange()} is false. */
    public double defaultBetaStart() {
        return defaultBetaStart;
    }

    /** Default β_end; recorded in configs but ignored when {@link #usesBetaRange()} is false. */
    public double defaultBetaEnd() {
        return defaultBetaEnd;
    }

    /** Whether β_start and β_end shape this schedule (false for the ᾱ-defined cosine and exp). */
    public boolean usesBetaRange() {
        return usesBetaRange;
    }

    /** Parses a config name or alias, case-insensitively. */
    public static BetaSchedule parse(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (BetaSchedule s : values()) {
                if (s.configName.equals(n) || n.equals(s.alias)) {
                    return s;
                }
            }
        }
        List<String> valid = new ArrayList<>();
        for (BetaSchedule s : values()) {
            valid.add(s.alias == null ? s.configName : s.configName + " (or " + s.alias + ")");
        }
        throw new DiffusionException("unknown beta schedule '" + name + "': use one of " + String.join(", ", valid));
    }

    /**
     * The T betas in double precision. Arguments are not validated here; {@link NoiseSchedule}
     * checks them.
     */
    public double[] betas(int T, double betaStart, double betaEnd) {
        double[] b = new double[T];
        switch (this) {
            case LINEAR:
                for (int t = 0; t < T; t++) {
                    b[t] = lerp(betaStart, betaEnd, t, T);
                }
                return b;
            case SCALED_LINEAR:
            case QUADRATIC:
                for (int t = 0; t < T; t++) {
                    double r = lerp(Math.sqrt(betaStart), Math.sqrt(betaEnd), t, T);
                    b[t] = r * r;
                }
                return b;
            case SIGMOID:
                for (int t = 0; t < T; t++) {
                    double x = lerp(-6.0, 6.0, t, T);
                    b[t] = betaStart + (betaEnd - betaStart) / (1.0 + Math.exp(-x));
                }
                return b;
            case COSINE:
                return fromAlphaBar(T, BetaSchedule::cosineAlphaBar);
            case EXPONENTIAL:
                return fromAlphaBar(T, tau -> Math.exp(-12.0 * tau));
            default:
                throw new IllegalStateException(name());
        }
    }

    /** The un-normalised cosine ᾱ(τ) = cos²((τ + s)/(1 + s)·π/2) (Nichol &amp; Dhariwal 2021, eq. 17). */
    public static double cosineAlphaBar(double tau) {
        double c = Math.cos((tau + COSINE_OFFSET) / (1.0 + COSINE_OFFSET) * Math.PI / 2.0);
        return c * c;
    }

    /** Element {@code i} of linspace(a, b, n); the last element is exactly {@code b}. */
    private static double lerp(double a, double b, int i, int n) {
        return i == n - 1 ? b : a + (b - a) * i / (n - 1);
    }

    /** β_t = min(1 − ᾱ((t+1)/T)/ᾱ(t/T), MAX_BETA) (Nichol &amp; Dhariwal 2021, sec. 3.2). */
    private static double[] fromAlphaBar(int T, DoubleUnaryOperator alphaBar) {
        double[] b = new double[T];
        for (int t = 0; t < T; t++) {
            double ratio = alphaBar.applyAsDouble((t + 1.0) / T) / alphaBar.applyAsDouble((double) t / T);
            b[t] = Math.min(1.0 - ratio, MAX_BETA);
        }
        return b;
    }
}
