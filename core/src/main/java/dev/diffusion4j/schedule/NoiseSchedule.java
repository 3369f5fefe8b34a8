package dev.diffusion4j.schedule;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable discrete noise schedule over t = 0..T−1: betas β_t, α_t = 1 − β_t, ᾱ_t = ∏_{s≤t} α_s,
 * SNR_t = ᾱ_t/(1 − ᾱ_t) and the equivalent variance-exploding noise levels σ_t = √((1 − ᾱ_t)/ᾱ_t)
 * (Ho et al. 2020; Karras et al. 2022, "Elucidating the Design Space", sec. 2). All tables are
 * computed in double precision; optionally rescaled to zero terminal SNR (Lin et al. 2023).
 */
public final class NoiseSchedule {
    /** Config key of T. */
    public static final String KEY_TIMESTEPS = "num_train_timesteps";
    /** Config key of the {@link BetaSchedule} name. */
    public static final String KEY_SCHEDULE = "beta_schedule";
    /** Config key of β_start. */
    public static final String KEY_BETA_START = "beta_start";
    /** Config key of β_end. */
    public static final String KEY_BETA_END = "beta_end";
    /** Config key of the zero-terminal-SNR switch. */
    public static final String KEY_RESCALE = "rescale_betas_zero_snr";

    /**
     * Stand-in for an exact-zero terminal ᾱ in {@link #sigmasForSampling()}: 2^−24, the smallest
     * positive float16 subnormal, giving σ_max = 2^12 = 4096.
     */
    public static final double ZERO_SNR_ALPHA_BAR = 0x1p-24;

    private final BetaSchedule schedule;
    private final int T;
    private final double betaStart;
    private final double betaEnd;
    private final boolean rescaleZeroTerminalSnr;

    private final double[] betas;
    private final double[] alphas;
    private final double[] alphaBar;
    private final double[] sqrtAlphaBar;
    private final double[] sqrtOneMinusAlphaBar;
    private final double[] snr;
    private final double[] sigmas;
    private final double[] samplingSigmas;
    private final double[] logSamplingSigmas;

    /**
     * Builds the schedule. {@code betaStart}/{@code betaEnd} must satisfy 0 &lt; β_start ≤ β_end &lt; 1
     * when the schedule {@link BetaSchedule#usesBetaRange() uses them}; they are only recorded otherwise.
     */
    public NoiseSchedule(BetaSchedule schedule, int numTimesteps, double betaStart, double betaEnd, boolean rescaleZeroTerminalSnr) {
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        validate(schedule, numTimesteps, betaStart, betaEnd);
        this.T = numTimesteps;
        this.betaStart = betaStart;
        this.betaEnd = betaEnd;
        this.rescaleZeroTerminalSnr = rescaleZeroTerminalSnr;

        double[] b = schedule.betas(T, betaStart, betaEnd);
        double[] ab = cumprod(b);
        for (int t = 1; t < T; t++) {
            if (!(ab[t] < ab[t - 1])) {
                throw new DiffusionException("beta schedule " + schedule.configName() + " with beta_start=" + betaStart
                        + " leaves alpha_bar constant between steps in double precision: use a beta_start above 1e-15");
            }
        }
        if (rescaleZeroTerminalSnr) {
            ab = rescaleToZeroTerminalSnr(ab);
            b = new double[T];
            b[0] = 1.0 - ab[0];
            for (int t = 1; t < T; t++) {
                b[t] = 1.0 - ab[t] / ab[t - 1];
            }
        }
        this.betas = b;
        this.alphaBar = ab;
        this.alphas = new double[T];
        this.sqrtAlphaBar = new double[T];
        this.sqrtOneMinusAlphaBar = new double[T];
        this.snr = new double[T];
        this.sigmas = new double[T];
        for (int t = 0; t < T; t++) {
            alphas[t] = 1.0 - b[t];
            sqrtAlphaBar[t] = Math.sqrt(ab[t]);
            sqrtOneMinusAlphaBar[t] = Math.sqrt(1.0 - ab[t]);
            snr[t] = ab[t] / (1.0 - ab[t]);
            sigmas[t] = ab[t] == 0.0 ? Double.POSITIVE_INFINITY : Math.sqrt((1.0 - ab[t]) / ab[t]);
        }
        this.samplingSigmas = sigmas.clone();
        if (ab[T - 1] == 0.0) {
            // Zero terminal SNR makes σ_{T−1} infinite, but σ-space samplers start from σ_max·N(0, I):
            // use the float16-subnormal convention ᾱ = 2^−24 (σ ≈ 4096). If the rescaled schedule is
            // already below that at T−2, continue its last geometric decay instead (ᾱ_{T−2}²/ᾱ_{T−3},
            // with ᾱ_{−1} := 1) so that σ stays strictly increasing in t.
            double prev = ab[T - 2];
            double prevPrev = T >= 3 ? ab[T - 3] : 1.0;
            double terminal = prev > ZERO_SNR_ALPHA_BAR ? ZERO_SNR_ALPHA_BAR : prev * (prev / prevPrev);
            samplingSigmas[T - 1] = Math.sqrt((1.0 - terminal) / terminal);
        }
        this.logSamplingSigmas = new double[T];
        for (int t = 0; t < T; t++) {
            logSamplingSigmas[t] = Math.log(samplingSigmas[t]);
        }
    }

