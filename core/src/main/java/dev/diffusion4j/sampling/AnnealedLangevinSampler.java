package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.tensor.Tensor;

/**
 * Annealed Langevin dynamics (Song &amp; Ermon 2019, "Generative Modeling by Estimating Gradients of
 * the Data Distribution", Alg. 1), the NCSN sampler: T steps of Langevin dynamics at each of L
 * geometric noise levels σ_1 &gt; … &gt; σ_L (the model's σ_max … σ_min; an explicit σ schedule
 * replaces them), with the score
 * s(x, σ) = (D(x; σ) − x)/σ² and a step that shrinks with the level:
 * <pre>
 * α_i = ε·σ_i²/σ_L²
 * repeat T times:  x ← x + (α_i/2)·s(x, σ_i) + √α_i·z
 * </pre>
 * so that α_i·s is the same fraction of σ_i at every level. Then, by default, the denoising step
 * x̂₀ = x + σ_L²·s(x, σ_L) = D(x; σ_L) (Song &amp; Ermon 2020; Jolicoeur-Martineau et al. 2021), which
 * removes the last level's noise. The default ε is the paper's 2·10⁻⁵ for σ_L = 0.01, rescaled to
 * the model's σ_L as ε = 2·10⁻⁵·(σ_L/0.01)²: the same α_i/σ_i² = 0.2 on every level.
 *
 * <p>{@code steps} is L (10 by default); T is {@code levelSteps} (100). L·T + 1 evaluations. Each
 * step of the shared loop is one level; the last one also denoises.
 */
public final class AnnealedLangevinSampler extends SigmaSampler {
    /** The paper's L = 10 levels and T = 100 steps per level. */
    static final int DEFAULT_LEVELS = 10;
    static final int DEFAULT_LEVEL_STEPS = 100;
    /** The paper's ε = 2·10⁻⁵ for its last level σ_L = 0.01. */
    static final double NCSN_EPSILON = 2e-5;
    static final double NCSN_SIGMA_MIN = 0.01;

    public AnnealedLangevinSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "annealed_langevin";
    }

    @Override
    protected int defaultSteps(Denoiser model) {
        return DEFAULT_LEVELS;
    }

    /** Geometric levels from σ_max to σ_min, as in NCSN. */
    @Override
    protected SigmaSchedule preferredSchedule() {
        return SigmaSchedule.EXPONENTIAL;
    }

    /** The last level's Langevin steps run on the step to 0, which then skips only the denoise. */
    @Override
    protected double[] withoutFinalDenoise(double[] grid) {
        return grid;
    }

    @Override
    protected Tensor step(Step s) {
        double sigma = s.sigma();
        double sigmaLast = s.lowestSigma();                           // σ_L
        double epsilon = Double.isNaN(options.langevinEpsilon())
                ? NCSN_EPSILON * Math.pow(sigmaLast / NCSN_SIGMA_MIN, 2) : options.langevinEpsilon();
        double alpha = epsilon * sigma * sigma / (sigmaLast * sigmaLast);
        Tensor first = s.denoised();                                  // the evaluation the listener sees
        Tensor x = s.repeat(s.x(), options.levelStepsOr(DEFAULT_LEVEL_STEPS), state -> {
            Tensor score = (state == s.x() ? first : s.denoise(state, sigma)).sub(state).div(sigma * sigma);
            return state.add(score.mul(alpha / 2)).add(s.noise().mul(Math.sqrt(alpha)));
        });
        if (s.sigmaNext() == 0 && options.denoiseFinal()) {
            return s.denoise(x, sigma);                               // x + σ_L²·s(x, σ_L)
        }
        return x;
    }
}
