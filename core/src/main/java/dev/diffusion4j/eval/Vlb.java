package dev.diffusion4j.eval;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.LearnedVariance;
import dev.diffusion4j.process.ReverseVariance;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.IntConsumer;

/**
 * The variational bound of a discrete-time DDPM (Sohl-Dickstein et al. 2015; Ho et al. 2020, eq. 5):
 * <pre>
 *   −log p(x₀) ≤ L_T + Σ_{t=2}^{T} L_{t−1} + L₀
 *   L_T     = KL(q(x_T | x₀) ‖ N(0, I))
 *   L_{t−1} = KL(q(x_{t−1} | x_t, x₀) ‖ p(x_{t−1} | x_t))
 *   L₀      = −log p(x₀ | x₁)
 * </pre>
 * With ᾱ_t = 1/(1 + σ_t²) from the denoiser's training levels, β_t = 1 − ᾱ_t/ᾱ_{t−1}, the posterior
 * q(x_{t−1} | x_t, x₀) = N(μ̃, β̃_t) of eq. 7 and the model's step p(x_{t−1} | x_t) = N(μ̃(x_t, x̂₀), v_t)
 * with x̂₀ = D(x_t/√ᾱ_t; σ_t) and the fixed variance v_t = β̃_t or β_t, each term is a KL between
 * Gaussians with one shared mean coefficient c_t = √ᾱ_{t−1}·β_t/(1 − ᾱ_t):
 * <pre>  L_{t−1} = ½ Σ_dims [ log(v_t/β̃_t) + β̃_t/v_t − 1 + c_t²(x₀ − x̂₀)²/v_t ]</pre>
 * Each term is estimated with one draw x_t ~ q(x_t | x₀) per point and timestep; the sum over t is
 * exact (all T terms, T denoiser evaluations per batch). The decoder p(x₀ | x₁) has mean x̂₀ (c_1 = 1)
 * and variance β₁ or, for β̃ (which is 0 at t = 1), β̃₂ as in improved DDPM's clipped log-variance.
 * It is either a Gaussian density, for continuous data, or Ho et al.'s discretised Gaussian (eq. 13)
 * over 256 levels of data in [−1, 1], for 8-bit images.
 *
 * <p>With {@link ReverseVariance#LEARNED_RANGE} the variance is the model's own, per coordinate:
 * log v_t = u·log β_t + (1 − u)·log β̃_t (Nichol &amp; Dhariwal 2021, eq. 15), with β̃₂ in place of β̃₁ for
 * the decoder, and u from the same evaluation as x̂₀; the terms above then hold coordinate-wise.
 */
public final class Vlb {
    /** How p(x₀ | x₁) scores the data. */
    public enum Decoder {
        /** A Gaussian density: continuous data, NLL in nats of a density. */
        GAUSSIAN,
        /** Ho et al. 2020, eq. 13: probability mass of the 8-bit bin of x₀ ∈ [−1, 1]. */
        DISCRETIZED;

        public static Decoder parse(String name) {
            switch (name.toLowerCase(Locale.ROOT)) {
                case "gaussian": return GAUSSIAN;
                case "discretized": case "discretised": return DISCRETIZED;
                default: throw new DiffusionException("unknown decoder '" + name + "': use gaussian (continuous data) or discretized (8-bit data in [-1, 1])");
            }
        }
    }

    /**
     * @param nll           per-point bound on −log p(x₀) in nats, [B]
     * @param prior         mean L_T over the points
     * @param terms         mean L_{t−1} for t = 1..T (index t − 1; index 0 is the decoder term L₀)
     */
    public record Result(Tensor nll, double meanNll, double standardError, double bitsPerDim, double prior, double[] terms) {
        /** The mean decoder term L₀. */
        public double decoder() {
            return terms[0];
        }

        /** The mean Σ_{t≥2} L_{t−1}. */
        public double diffusion() {
            return Arrays.stream(terms).skip(1).sum();
        }
    }

    /** Half the width of one of 256 levels spanning [−1, 1]. */
    private static final double HALF_BIN = 1.0 / 255;
    /** Ho et al.'s floor on a bin's probability, so an impossible bin costs a finite 27.6 nats. */
    private static final double MIN_PROBABILITY = 1e-12;

    private final ReverseVariance variance;
    private final Decoder decoder;

