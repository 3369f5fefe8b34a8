package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;

/**
 * DPM-Solver with adaptive step size (Lu et al. 2022, sec. 3.3 and Alg. 3 of App. C): an embedded
 * pair of {@link DpmSolver DPM-Solvers} of orders k − 1 and k sharing their evaluations (DPM-Solver-12:
 * 1 and 2 with r₁ = 1/2; DPM-Solver-23: 2 with r₁ = 1/3 and 3), stepping in λ = −log σ from σ_max
 * to σ_min:
 * <pre>
 * x_l = DPM-Solver-(k−1)(x, λ → λ + h),  x_h = DPM-Solver-k(x, λ → λ + h)
 * δ = max(atol, rtol·max(|x_l|, |x_prev|)),   E = ‖(x_h − x_l)/δ‖₂/√M
 * if E ≤ 1: accept x_h, λ ← λ + h
 * h ← min(θ·h·E^{−1/k}, λ_end − λ)                                      (θ = 0.9)
 * </pre>
 * x_prev is the lower-order solution of the last accepted step (x itself at the start). The error is
 * measured on the variance-preserving states x/√(1 + σ²), where the paper's tolerances (rtol 0.05,
 * atol 0.0078 for data in [−1, 1]) are meant; h starts at 0.05. {@code order} picks k
 * (3 by default), {@code rtol}/{@code atol} the tolerances. The whole batch shares the step size and
 * E is the RMS over the whole batch (the paper's code takes the worst sample's, which lets one
 * outlier of a large batch set every sample's steps).
 * Returns x̂₀ = D(x; σ_min) at the end. Deterministic.
 */
public final class DpmAdaptiveSampler implements Sampler {
    public static final double DEFAULT_RTOL = 0.05;
    public static final double DEFAULT_ATOL = 0.0078;
    static final double INITIAL_STEP = 0.05;
    static final double SAFETY = 0.9;
    private static final int MAX_EVALUATIONS = 100_000;

    private final int order;
    private final double rtol;
    private final double atol;
    private final boolean denoiseFinal;

    public DpmAdaptiveSampler(SamplerOptions options) {
        this.order = options.orderOr(3);
        if (order != 2 && order != 3) {
            throw new DiffusionException("dpm_adaptive pairs DPM-Solver-1/2 (order 2) or -2/3 (order 3); got order " + order);
        }
        this.rtol = options.rtolOr(DEFAULT_RTOL);
        this.atol = options.atolOr(DEFAULT_ATOL);
        this.denoiseFinal = options.denoiseFinal();
    }

    @Override
    public String name() {
        return "dpm_adaptive";
    }

    /** The span [σ_max, σ_min] (then 0 for the final denoise): the steps in between come from error control. */
    @Override
    public double[] sigmas(Denoiser model, GridSpec grid) {
        return AdaptiveSpan.of(name(), model, grid, denoiseFinal);
    }