    /** A schedule with the given shape and T, using the schedule's default β range and no rescaling. */
    public static NoiseSchedule of(BetaSchedule schedule, int numTimesteps) {
        return new NoiseSchedule(schedule, numTimesteps, schedule.defaultBetaStart(), schedule.defaultBetaEnd(), false);
    }

    private static void validate(BetaSchedule schedule, int T, double b0, double b1) {
        if (T < 2) {
            throw new DiffusionException(KEY_TIMESTEPS + " must be at least 2, got " + T);
        }
        if (!Double.isFinite(b0) || !Double.isFinite(b1)) {
            throw new DiffusionException(KEY_BETA_START + " and " + KEY_BETA_END + " must be finite numbers, got " + b0 + " and " + b1);
        }
        if (!schedule.usesBetaRange()) {
            return;
        }
        if (!(b0 > 0.0 && b0 < 1.0)) {
            throw new DiffusionException(KEY_BETA_START + " must lie strictly between 0 and 1, got " + b0);
        }
        if (!(b1 > 0.0 && b1 < 1.0)) {
            throw new DiffusionException(KEY_BETA_END + " must lie strictly between 0 and 1, got " + b1);
        }
        if (b0 > b1) {
            throw new DiffusionException(KEY_BETA_START + " (" + b0 + ") must not exceed " + KEY_BETA_END + " (" + b1 + ")");
        }
    }

    private static double[] cumprod(double[] b) {
        double[] ab = new double[b.length];
        double p = 1.0;
        for (int t = 0; t < b.length; t++) {
            p *= 1.0 - b[t];
            ab[t] = p;
        }
        return ab;
    }

    /**
     * Lin et al. 2023, Algorithm 1: shift √ᾱ so its last entry is 0, then scale it so its first
     * entry is unchanged. The endpoints are set exactly (ᾱ_0 kept bit-for-bit, ᾱ_{T−1} = 0).
     */
    private static double[] rescaleToZeroTerminalSnr(double[] ab) {
        int T = ab.length;
        double first = Math.sqrt(ab[0]);
        double last = Math.sqrt(ab[T - 1]);
        double scale = first / (first - last);
        double[] out = new double[T];
        for (int t = 0; t < T; t++) {
            double s = (Math.sqrt(ab[t]) - last) * scale;
            out[t] = s * s;
        }
        out[0] = ab[0];
        out[T - 1] = 0.0;
        return out;
    }

    // ------------------------------------------------------------------ accessors

    public BetaSchedule betaSchedule() {
        return schedule;
    }

    /** T, the number of training timesteps. */
    public int numTimesteps() {
        return T;
    }

    public double betaStart() {
        return betaStart;
    }

    public double betaEnd() {
        return betaEnd;
    }

    public boolean rescaleZeroTerminalSnr() {
        return rescaleZeroTerminalSnr;
    }

    /** β_t (a copy). */
    public double[] betas() {
        return betas.clone();
    }

    /** α_t = 1 − β_t (a copy). */
    public double[] alphas() {
        return alphas.clone();
    }

    /** ᾱ_t = ∏_{s≤t} α_s (a copy). */
    public double[] alphasCumprod() {
        return alphaBar.clone();
    }

    /** √ᾱ_t (a copy). */
    public double[] sqrtAlphasCumprod() {
        return sqrtAlphaBar.clone();
    }

    /** √(1 − ᾱ_t) (a copy). */
    public double[] sqrtOneMinusAlphasCumprod() {
        return sqrtOneMinusAlphaBar.clone();
    }

