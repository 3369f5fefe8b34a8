package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.process.DormandPrince;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;

/**
 * The probability-flow ODE (Song et al. 2021, eq. 13) solved by adaptive Dormand–Prince RK45.
 * In the variance-exploding view the ODE is dx/dσ = (x − D(x; σ))/σ (Karras et al. 2022, eq. 4
 * with σ(t) = t); with s = log σ as the independent variable it reads
 * <pre>  dx/ds = x − D(x; e^s)</pre>
 * which spreads the work evenly over the decades of σ. The solve runs from σ_max to σ_min and
 * returns the final denoised estimate D(x; σ_min) (or, without the final denoise, x(σ_min)). Deterministic: the noise is the only input.
 */
public final class ProbabilityFlowSampler implements Sampler {
    /** Default tolerances: tight enough that sampling error is far below the model's. */
    public static final double DEFAULT_RTOL = 1e-5;
    public static final double DEFAULT_ATOL = 1e-5;
    private static final int MAX_EVALUATIONS = 100_000;

    private final DormandPrince solver;
    private final boolean denoiseFinal;

    public ProbabilityFlowSampler(double rtol, double atol) {
        this(SamplerOptions.DEFAULTS.withRtol(rtol).withAtol(atol));
    }

    /** With the options' rtol and atol (1e-5 each by default) and final-denoise switch. */
    public ProbabilityFlowSampler(SamplerOptions options) {
        this.solver = new DormandPrince(options.rtolOr(DEFAULT_RTOL), options.atolOr(DEFAULT_ATOL), MAX_EVALUATIONS);
        this.denoiseFinal = options.denoiseFinal();
    }

    @Override
    public String name() {
        return "rk45";
    }

    /** The field dx/ds = x − D(x; e^s) of the probability-flow ODE in log σ. */
    static DormandPrince.Field field(Denoiser model) {
        return (s, x) -> x.sub(model.denoise(x, Tensor.full(Math.exp(s), 1)));
    }

    /** The span [σ_max, σ_min] (then 0 for the final denoise): the steps in between come from error control. */
    @Override
    public double[] sigmas(Denoiser model, GridSpec grid) {
        return AdaptiveSpan.of(name(), model, grid, denoiseFinal);
    }

    @Override
    public Tensor sample(Denoiser model, Tensor noise, double[] sigmas, Generator g, SamplingListener listener) {
        AdaptiveSpan span = AdaptiveSpan.of(sigmas);
        double sMax = Math.log(span.sigmaMax());
        double sMin = Math.log(span.sigmaMin());
        try (Scope scope = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor x = noise.mul(model.initNoiseScale(span.sigmaMax()));
            DormandPrince.Result r = solver.solve(field(model), sMax, x, sMin, (step, s, nextH, y, dy) -> {
                if (listener.isCancelled()) {
                    throw new SamplingCancelledException(step, step + remaining(s, sMin, nextH));
                }
                // The step count is known only at the end: report the steps so far plus the estimate left.
                // dy = x − D(x; σ), so the denoised estimate at the new state is x − dy.
                try (Scope st = Scope.open()) {
                    listener.onStep(new SamplingStep(step - 1, step + remaining(s, sMin, nextH), Math.exp(s), y, y.sub(dy)));
                }
            });
            Tensor out = span.denoiseFinal() ? model.denoise(r.y(), Tensor.full(span.sigmaMin(), 1)) : r.y();
            return scope.keep(out);
        }
    }

    private static int remaining(double s, double sEnd, double h) {
        return (int) Math.ceil(Math.abs(sEnd - s) / Math.max(Math.abs(h), 1e-12));
    }
}
