package dev.diffusion4j.process;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * The DDPM forward process over a {@link NoiseSchedule} (Ho et al. 2020, "Denoising Diffusion
 * Probabilistic Models"): the marginal q(x_t|x₀) = N(√ᾱ_t·x₀, (1−ᾱ_t)·I) (eq. 4) and the
 * posterior q(x_{t−1}|x_t, x₀) = N(μ̃_t, β̃_t·I) with μ̃_t = β_t√ᾱ_{t−1}/(1−ᾱ_t)·x₀ +
 * (1−ᾱ_{t−1})√α_t/(1−ᾱ_t)·x_t and β̃_t = β_t(1−ᾱ_{t−1})/(1−ᾱ_t) (eqs. 6–7), with ᾱ_{−1} := 1.
 * Coefficient tables are double precision; tensor methods gather them per sample.
 */
public final class GaussianDiffusion {
    private final NoiseSchedule schedule;
    private final double[] sqrtAlphaBar;
    private final double[] sqrtOneMinusAlphaBar;
    private final double[] posteriorMeanCoefX0;
    private final double[] posteriorMeanCoefXt;
    private final double[] posteriorVariance;
    private final double[] posteriorLogVarianceClipped;
    private final double[] logBeta;

    public GaussianDiffusion(NoiseSchedule schedule) {
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        int T = schedule.numTimesteps();
        double[] beta = schedule.betas();
        double[] alpha = schedule.alphas();
        double[] ab = schedule.alphasCumprod();
        this.sqrtAlphaBar = schedule.sqrtAlphasCumprod();
        this.sqrtOneMinusAlphaBar = schedule.sqrtOneMinusAlphasCumprod();
        this.posteriorMeanCoefX0 = new double[T];
        this.posteriorMeanCoefXt = new double[T];
        this.posteriorVariance = new double[T];
        this.posteriorLogVarianceClipped = new double[T];
        this.logBeta = new double[T];
        for (int t = 0; t < T; t++) {
            double abPrev = t == 0 ? 1.0 : ab[t - 1];
            double oneMinusAb = 1.0 - ab[t];
            // Ho et al. 2020, eq. 7
            posteriorMeanCoefX0[t] = beta[t] * Math.sqrt(abPrev) / oneMinusAb;
            posteriorMeanCoefXt[t] = (1.0 - abPrev) * Math.sqrt(alpha[t]) / oneMinusAb;
            posteriorVariance[t] = beta[t] * (1.0 - abPrev) / oneMinusAb;
        }
        // β̃_0 = 0, so its log is replaced by log β̃_1 (the improved-DDPM convention, Nichol & Dhariwal 2021)
        for (int t = 0; t < T; t++) {
            posteriorLogVarianceClipped[t] = Math.log(posteriorVariance[t == 0 ? 1 : t]);
            logBeta[t] = Math.log(beta[t]);
        }
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    /** x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, a draw from q(x_t|x₀) given the noise ε (Ho et al. 2020, eq. 4). */
    public Tensor qSample(Tensor x0, Tensor tIndex, Tensor noise) {
        requireSameShape(x0, noise, "noise");
        Tensor a = perSample(sqrtAlphaBar, tIndex, x0);
        Tensor s = perSample(sqrtOneMinusAlphaBar, tIndex, x0);
        return x0.mul(a).add(noise.mul(s));
    }

    /** μ̃_t(x_t, x₀) = β_t√ᾱ_{t−1}/(1−ᾱ_t)·x₀ + (1−ᾱ_{t−1})√α_t/(1−ᾱ_t)·x_t (Ho et al. 2020, eq. 7). */
    public Tensor posteriorMean(Tensor x0, Tensor xt, Tensor tIndex) {
        requireSameShape(x0, xt, "x_t");
        Tensor c0 = perSample(posteriorMeanCoefX0, tIndex, x0);
        Tensor ct = perSample(posteriorMeanCoefXt, tIndex, x0);
        return x0.mul(c0).add(xt.mul(ct));
    }

    /** β̃_t per sample as float32 [B]. */
    public Tensor posteriorVariance(Tensor tIndex) {
        return NoiseSchedule.gather(posteriorVariance, tIndex, DType.FLOAT32);
    }

    /** log β̃_t per sample as float32 [B], with log β̃_1 at t = 0 (see {@link #posteriorLogVarianceClipped()}). */
    public Tensor posteriorLogVarianceClipped(Tensor tIndex) {
        return NoiseSchedule.gather(posteriorLogVarianceClipped, tIndex, DType.FLOAT32);
    }

    /**
     * The learned log variance of p(x_{t−1}|x_t), log Σ = u·log β_t + (1 − u)·log β̃_t with u the
     * network's fraction (shaped [B, ...]) and log β̃ {@link #posteriorLogVarianceClipped() clipped}
     * at t = 0 (Nichol &amp; Dhariwal 2021, eq. 15); in u's dtype.
     */
    public Tensor learnedLogVariance(Tensor fraction, Tensor tIndex) {
        Tensor logBetaTilde = perSample(posteriorLogVarianceClipped, tIndex, fraction);
        return fraction.mul(perSample(logBeta, tIndex, fraction).sub(logBetaTilde)).add(logBetaTilde);
    }

    /** Coefficient of x₀ in μ̃_t (a copy). */
    public double[] posteriorMeanCoefX0() {
        return posteriorMeanCoefX0.clone();
    }

    /** Coefficient of x_t in μ̃_t (a copy). */
    public double[] posteriorMeanCoefXt() {
        return posteriorMeanCoefXt.clone();
    }

    /** β̃_t = β_t(1−ᾱ_{t−1})/(1−ᾱ_t) (a copy); β̃_0 = 0. */
    public double[] posteriorVariance() {
        return posteriorVariance.clone();
    }

    /**
     * log β̃_t with the t = 0 entry replaced by log β̃_1, since β̃_0 = 0 (a copy); the convention of
     * the improved-DDPM code (Nichol &amp; Dhariwal 2021).
     */
    public double[] posteriorLogVarianceClipped() {
        return posteriorLogVarianceClipped.clone();
    }

    /** table[t] per sample, in {@code like}'s dtype, shaped [B, 1, ..., 1] to broadcast against it. */
    private static Tensor perSample(double[] table, Tensor tIndex, Tensor like) {
        long n = tIndex.numel();
        if (like.dim() == 0 || (n != 1 && n != like.size(0))) {
            throw new DiffusionException(n + " timestep indices do not match a batch of shape " + Arrays.toString(like.shape())
                    + ": give one timestep per sample");
        }
        return NoiseSchedule.gather(table, tIndex, like.dtype()).broadcastTo(like);
    }

    private static void requireSameShape(Tensor a, Tensor b, String what) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new DiffusionException(what + " of shape " + Arrays.toString(b.shape()) + " does not match x0 of shape "
                    + Arrays.toString(a.shape()));
        }
    }
}