    /** SNR_t = ᾱ_t/(1 − ᾱ_t) (a copy); 0 at t = T−1 under zero-terminal-SNR rescaling. */
    public double[] snr() {
        return snr.clone();
    }

    /** σ_t = √((1 − ᾱ_t)/ᾱ_t) (a copy); +∞ at t = T−1 under zero-terminal-SNR rescaling. */
    public double[] sigmas() {
        return sigmas.clone();
    }

    /**
     * {@link #sigmas()} with a finite last entry: samplers that work in σ need a finite σ_max to
     * draw x_T = σ_max·ε. An exact-zero terminal ᾱ is replaced by 2^−24 (σ ≈ 4096), or by the
     * geometric continuation ᾱ_{T−2}²/ᾱ_{T−3} when ᾱ_{T−2} is already at or below 2^−24, so the
     * grid stays strictly increasing. Identical to {@link #sigmas()} without rescaling.
     */
    public double[] sigmasForSampling() {
        return samplingSigmas.clone();
    }

    /** ᾱ_t of one timestep. */
    public double alphaBar(int t) {
        checkIndex(t);
        return alphaBar[t];
    }

    /** σ_t of one timestep (see {@link #sigmas()}). */
    public double sigma(int t) {
        checkIndex(t);
        return sigmas[t];
    }

    private void checkIndex(int t) {
        if (t < 0 || t >= T) {
            throw new DiffusionException("timestep " + t + " is outside 0.." + (T - 1));
        }
    }

    // ------------------------------------------------------------------ tensor helpers

    /** ᾱ_t gathered for int64 timestep indices, as float32 with the indices' shape. */
    public Tensor alphaBar(Tensor tIndex) {
        return gather(alphaBar, tIndex, DType.FLOAT32);
    }

    /** ᾱ_t gathered for int64 timestep indices, as {@code dtype} (FLOAT64 keeps full precision). */
    public Tensor alphaBar(Tensor tIndex, DType dtype) {
        return gather(alphaBar, tIndex, dtype);
    }

    /**
     * {@code table[t]} for each int64 index in {@code tIndex}, looked up in double precision and
     * returned as {@code dtype} with the shape of {@code tIndex}. Indices outside the table are a
     * {@link DiffusionException}.
     */
    public static Tensor gather(double[] table, Tensor tIndex, DType dtype) {
        if (tIndex.dtype() != DType.INT64) {
            throw new DiffusionException("timestep indices must be an int64 tensor, got " + tIndex.dtype()
                    + "; convert fractional times with sigmaToT/tToSigma instead");
        }
        long[] shape = tIndex.shape();
        Tensor flat = tIndex.reshape(-1);
        if (flat.numel() > 0) {
            long lo = (long) flat.amin().item();
            long hi = (long) flat.amax().item();
            if (lo < 0 || hi >= table.length) {
                throw new DiffusionException("timestep index " + (lo < 0 ? lo : hi) + " is outside 0.." + (table.length - 1));
            }
        }
        Tensor values = Tensor.of(table, table.length).indexSelect(0, flat).reshape(shape);
        return dtype == DType.FLOAT64 ? values : values.to(dtype);
    }

    /**
     * Fractional timesteps for noise levels σ: t is piecewise-linear in log σ between the grid
     * points of {@link #sigmasForSampling()} and clamped to [0, T−1]. Lets σ-space samplers call a
     * network trained on discrete t. Returns the input's floating dtype (float32 for other inputs).
     */
    public Tensor sigmaToT(Tensor sigma) {
        DType out = outputType(sigma);
        long[] shape = sigma.shape();
        Tensor logSigma = sigma.to(DType.FLOAT64).reshape(-1).log();
        Tensor grid = Tensor.of(logSamplingSigmas, T);
        // low = (number of grid points ≤ log σ) − 1 = T − 1 − (number above), kept inside 0..T−2
        // so that [low, low+1] is a grid cell; the weight is then clamped to [0, 1].
        Tensor above = logSigma.unsqueeze(1).lt(grid.unsqueeze(0)).to(DType.FLOAT64).sum(1, false);
        Tensor lowF = above.rsub(T - 1).clamp(0, T - 2);
        Tensor low = lowF.to(DType.INT64);
        Tensor high = lowF.add(1.0).to(DType.INT64);
        Tensor gLow = grid.indexSelect(0, low);
        Tensor gHigh = grid.indexSelect(0, high);
        Tensor w = logSigma.sub(gLow).div(gHigh.sub(gLow)).clamp(0.0, 1.0);
        return lowF.add(w).reshape(shape).to(out);
    }

