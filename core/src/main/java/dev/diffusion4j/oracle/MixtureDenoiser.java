package dev.diffusion4j.oracle;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.GaussianMixture;
import dev.diffusion4j.model.ConditionalDenoiser;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.NoisyClassifier;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;

/**
 * The exact denoiser of data drawn from a Gaussian mixture p(x₀) = Σₖ wₖ·N(x₀; μₖ, diag(sₖ²)), with
 * sₖ = 0 allowed, so that a finite point set is the special case of point masses. Under the
 * variance-exploding view x = x₀ + σ·n of {@link Denoiser} the noisy marginal is again a mixture,
 * p_σ(x) = Σₖ wₖ·N(x; μₖ, diag(sₖ² + σ²)), and Bayes' rule per component gives the posterior mean
 *
 * <pre>
 *   D(x; σ) = E[x₀ | x] = Σₖ rₖ(x)·(μₖ + sₖ²/(sₖ² + σ²)·(x − μₖ)),
 *   rₖ(x)   = softmaxₖ[log wₖ + log N(x; μₖ, sₖ² + σ²)]                      (posterior responsibilities)
 * </pre>
 *
 * so every sampler can be tested against the true distribution with no training noise (DESIGN,
 * "the analytic oracle"). Tweedie's formula (Efron 2011; Karras et al. 2022, eq. 3) gives the score
 * ∇ log p_σ(x) = (D − x)/σ², and the noise a network would predict is ε = (x − D)/σ.
 *
 * <p>All arithmetic runs in float64 and the result comes back in the dtype of {@code x}; the
 * responsibilities are a log-space softmax, so they stay exact when σ is far below the component
 * spacing. Components whose variance is the same in every coordinate use matrix products
 * (O(B·K + K·d) memory); diagonal variances broadcast to [B, K, d].
 *
 * <p>Each component is a class: {@link #denoise(Tensor, Tensor, Tensor)} is the exact conditional
 * D(x; σ, k) = μₖ + sₖ²/(sₖ² + σ²)·(x − μₖ), and {@link #logProbabilities} the exact noisy
 * classifier log rₖ(x), so guidance has an oracle too: with both exact, D(x; σ) + σ²·∇ log rₖ(x) is
 * D(x; σ, k) (Tweedie's formula for p_σ(x | k)).
 *
 * <p>Instances are immutable: {@link #withSigmaRange} and {@link #withSchedule} return copies that
 * share the mixture. The default noise range is continuous, σ ∈ [0.002, 80] as in EDM.
 */
public final class MixtureDenoiser implements ConditionalDenoiser, NoisyClassifier {
    /** Lower end of the default continuous noise range (Karras et al. 2022, table 1). */
    public static final double DEFAULT_SIGMA_MIN = 0.002;
    /** Upper end of the default continuous noise range (Karras et al. 2022, table 1). */
    public static final double DEFAULT_SIGMA_MAX = 80;
    /** How far user-given weights may sum from 1 before they are rejected; within it they are renormalised. */
    public static final double WEIGHT_TOLERANCE = 1e-6;

    /**
     * Smallest variance sₖ² + σ² used in the densities. Reached only at σ = 0 with point masses,
     * where it makes D(x; 0) the σ → 0 limit (the nearest point) instead of 0/0; tiny enough that a
     * squared distance of 10¹⁰⁰ divided by it is still a finite double.
     */
    private static final double VARIANCE_FLOOR = 1e-200;
    private static final double LOG_2PI = Math.log(2 * Math.PI);

    private final Mixture mix;
    private final String name;
    private final NoiseSchedule schedule;   // null for a continuous noise range
    private final double[] trainingSigmas;
    private final double sigmaMin;
    private final double sigmaMax;

    private MixtureDenoiser(Mixture mix, String name, NoiseSchedule schedule, double sigmaMin, double sigmaMax) {
        this.mix = mix;
        this.name = name;
        this.schedule = schedule;
        this.trainingSigmas = schedule == null ? new double[0] : schedule.sigmasForSampling();
        this.sigmaMin = sigmaMin;
        this.sigmaMax = sigmaMax;
    }

    private static MixtureDenoiser continuous(Mixture mix, String name) {
        return new MixtureDenoiser(mix, name, null, DEFAULT_SIGMA_MIN, DEFAULT_SIGMA_MAX);
    }

