package dev.diffusion4j.sampling;

import dev.diffusion4j.process.Sde;
import dev.diffusion4j.tensor.Tensor;

/**
 * The Langevin corrector of Song et al. 2021 (Alg. 4 for VE, Alg. 5 for VP): M steps of
 * unadjusted Langevin dynamics on p_σ at a fixed noise level, with the step size set by a target
 * signal-to-noise ratio r:
 * <pre>
 * g = ∇log p(y),  z ~ N(0, I)
 * ε = 2·α_i·(r·‖z‖/‖g‖)²
 * y ← y + ε·g + √(2ε)·z
 * </pre>
 * α_i is the signal kept by the forward step (1 − β_i for VP and sub-VP, 1 for VE). The norms are
 * the batch means of the per-sample norms, as in the reference implementation: in low dimension a
 * single sample's ‖g‖ can be near 0, and the per-sample rule would then take an unbounded step.
 */
final class LangevinCorrector {
    private LangevinCorrector() {
    }

    /** {@code steps} corrector steps at level σ on the SDE state y (consumed); every step evaluates the denoiser once. */
    static Tensor correct(SigmaSampler.Step s, Sde.Process sde, Tensor y, double sigma, double keep, double snr, int steps) {
        double alpha = sde.scale(sigma);
        return s.repeat(y, steps, state -> {
            Tensor g = sde.score(state, s.denoise(state.div(alpha), sigma), sigma);
            Tensor z = s.noise();
            double gradNorm = meanNorm(g);
            if (gradNorm == 0) {
                return state.clone();                                // at a stationary point of every sample: no move
            }
            double eps = 2 * keep * Math.pow(snr * meanNorm(z) / gradNorm, 2);
            return state.add(g.mul(eps)).add(z.mul(Math.sqrt(2 * eps)));
        });
    }

    /** The mean over the batch of each sample's Euclidean norm. */
    static double meanNorm(Tensor t) {
        return t.reshape(t.size(0), -1).square().sum(1, false).sqrt().mean().item();
    }
}