    public Vlb(ReverseVariance variance, Decoder decoder) {
        this.variance = variance;
        this.decoder = decoder;
    }

    /** The bound for data {@code x0} [B, d] in the model's units; {@code g} draws the x_t. */
    public Result evaluate(Denoiser model, Tensor x0, Generator g) {
        return evaluate(model, x0, g, t -> { });
    }

    /** As {@link #evaluate(Denoiser, Tensor, Generator)}, reporting each finished timestep t = 1..T. */
    public Result evaluate(Denoiser model, Tensor x0, Generator g, IntConsumer progress) {
        if (x0.dim() != 2) {
            throw new DiffusionException("the variational bound needs data shaped [batch, dim], got " + Arrays.toString(x0.shape()));
        }
        double[] sigmas = model.trainingSigmas();
        int T = sigmas.length;
        if (T < 2) {
            throw new DiffusionException("the discrete variational bound needs a model trained on discrete timesteps; "
                    + "this one is continuous-time: use the probability-flow likelihood instead");
        }
        long n = x0.size(0);
        long d = x0.size(1);
        double[] alphaBar = new double[T + 1];                        // alphaBar[t], t = 0..T, ᾱ_0 = 1
        alphaBar[0] = 1;
        for (int t = 1; t <= T; t++) {
            alphaBar[t] = 1 / (1 + sigmas[t - 1] * sigmas[t - 1]);
        }
        double[] terms = new double[T];
        LearnedVariance learned = variance == ReverseVariance.LEARNED_RANGE ? LearnedVariance.require(model) : null;
        try (Scope scope = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor x = x0.to(DType.FLOAT64);
            // L_T: KL(N(√ᾱ_T x₀, 1 − ᾱ_T) ‖ N(0, 1)) per coordinate
            double abT = alphaBar[T];
            Tensor priorTerm = x.square().mul(abT).add((1 - abT) - 1 - Math.log(1 - abT)).mul(0.5).sum(1, false);
            Tensor total = priorTerm;
            for (int t = 1; t <= T; t++) {
                try (Scope step = Scope.open()) {
                    double ab = alphaBar[t];
                    double abPrev = alphaBar[t - 1];
                    double beta = 1 - ab / abPrev;
                    double sigma = sigmas[t - 1];
                    // x_t/√ᾱ_t = x₀ + σ_t·ε: the denoiser's own coordinates
                    Tensor xt = x.add(Tensor.randn(g, n, d).to(DType.FLOAT64).mul(sigma));
                    Tensor level = Tensor.full(sigma, 1);
                    Tensor term;
                    if (learned != null) {
                        LearnedVariance.Estimate e = learned.estimate(xt.to(x0.dtype()), level);
                        Tensor denoised = e.denoised().to(DType.FLOAT64);
                        Tensor u = e.fraction().to(DType.FLOAT64);
                        term = t == 1 ? decoderNll(x, denoised, LearnedVariance.logVariance(u, Math.log(beta), Math.log(clippedBetaTilde(alphaBar))))
                                : learnedKlTerm(x, denoised, u, ab, abPrev, beta);
                    } else {
                        Tensor denoised = model.denoise(xt.to(x0.dtype()), level).to(DType.FLOAT64);
                        term = t == 1 ? decoderNll(x, denoised, Tensor.full(DType.FLOAT64, Math.log(decoderVariance(alphaBar)), 1))
                                : klTerm(x, denoised, ab, abPrev, beta);
                    }
                    terms[t - 1] = term.mean().item();
                    total = step.keep(total.add(term));
                }
                progress.accept(t);
            }
            Tensor nll = total;
            if (!Double.isFinite(nll.sum().item())) {
                throw new DiffusionException("the variational bound is not finite: the model returned NaN or Inf");
            }
            double mean = nll.mean().item();
            double se = n > 1 ? nll.std(0, false).item() / Math.sqrt(n) : Double.NaN;
            return new Result(scope.keep(nll), mean, se, mean / (d * Math.log(2)), priorTerm.mean().item(), terms);
        }
    }

    /** L_{t−1} for t ≥ 2, per point (see the class comment). */
    private Tensor klTerm(Tensor x0, Tensor denoised, double ab, double abPrev, double beta) {
        double betaTilde = beta * (1 - abPrev) / (1 - ab);
        double v = variance == ReverseVariance.BETA ? beta : betaTilde;
        double c = Math.sqrt(abPrev) * beta / (1 - ab);
        double constant = Math.log(v / betaTilde) + betaTilde / v - 1;
        return x0.sub(denoised).square().mul(c * c / v).add(constant).mul(0.5).sum(1, false);
    }