    // ------------------------------------------------------------------ factories

    /** The oracle of an isotropic {@link GaussianMixture} (a toy set's {@code mixture()}), continuous σ ∈ [0.002, 80]. */
    public static MixtureDenoiser of(GaussianMixture gm) {
        double[][] means = gm.means();
        double[] s = gm.stds();
        double[][] stds = new double[means.length][];
        for (int k = 0; k < means.length; k++) {
            stds[k] = new double[means[k].length];
            Arrays.fill(stds[k], s[k]);
        }
        return continuous(Mixture.build(means, "means", stds, null, gm.weights()), "gaussian mixture");
    }

    /**
     * A mixture with diagonal covariances diag(sₖ²): {@code means} [K][d], {@code variances} [K][d]
     * (each ≥ 0; 0 is a point mass in that coordinate), {@code weights} [K] summing to 1, or null
     * for equal weights. Continuous σ ∈ [0.002, 80].
     */
    public static MixtureDenoiser diagonal(double[][] means, double[][] variances, double[] weights) {
        return continuous(Mixture.build(means, "means", null, variances, weights), "gaussian mixture");
    }

    /**
     * Like {@link #diagonal} but given standard deviations sₖ [K][d] (each ≥ 0) instead of variances;
     * exact samples then use these values unrounded.
     */
    public static MixtureDenoiser diagonalStds(double[][] means, double[][] stds, double[] weights) {
        return continuous(Mixture.build(means, "means", stds, null, weights), "gaussian mixture");
    }

    /** The uniform distribution over a finite point set {@code points} [N][d]: the denoiser that memorises it. */
    public static MixtureDenoiser points(double[][] points) {
        return points(points, null);
    }

    /** A weighted finite point set: {@code weights} [N] summing to 1, or null for equal weights. */
    public static MixtureDenoiser points(double[][] points, double[] weights) {
        if (points == null || points.length == 0) {
            throw new DiffusionException("a point set needs at least one point");
        }
        double[][] zeros = new double[points.length][];
        for (int k = 0; k < points.length; k++) {
            zeros[k] = new double[points[k] == null ? 0 : points[k].length];
        }
        return continuous(Mixture.build(points, "points", zeros, null, weights), "point set");
    }