    @Override
    public Tensor sample(Denoiser model, Tensor noise, double[] sigmas, Generator g, SamplingListener listener) {
        AdaptiveSpan span = AdaptiveSpan.of(sigmas);
        double sigmaMin = span.sigmaMin();
        double lambda = -Math.log(span.sigmaMax());
        double lambdaEnd = -Math.log(sigmaMin);
        double h = INITIAL_STEP;
        int accepted = 0;
        int[] evaluations = {0};
        DpmSolver.Eps eps = (y, sigma) -> {
            evaluations[0]++;
            return SigmaSampler.derivative(y, model.denoise(y, Tensor.full(y.dtype(), sigma, 1)), sigma);
        };
        try (Scope outer = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor x = noise.mul(model.initNoiseScale(span.sigmaMax()));
            Tensor previousLow = x;                        // x_prev, on the VE scale at the current σ
            Tensor denoised = null;                        // D(x; σ) at the current state, kept across rejected attempts
            while (lambda < lambdaEnd) {
                if (listener.isCancelled()) {
                    throw new SamplingCancelledException(accepted, accepted + remaining(lambda, lambdaEnd, h));
                }
                if (evaluations[0] + order > MAX_EVALUATIONS) {
                    throw new DiffusionException(String.format(Locale.ROOT, "dpm_adaptive used its budget of %d evaluations and reached σ = %.4g "
                            + "of %.4g; loosen rtol/atol (now %.1e/%.1e)", MAX_EVALUATIONS, Math.exp(-lambda), sigmaMin, rtol, atol));
                }
                double sigma = Math.exp(-lambda);
                double lambdaNext = h >= lambdaEnd - lambda ? lambdaEnd : lambda + h;
                double sigmaNext = Math.exp(-lambdaNext);
                if (denoised == null) {
                    evaluations[0]++;
                    denoised = model.denoise(x, Tensor.full(x.dtype(), sigma, 1));
                }
                double error;
                try (Scope attempt = Scope.open()) {
                    Tensor eps0 = SigmaSampler.derivative(x, denoised, sigma);
                    Tensor low;
                    Tensor high;
                    if (order == 2) {
                        low = DpmSolver.first(x, eps0, sigma, sigmaNext);
                        Tensor eps1 = eps.at(DpmSolver.firstStage(x, eps0, sigma, DpmSolver.R_SECOND, sigmaNext),
                                DpmSolver.stageSigma(sigma, sigmaNext, DpmSolver.R_SECOND));
                        high = DpmSolver.second(x, eps0, eps1, sigma, sigmaNext, DpmSolver.R_SECOND);
                    } else {
                        Tensor eps1 = eps.at(DpmSolver.firstStage(x, eps0, sigma, DpmSolver.R1, sigmaNext),
                                DpmSolver.stageSigma(sigma, sigmaNext, DpmSolver.R1));
                        low = DpmSolver.second(x, eps0, eps1, sigma, sigmaNext, DpmSolver.R1);
                        Tensor eps2 = eps.at(DpmSolver.secondStage(x, eps0, eps1, sigma, sigmaNext),
                                DpmSolver.stageSigma(sigma, sigmaNext, DpmSolver.R2));
                        high = DpmSolver.third(x, eps0, eps2, sigma, sigmaNext);
                    }
                    error = errorNorm(low, previousLow, high, sigma, sigmaNext);
                    if (!Double.isFinite(error)) {
                        throw new DiffusionException("dpm_adaptive: the solution became non-finite at σ = " + sigma
                                + "; the model returned NaN or Inf");
                    }
                    if (error <= 1) {
                        Tensor previous = x;
                        if (previousLow != x) {
                            previousLow.close();
                        }
                        previousLow = attempt.keep(low);
                        x = attempt.keep(high);
                        lambda = lambdaNext;
                        accepted++;
                        listener.onStep(new SamplingStep(accepted - 1, accepted + remaining(lambda, lambdaEnd, h) + 1, sigmaNext, x, denoised));
                        // Free what the accepted step supersedes, so memory stays flat over any number of steps.
                        denoised.close();
                        denoised = null;
                        previous.close();
                    }
                }
                h = Math.min(SAFETY * h * Math.pow(Math.max(error, 1e-10), -1.0 / order), lambdaEnd - lambda);
            }
            if (!span.denoiseFinal()) {
                return outer.keep(x);
            }
            if (listener.isCancelled()) {
                throw new SamplingCancelledException(accepted, accepted + 1);
            }
            Tensor out = model.denoise(x, Tensor.full(x.dtype(), sigmaMin, 1));
            listener.onStep(new SamplingStep(accepted, accepted + 1, 0, out, out));
            return outer.keep(out);
        }
    }

    /**
     * E = RMS((x_h − x_l)/δ), δ = max(atol, rtol·max(|x_l|, |x_prev|)), on the variance-preserving
     * states; {@code previous} is x_prev on the VE scale of the level it was computed for, which is
     * the current step's start.
     */
    private double errorNorm(Tensor low, Tensor previous, Tensor high, double sigma, double sigmaNext) {
        try (Scope s = Scope.open()) {
            double vpNext = 1 / Math.sqrt(1 + sigmaNext * sigmaNext);
            Tensor lowVp = low.mul(vpNext);
            Tensor delta = lowVp.abs().maximum(previous.mul(1 / Math.sqrt(1 + sigma * sigma)).abs()).mul(rtol).clampMin(atol);
            return Math.sqrt(high.mul(vpNext).sub(lowVp).div(delta).square().mean().item());
        }
    }

    private static int remaining(double lambda, double lambdaEnd, double h) {
        return (int) Math.ceil(Math.max(lambdaEnd - lambda, 0) / Math.max(h, 1e-12));
    }
}