    /**
     * L_{t−1} for t ≥ 2 with the learned log variance log v = u·log β + (1 − u)·log β̃, per point:
     * ½ Σ_dims [log v − log β̃ + β̃/v − 1 + c²(x₀ − x̂₀)²/v].
     */
    private static Tensor learnedKlTerm(Tensor x0, Tensor denoised, Tensor u, double ab, double abPrev, double beta) {
        double betaTilde = beta * (1 - abPrev) / (1 - ab);
        double c = Math.sqrt(abPrev) * beta / (1 - ab);
        Tensor logV = LearnedVariance.logVariance(u, Math.log(beta), Math.log(betaTilde));
        Tensor invV = logV.neg().exp();
        return logV.sub(Math.log(betaTilde)).add(invV.mul(betaTilde)).sub(1.0)
                .add(x0.sub(denoised).square().mul(invV).mul(c * c)).mul(0.5).sum(1, false);
    }

    /** v₁: β₁, or β̃₂ in place of β̃₁ = 0. */
    private double decoderVariance(double[] alphaBar) {
        return variance == ReverseVariance.BETA ? 1 - alphaBar[1] : clippedBetaTilde(alphaBar);
    }

    /** β̃₂, which stands in for β̃₁ = 0 (improved DDPM's clipped log variance). */
    private static double clippedBetaTilde(double[] alphaBar) {
        double beta2 = 1 - alphaBar[2] / alphaBar[1];
        return beta2 * (1 - alphaBar[1]) / (1 - alphaBar[2]);
    }

    /** L₀ = −log p(x₀ | x₁) per point, with mean x̂₀ and log variance {@code logV} (per coordinate or one value). */
    private Tensor decoderNll(Tensor x0, Tensor mean, Tensor logV) {
        if (decoder == Decoder.GAUSSIAN) {
            return x0.sub(mean).square().mul(logV.neg().exp()).add(logV).add(Math.log(2 * Math.PI)).mul(0.5).sum(1, false);
        }
        return discretizedLogProbability(x0, mean, logV.mul(0.5).exp()).neg().sum(1, false);
    }

    /**
     * log P(bin of x) under N(μ, s²), for x on the 256 levels of [−1, 1] (Ho et al. 2020, eq. 13):
     * the bin is [x − 1/255, x + 1/255], widened to −∞ at x = −1 and to +∞ at x = 1.
     */
    static Tensor discretizedLogProbability(Tensor x, Tensor mean, double s) {
        return discretizedLogProbability(x, mean, Tensor.full(DType.FLOAT64, s, 1));
    }

    /** As {@link #discretizedLogProbability(Tensor, Tensor, double)} with a scale per coordinate (broadcast against x). */
    static Tensor discretizedLogProbability(Tensor x, Tensor mean, Tensor s) {
        if (x.amin().item() < -1 - 1e-6 || x.amax().item() > 1 + 1e-6) {
            throw new DiffusionException("the discretized decoder needs data scaled to [-1, 1]; got values from "
                    + x.amin().item() + " to " + x.amax().item());
        }
        Tensor c = x.sub(mean);
        Tensor lo = Tensor.where(x.lt(-1 + HALF_BIN), Tensor.full(c.dtype(), Double.NEGATIVE_INFINITY, 1), c.sub(HALF_BIN).div(s));
        Tensor hi = Tensor.where(x.gt(1 - HALF_BIN), Tensor.full(c.dtype(), Double.POSITIVE_INFINITY, 1), c.add(HALF_BIN).div(s));
        // Φ(u) − Φ(l) = ½[erfc(−u/√2) − erfc(−l/√2)]. Reflecting a bin that lies right of the mean to
        // its mirror image keeps both erfc arguments where erfc is small and precise, not near 1 − 1.
        Tensor right = c.gt(0);
        Tensor l = Tensor.where(right, hi.neg(), lo);
        Tensor u = Tensor.where(right, lo.neg(), hi);
        double r2 = Math.sqrt(2);
        Tensor p = u.neg().div(r2).erfc().sub(l.neg().div(r2).erfc()).mul(0.5);
        return p.clampMin(MIN_PROBABILITY).log();
    }
}