    /**
     * A copy with the continuous noise range [σ_min, σ_max] (no training grid), 0 &lt; σ_min &lt; σ_max &lt; ∞.
     * Samplers then choose their own grid in it (e.g. Karras et al.'s ρ-schedule).
     */
    public MixtureDenoiser withSigmaRange(double sigmaMin, double sigmaMax) {
        if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !Double.isFinite(sigmaMax)) {
            throw new DiffusionException("oracle noise range must satisfy 0 < sigma_min < sigma_max < infinity, got "
                    + sigmaMin + " .. " + sigmaMax);
        }
        return new MixtureDenoiser(mix, name, null, sigmaMin, sigmaMax);
    }

    /**
     * A copy bound to the discrete grid of {@code schedule}: {@link #trainingSigmas()} becomes
     * {@link NoiseSchedule#sigmasForSampling()}, so DDPM/DDIM samplers step exactly as they would
     * with a network trained on that schedule, and σ_min, σ_max are its first and last entries.
     */
    public MixtureDenoiser withSchedule(NoiseSchedule schedule) {
        if (schedule == null) {
            throw new DiffusionException("withSchedule needs a noise schedule; use withSigmaRange for continuous time");
        }
        double[] s = schedule.sigmasForSampling();
        return new MixtureDenoiser(mix, name, schedule, s[0], s[s.length - 1]);
    }

    /** A copy labelled {@code name} (shown by {@link #toString()}); the mixture and noise range are unchanged. */
    public MixtureDenoiser named(String name) {
        return new MixtureDenoiser(mix, name == null ? "gaussian mixture" : name, schedule, sigmaMin, sigmaMax);
    }

    // ------------------------------------------------------------------ Denoiser

    /**
     * D(x; σ) = Σₖ rₖ(x)·(μₖ + sₖ²/(sₖ²+σ²)·(x − μₖ)). {@code x}: [B, ...] with d values per row;
     * {@code sigma}: [B] or [1], σ ≥ 0. At σ = 0 it returns the σ → 0 limit: x itself under
     * components with sₖ &gt; 0, the nearest point for a point set.
     */
    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        try (Scope s = Scope.open()) {
            Tensor rows = rows(x);
            Posterior post = posterior(rows, sigmaSquared(sigma, rows.size(0)));
            Tensor r = post.logits.softmax(1);
            Tensor d;
            if (mix.isotropic) {
                // Σₖ rₖ(1 − aₖ)μₖ + (Σₖ rₖaₖ)·x with aₖ = sₖ²/vₖ: the posterior mean as two matrix products.
                Tensor a = mix.var.div(post.v);
                d = r.mul(a.rsub(1)).matmul(mix.mu).add(rows.mul(r.mul(a).sum(1, true)));
            } else {
                Tensor a = mix.var.div(post.v);                                       // [B, K, d]
                d = r.unsqueeze(2).mul(mix.mu.unsqueeze(0).add(a.mul(post.diff))).sum(1, false);
            }
            return s.keep(d.reshape(x.shape()).to(outputType(x)));
        }
    }

    /** One class per component; label K (the null label) is the whole mixture. */
    @Override
    public int numClasses() {
        return mix.k;
    }

    /** D(x; σ, k) = μₖ + sₖ²/(sₖ² + σ²)·(x − μₖ), the posterior mean under component k alone; label K gives D(x; σ). */
    @Override
    public Tensor denoise(Tensor x, Tensor sigma, Tensor labels) {
        try (Scope s = Scope.open()) {
            Tensor rows = rows(x);
            if (labels.numel() != rows.size(0)) {
                throw new DiffusionException("expected one label per sample (" + rows.size(0) + "), got " + labels.numel());
            }
            Tensor real = labels.clampMax(mix.k - 1).to(DType.INT64);   // a float bound promotes; null labels are replaced below
            Tensor mu = mix.mu.indexSelect(0, real);                                            // [B, d]
            Tensor var = mix.isotropic ? mix.var.reshape(mix.k).indexSelect(0, real).unsqueeze(1)
                    : mix.var.squeeze(0).indexSelect(0, real);                                    // [B, 1] or [B, d]
            Tensor a = var.div(var.add(sigmaSquared(sigma, rows.size(0))).clampMin(VARIANCE_FLOOR));
            Tensor d = mu.add(a.mul(rows.sub(mu)));
            Tensor whole = labels.ge(mix.k);
            if (whole.sum().item() > 0) {
                d = Tensor.where(whole.reshape(rows.size(0), 1), rows(denoise(x, sigma)), d);
            }
            return s.keep(d.reshape(x.shape()).to(outputType(x)));
        }
    }

    /** log p(k | x; σ) = log rₖ(x), the exact noisy classifier, as float64 [B, K]; differentiable in x. */
    @Override
    public Tensor logProbabilities(Tensor x, Tensor sigma) {
        Tensor rows = rows(x);
        return posterior(rows, sigmaSquared(sigma, rows.size(0))).logits.logSoftmax(1);
    }

    @Override
    public double[] trainingSigmas() {
        return trainingSigmas.clone();
    }

    @Override
    public double sigmaMin() {
        return sigmaMin;
    }

    @Override
    public double sigmaMax() {
        return sigmaMax;
    }

    /**
     * Bound to a schedule: the VP prior √(1 + σ²) of {@link Denoiser}, as for a network trained on
     * it. Continuous range: √(σ² + m₂) with m₂ = E‖x₀‖²/d the data's mean second moment per
     * coordinate. Samplers start at x = s(σ)·n, n ~ N(0, I), while the true marginal at σ
     * has per-coordinate second moment σ² + m₂; matching it is the best zero-mean isotropic
     * Gaussian start in KL(p_σmax ‖ start). At EDM's σ_max = 80 with unit-scale data it differs from
     * Karras et al.'s N(0, σ_max²I) by about m₂/(2σ_max²) ≈ 10⁻⁴ relative, and it stays right when a
     * test picks a small σ_max.
     */
    @Override
    public double initNoiseScale(double sigma) {
        if (schedule != null) {
            return ConditionalDenoiser.super.initNoiseScale(sigma);
        }
        return Math.sqrt(sigma * sigma + secondMoment());
    }

    // ------------------------------------------------------------------ density and score

    /** log p_σ(x) = logsumexpₖ[log wₖ + log N(x; μₖ, diag(sₖ² + σ²))] per row, as float64 [B]. */
    public Tensor logDensity(Tensor x, double sigma) {
        checkSigma(sigma);
        try (Scope s = Scope.open()) {
            return s.keep(logDensity(x, Tensor.of(new double[] {sigma}, 1)));
        }
    }

    /** {@link #logDensity(Tensor, double)} with per-row noise levels {@code sigma} [B] or [1]. */
    public Tensor logDensity(Tensor x, Tensor sigma) {
        requirePositiveForPointMasses(sigma, "log density");
        try (Scope s = Scope.open()) {
            Tensor rows = rows(x);
            return s.keep(posterior(rows, sigmaSquared(sigma, rows.size(0))).logits.logSumExp(1, false));
        }
    }

    /**
     * The score ∇ₓ log p_σ(x) = Σₖ rₖ(x)·(μₖ − x)/(sₖ² + σ²), which equals (D(x; σ) − x)/σ² (Tweedie)
     * but is computed without dividing a small difference by σ². The ε-prediction is ε = (x − D)/σ
     * = −σ·score. Same shape and dtype as {@code x}; σ must be positive if the mixture has point masses.
     */
    public Tensor score(Tensor x, Tensor sigma) {
        requirePositiveForPointMasses(sigma, "score");
        try (Scope s = Scope.open()) {
            Tensor rows = rows(x);
            Posterior post = posterior(rows, sigmaSquared(sigma, rows.size(0)));
            Tensor r = post.logits.softmax(1);
            Tensor out;
            if (mix.isotropic) {
                Tensor w = r.div(post.v);                                             // rₖ/vₖ, [B, K]
                out = w.matmul(mix.mu).sub(rows.mul(w.sum(1, true)));
            } else {
                out = r.unsqueeze(2).mul(post.diff).div(post.v).sum(1, false).neg();
            }
            return s.keep(out.reshape(x.shape()).to(outputType(x)));
        }
    }

    /** {@link #score(Tensor, Tensor)} at one noise level for every row. */
    public Tensor score(Tensor x, double sigma) {
        checkSigma(sigma);
        try (Scope s = Scope.open()) {
            return s.keep(score(x, Tensor.of(new double[] {sigma}, 1)));
        }
    }

    // ------------------------------------------------------------------ exact samples

    /**
     * {@code n} exact draws from p(x₀) as float32 [n, d]: a component k ~ Categorical(w), then
     * μₖ + sₖ ⊙ ε with ε ~ N(0, I). For a toy set's mixture this is the same sequence of draws as
     * {@link GaussianMixture#sample}, so the same seed gives the same points.
     */
    public Tensor sample(Generator g, int n) {
        if (n < 1) {
            throw new DiffusionException("sample size must be at least 1, got " + n);
        }
        try (Scope s = Scope.open()) {
            Tensor idx = mix.weights32.multinomial(n, true, g);
            Tensor mu = mix.mu32.indexSelect(0, idx);
            if (mix.allPointMasses) {
                return s.keep(mu.contiguous());
            }
            return s.keep(mu.add(Tensor.randn(g, n, mix.d).mul(mix.std32.indexSelect(0, idx))));
        }
    }

    // ------------------------------------------------------------------ the mixture

    /** Number of components K (components of weight 0 are dropped). */
    public int components() {
        return mix.k;
    }

    /** Dimension d of the data. */
    public int dim() {
        return mix.d;
    }

    /** Component means μₖ, [K][d] (a copy). */
    public double[][] means() {
        return deepCopy(mix.means);
    }

    /** Component variances sₖ², [K][d] (a copy). */
    public double[][] variances() {
        return deepCopy(mix.variances);
    }

    /** Mixture weights wₖ, summing to 1 (a copy). */
    public double[] weights() {
        return mix.weights.clone();
    }

    /** True when every component's variance is the same in all coordinates (the matrix-product path). */
    public boolean isotropic() {
        return mix.isotropic;
    }

    /** The data mean E[x₀] = Σₖ wₖμₖ. */
    public double[] mean() {
        double[] m = new double[mix.d];
        for (int k = 0; k < mix.k; k++) {
            for (int j = 0; j < mix.d; j++) {
                m[j] += mix.weights[k] * mix.means[k][j];
            }
        }
        return m;
    }

    /** The data covariance Cov[x₀] = Σₖ wₖ(diag(sₖ²) + μₖμₖᵀ) − E[x₀]E[x₀]ᵀ, [d][d]. */
    public double[][] covariance() {
        double[] m = mean();
        double[][] c = new double[mix.d][mix.d];
        for (int k = 0; k < mix.k; k++) {
            double w = mix.weights[k];
            double[] mu = mix.means[k];
            for (int i = 0; i < mix.d; i++) {
                c[i][i] += w * mix.variances[k][i];
                for (int j = 0; j < mix.d; j++) {
                    c[i][j] += w * (mu[i] - m[i]) * (mu[j] - m[j]);
                }
            }
        }
        return c;
    }

    /** m₂ = E‖x₀‖²/d = (1/d)·Σₖ wₖ(‖μₖ‖² + Σⱼ sₖⱼ²), the mean second moment per coordinate. */
    public double secondMoment() {
        double sum = 0;
        for (int k = 0; k < mix.k; k++) {
            double e = 0;
            for (int j = 0; j < mix.d; j++) {
                e += mix.means[k][j] * mix.means[k][j] + mix.variances[k][j];
            }
            sum += mix.weights[k] * e;
        }
        return sum / mix.d;
    }

    /** The label given by {@link #named} (a toy set's name or a file name for {@link Oracles}). */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        String range = schedule != null ? schedule.toString() : "sigma " + sigmaMin + ".." + sigmaMax;
        return "MixtureDenoiser[" + name + ": K=" + mix.k + ", d=" + mix.d + ", "
                + (mix.allPointMasses ? "point masses" : mix.isotropic ? "isotropic" : "diagonal") + ", " + range + "]";
    }

    // ------------------------------------------------------------------ internals

    /** Log-joint logits log wₖ + log N(x; μₖ, vₖ) [B, K], the variances vₖ = sₖ² + σ², and x − μₖ [B, K, d] when diagonal. */
    private record Posterior(Tensor logits, Tensor v, Tensor diff) {
    }

    private Posterior posterior(Tensor x, Tensor sigma2) {
        if (mix.isotropic) {
            Tensor v = mix.var.add(sigma2).clampMin(VARIANCE_FLOOR);                 // [B|1, K]
            // ‖x − μₖ‖² = ‖x‖² − 2x·μₖ + ‖μₖ‖², clamped at 0 against rounding.
            Tensor d2 = x.square().sum(1, true).add(x.matmul(mix.muT), -2.0).add(mix.muSq).clampMin(0);
            // log N(x; μ, vI) = −(d/2)·log(2πv) − ‖x − μ‖²/(2v)
            Tensor logits = mix.logW.sub(v.log().add(LOG_2PI).mul(mix.d / 2.0)).sub(d2.div(v.mul(2)));
            return new Posterior(logits, v, null);
        }
        Tensor diff = x.unsqueeze(1).sub(mix.mu.unsqueeze(0));                      // [B, K, d]
        Tensor v = mix.var.add(sigma2.unsqueeze(2)).clampMin(VARIANCE_FLOOR);       // [B|1, K, d]
        // log N(x; μ, diag v) = −½·Σⱼ[log(2πvⱼ) + (xⱼ − μⱼ)²/vⱼ]
        Tensor logits = mix.logW.sub(v.log().add(LOG_2PI).add(diff.square().div(v)).sum(2, false).mul(0.5));
        return new Posterior(logits, v, diff);
    }

    /** x [B, ...] as float64 [B, d]. */
    private Tensor rows(Tensor x) {
        long[] shape = x.shape();
        long per = 1;
        for (int i = 1; i < shape.length; i++) {
            per *= shape[i];
        }
        if (shape.length < 2 || per != mix.d) {
            throw new DiffusionException("the oracle's data has " + mix.d + " values per sample but x has shape "
                    + Arrays.toString(shape) + "; pass a batch [B, " + mix.d + "]");
        }
        return x.to(DType.FLOAT64).reshape(shape[0], mix.d);
    }

    /** σ [B] or [1] as float64 σ² [B, 1] or [1, 1]. */
    private static Tensor sigmaSquared(Tensor sigma, long batch) {
        long m = sigma.numel();
        if (m != 1 && m != batch) {
            throw new DiffusionException("sigma has " + m + " values for a batch of " + batch
                    + " samples; pass one noise level per sample ([B]) or one for all ([1])");
        }
        return sigma.to(DType.FLOAT64).reshape(m, 1).square();
    }

    private static void checkSigma(double sigma) {
        if (!(sigma >= 0) || !Double.isFinite(sigma)) {
            throw new DiffusionException("noise level sigma must be finite and non-negative, got " + sigma);
        }
    }

    private void requirePositiveForPointMasses(Tensor sigma, String what) {
        if (mix.anyPointMass) {
            try (Scope s = Scope.open()) {
                if (!(sigma.abs().amin().item() > 0)) {
                    throw new DiffusionException("the " + what + " of a mixture with point masses is infinite at sigma = 0;"
                            + " evaluate it at a positive noise level");
                }
            }
        }
    }

    private static DType outputType(Tensor x) {
        return x.dtype().isFloatingPoint() ? x.dtype() : DType.FLOAT32;
    }

    private static double[][] deepCopy(double[][] a) {
        double[][] out = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
        }
        return out;
    }

    /**
     * The validated mixture and its constant tensors, shared by all copies of an oracle. The tensors
     * are created once and escape every {@link Scope}: they live as long as the mixture.
     */
    private static final class Mixture {
        final int k;
        final int d;
        final double[][] means;
        final double[][] variances;
        final double[] weights;
        final boolean isotropic;
        final boolean anyPointMass;
        final boolean allPointMasses;

        final Tensor mu;        // float64 [K, d]
        final Tensor muT;       // float64 [d, K]
        final Tensor muSq;      // float64 [1, K]: ‖μₖ‖²
        final Tensor logW;      // float64 [1, K]
        final Tensor var;       // float64 [1, K] (isotropic) or [1, K, d]
        final Tensor mu32;      // float32 [K, d], for sampling
        final Tensor std32;     // float32 [K, d]
        final Tensor weights32; // float32 [K]

        private Mixture(double[][] means, double[][] stds, double[][] variances, double[] weights) {
            this.k = means.length;
            this.d = means[0].length;
            this.means = means;
            this.variances = variances;
            this.weights = weights;
            boolean iso = true;
            boolean anyZero = false;
            boolean allZero = true;
            for (double[] v : variances) {
                for (double x : v) {
                    iso &= x == v[0];
                    anyZero |= x == 0;
                    allZero &= x == 0;
                }
            }
            this.isotropic = iso;
            this.anyPointMass = anyZero;
            this.allPointMasses = allZero;

            double[] flatMu = new double[k * d];
            double[] flatVar = new double[iso ? k : k * d];
            float[] mu32f = new float[k * d];
            float[] std32f = new float[k * d];
            float[] w32 = new float[k];
            double[] muSqA = new double[k];
            double[] logWA = new double[k];
            for (int i = 0; i < k; i++) {
                w32[i] = (float) weights[i];
                logWA[i] = Math.log(weights[i]);
                for (int j = 0; j < d; j++) {
                    flatMu[i * d + j] = means[i][j];
                    mu32f[i * d + j] = (float) means[i][j];
                    std32f[i * d + j] = (float) stds[i][j];
                    muSqA[i] += means[i][j] * means[i][j];
                    if (!iso) {
                        flatVar[i * d + j] = variances[i][j];
                    }
                }
                if (iso) {
                    flatVar[i] = variances[i][0];
                }
            }
            try (Scope s = Scope.open()) {
                this.mu = Scope.escape(Tensor.of(flatMu, k, d));
                this.muT = Scope.escape(mu.t().contiguous());
                this.muSq = Scope.escape(Tensor.of(muSqA, 1, k));
                this.logW = Scope.escape(Tensor.of(logWA, 1, k));
                this.var = Scope.escape(iso ? Tensor.of(flatVar, 1, k) : Tensor.of(flatVar, 1, k, d));
                this.mu32 = Scope.escape(Tensor.of(mu32f, k, d));
                this.std32 = Scope.escape(Tensor.of(std32f, k, d));
                this.weights32 = Scope.escape(Tensor.of(w32, k));
            }
        }

        /**
         * Validates and normalises user input: exactly one of {@code stds}/{@code variances} given,
         * [K][d] like {@code means}; weights null (uniform) or summing to 1 within
         * {@link #WEIGHT_TOLERANCE}. Components of weight 0 are dropped. {@code meansName} names the
         * means array in messages ("means" or "points").
         */
        static Mixture build(double[][] means, String meansName, double[][] stds, double[][] variances, double[] weights) {
            if (means == null || means.length == 0) {
                throw new DiffusionException("a mixture needs at least one entry in '" + meansName + "'");
            }
            int k = means.length;
            int d = checkMatrix(means, meansName, k, -1, false);
            if (stds != null) {
                checkMatrix(stds, "stds", k, d, true);
                variances = new double[k][d];
                for (int i = 0; i < k; i++) {
                    for (int j = 0; j < d; j++) {
                        variances[i][j] = stds[i][j] * stds[i][j];
                    }
                }
            } else {
                checkMatrix(variances, "variances", k, d, true);
                stds = new double[k][d];
                for (int i = 0; i < k; i++) {
                    for (int j = 0; j < d; j++) {
                        stds[i][j] = Math.sqrt(variances[i][j]);
                    }
                }
            }
            double[] w = new double[k];
            if (weights == null) {
                Arrays.fill(w, 1.0 / k);
            } else {
                if (weights.length != k) {
                    throw new DiffusionException("'weights' has " + weights.length + " entries but '" + meansName + "' has " + k
                            + "; give one weight per component");
                }
                double total = 0;
                for (int i = 0; i < k; i++) {
                    if (!(weights[i] >= 0) || !Double.isFinite(weights[i])) {
                        throw new DiffusionException("weights[" + i + "] is " + weights[i] + "; weights must be finite and non-negative");
                    }
                    total += weights[i];
                }
                if (!(Math.abs(total - 1) <= WEIGHT_TOLERANCE)) {
                    throw new DiffusionException("weights sum to " + total + "; they must sum to 1 (within " + WEIGHT_TOLERANCE
                            + "): write them to more digits, or leave out 'weights' for equal weights");
                }
                for (int i = 0; i < k; i++) {
                    w[i] = weights[i] / total;
                }
            }
            // Drop components of weight 0: log 0 = −∞ would only add NaN risks to the softmax.
            int kept = 0;
            for (double x : w) {
                kept += x > 0 ? 1 : 0;
            }
            double[][] m = new double[kept][];
            double[][] sd = new double[kept][];
            double[][] v = new double[kept][];
            double[] wk = new double[kept];
            for (int i = 0, j = 0; i < k; i++) {
                if (w[i] > 0) {
                    m[j] = means[i].clone();
                    sd[j] = stds[i].clone();
                    v[j] = variances[i].clone();
                    wk[j++] = w[i];
                }
            }
            return new Mixture(m, sd, v, wk);
        }

        /** Checks a [rows][cols] array of finite numbers (non-negative if asked); cols −1 takes the first row's length. Returns cols. */
        private static int checkMatrix(double[][] a, String name, int rows, int cols, boolean nonNegative) {
            if (a == null) {
                throw new DiffusionException("'" + name + "' is missing");
            }
            if (a.length != rows) {
                throw new DiffusionException("'" + name + "' has " + a.length + " rows but the mixture has " + rows
                        + " components; give one row per component");
            }
            for (int i = 0; i < rows; i++) {
                if (a[i] == null || a[i].length == 0) {
                    throw new DiffusionException(name + "[" + i + "] is empty; every row needs at least one coordinate");
                }
                if (cols < 0) {
                    cols = a[i].length;
                }
                if (a[i].length != cols) {
                    throw new DiffusionException(name + "[" + i + "] has " + a[i].length + " coordinates but " + (i == 0 ? "the means have " : name + "[0] has ")
                            + cols + "; every row must have the same dimension");
                }
                for (int j = 0; j < cols; j++) {
                    double x = a[i][j];
                    if (!Double.isFinite(x)) {
                        throw new DiffusionException(name + "[" + i + "][" + j + "] is " + x + "; every value must be a finite number");
                    }
                    if (nonNegative && x < 0) {
                        throw new DiffusionException(name + "[" + i + "][" + j + "] is " + x + "; " + name + " must be non-negative");
                    }
                }
            }
            return cols;
        }
    }
}
