package dev.diffusion4j.eval;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.process.DormandPrince;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;

/**
 * Exact log-likelihood through the probability-flow ODE and the instantaneous change of variables
 * (Chen et al. 2018; Song et al. 2021, appendix D.2). With s = log σ the ODE is
 * dx/ds = g(x, s) = x − D(x; e^s), and along a solution
 * <pre>  log p_σmin(x(s_min)) = log p_σmax(x(s_max)) + ∫ div g ds,   div g = d − tr ∂D/∂x</pre>
 * integrated from the data (taken as the state at σ_min) up to σ_max, where the prior is
 * N(0, s²I) with s = {@link Denoiser#initNoiseScale()}. The trace is exact (one vector-Jacobian
 * product per dimension) or Hutchinson's estimate vᵀ(∂D/∂x)v with one fixed random v per sample
 * (Rademacher or Gaussian), unbiased with a standard error reported over the batch.
 */
public final class Likelihood {
    /** How tr ∂D/∂x is computed. */
    public enum Trace {
        EXACT, HUTCHINSON_RADEMACHER, HUTCHINSON_GAUSSIAN;

        public static Trace parse(String name) {
            switch (name.toLowerCase(Locale.ROOT)) {
                case "exact": return EXACT;
                case "rademacher": case "hutchinson": return HUTCHINSON_RADEMACHER;
                case "gaussian": return HUTCHINSON_GAUSSIAN;
                default: throw new DiffusionException("unknown trace estimator '" + name + "': use exact, rademacher or gaussian");
            }
        }
    }

    /**
     * @param logLikelihood per-sample log p(x) in nats, [B]
     * @param evaluations   ODE right-hand-side evaluations (each costs one forward and the trace's backward passes)
     */
    public record Result(Tensor logLikelihood, double meanNll, double standardError, double bitsPerDim, int evaluations) {
    }

    private final DormandPrince solver;
    private final Trace trace;

    public Likelihood(Trace trace, double rtol, double atol) {
        this.trace = trace;
        this.solver = new DormandPrince(rtol, atol, 200_000);
    }

    /** log p(x) for data {@code x} [B, d] in the model's units; {@code g} draws the Hutchinson vectors. */
    public Result evaluate(Denoiser model, Tensor x, Generator g) {
        if (x.dim() != 2) {
            throw new DiffusionException("likelihood needs data shaped [batch, dim], got " + java.util.Arrays.toString(x.shape()));
        }
        long n = x.size(0);
        long d = x.size(1);
        try (Scope scope = Scope.open(); NoGrad grad = NoGrad.enableGrad()) {
            Tensor probe = trace == Trace.EXACT ? null
                    : trace == Trace.HUTCHINSON_RADEMACHER ? Tensor.rademacher(g, n, d).to(x.dtype()) : Tensor.randn(g, n, d).to(x.dtype());
            // Augmented state [x | Δ]: Δ accumulates ∫ div g ds.
            Tensor y0 = Tensor.cat(java.util.List.of(x, Tensor.zeros(x.dtype(), n, 1)), 1);
            DormandPrince.Field field = (s, y) -> {
                Tensor xs = y.narrow(1, 0, d).detach().requiresGrad_(true);
                Tensor denoised = model.denoise(xs, Tensor.full(Math.exp(s), 1));
                Tensor traceJ = trace(denoised, xs, probe, d);
                Tensor dx = xs.sub(denoised).detach();
                Tensor dDelta = traceJ.rsub(d).unsqueeze(1).detach();
                return Tensor.cat(java.util.List.of(dx, dDelta), 1);
            };
            DormandPrince.Result r = solver.solve(field, Math.log(model.sigmaMin()), y0, Math.log(model.sigmaMax()), DormandPrince.StepObserver.NONE);
            Tensor xT = r.y().narrow(1, 0, d);
            Tensor delta = r.y().select(1, d);
            double priorStd = model.initNoiseScale();
            // log N(x_T; 0, s²I) = −|x_T|²/(2s²) − d·log(s√(2π))
            Tensor logPrior = xT.square().sum(1, false).mul(-0.5 / (priorStd * priorStd))
                    .sub(d * (Math.log(priorStd) + 0.5 * Math.log(2 * Math.PI)));
            Tensor logp = logPrior.add(delta).detach();
            double meanNll = -logp.mean().item();
            double se = n > 1 ? logp.std(0, false).item() / Math.sqrt(n) : Double.NaN;
            return new Result(scope.keep(logp), meanNll, se, meanNll / (d * Math.log(2)), r.evaluations());
        }
    }

    /** tr ∂D/∂x per sample: exactly by d vector-Jacobian products, or vᵀ(∂D/∂x)v. */
    private static Tensor trace(Tensor denoised, Tensor x, Tensor probe, long d) {
        if (probe != null) {
            return denoised.vjp(x, probe, false).mul(probe).sum(1, false);
        }
        Tensor total = null;
        for (long i = 0; i < d; i++) {
            Tensor e = Tensor.zeros(x.dtype(), x.shape());
            e.narrow(1, i, 1).fill_(1.0);
            Tensor column = denoised.vjp(x, e, i < d - 1).select(1, i);
            total = total == null ? column : total.add(column);
        }
        return total;
    }
}