    /**
     * Noise levels for fractional timesteps t: log σ interpolated linearly between the grid points
     * of {@link #sigmasForSampling()}, t clamped to [0, T−1]. The inverse of {@link #sigmaToT}.
     * Returns the input's floating dtype (float32 for integer inputs).
     */
    public Tensor tToSigma(Tensor t) {
        DType out = outputType(t);
        long[] shape = t.shape();
        Tensor tf = t.to(DType.FLOAT64).reshape(-1).clamp(0, T - 1);
        Tensor lowF = tf.floor().clamp(0, T - 2);
        Tensor w = tf.sub(lowF);
        Tensor grid = Tensor.of(logSamplingSigmas, T);
        Tensor gLow = grid.indexSelect(0, lowF.to(DType.INT64));
        Tensor gHigh = grid.indexSelect(0, lowF.add(1.0).to(DType.INT64));
        return gLow.add(gHigh.sub(gLow).mul(w)).exp().reshape(shape).to(out);
    }

    private static DType outputType(Tensor x) {
        DType d = x.dtype();
        return d == DType.FLOAT64 || d == DType.FLOAT32 ? d : DType.FLOAT32;
    }

    // ------------------------------------------------------------------ config

    /** The schedule as diffusers-style scheduler config entries. */
    public Map<String, Object> toConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put(KEY_TIMESTEPS, T);
        c.put(KEY_SCHEDULE, schedule.configName());
        c.put(KEY_BETA_START, betaStart);
        c.put(KEY_BETA_END, betaEnd);
        c.put(KEY_RESCALE, rescaleZeroTerminalSnr);
        return c;
    }

    /**
     * Reads a schedule from diffusers-style config entries; other keys are ignored. Missing keys
     * default to T = 1000, {@code linear}, the schedule's default β range and no rescaling.
     */
    public static NoiseSchedule fromConfig(Map<String, ?> config) {
        int T = (int) integer(config, KEY_TIMESTEPS, 1000);
        Object name = config.get(KEY_SCHEDULE);
        if (name != null && !(name instanceof String)) {
            throw new DiffusionException("config key " + KEY_SCHEDULE + " must be a string, got " + name);
        }
        BetaSchedule schedule = name == null ? BetaSchedule.LINEAR : BetaSchedule.parse((String) name);
        double b0 = number(config, KEY_BETA_START, schedule.defaultBetaStart());
        double b1 = number(config, KEY_BETA_END, schedule.defaultBetaEnd());
        Object r = config.get(KEY_RESCALE);
        boolean rescale;
        if (r == null) {
            rescale = false;
        } else if (r instanceof Boolean) {
            rescale = (Boolean) r;
        } else if (r instanceof String && (r.equals("true") || r.equals("false"))) {
            rescale = Boolean.parseBoolean((String) r);
        } else {
            throw new DiffusionException("config key " + KEY_RESCALE + " must be true or false, got " + r);
        }
        return new NoiseSchedule(schedule, T, b0, b1, rescale);
    }

    private static double number(Map<String, ?> config, String key, double dflt) {
        Object v = config.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number) {
            return ((Number) v).doubleValue();
        }
        if (v instanceof String) {
            try {
                return Double.parseDouble(((String) v).trim());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new DiffusionException("config key " + key + " must be a number, got '" + v + "'");
    }

    private static long integer(Map<String, ?> config, String key, long dflt) {
        double d = number(config, key, dflt);
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new DiffusionException("config key " + key + " must be a whole number, got " + config.get(key));
        }
        return (long) d;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof NoiseSchedule)) {
            return false;
        }
        NoiseSchedule s = (NoiseSchedule) o;
        return schedule == s.schedule && T == s.T && Double.compare(betaStart, s.betaStart) == 0
                && Double.compare(betaEnd, s.betaEnd) == 0 && rescaleZeroTerminalSnr == s.rescaleZeroTerminalSnr;
    }

    @Override
    public int hashCode() {
        return Objects.hash(schedule, T, betaStart, betaEnd, rescaleZeroTerminalSnr);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "NoiseSchedule[%s, T=%d, beta %g..%g%s]", schedule.configName(), T, betaStart, betaEnd,
                rescaleZeroTerminalSnr ? ", zero terminal SNR" : "");
    }
}
