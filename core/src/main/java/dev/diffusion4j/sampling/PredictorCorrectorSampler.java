package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.process.Sde;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;

/**
 * Predictor–corrector sampling of a score SDE (Song et al. 2021, Alg. 1, 2 and 3): at each step a
 * predictor moves the SDE's state y = α·x from σ_i to σ_{i+1}, then M steps of the
 * {@link LangevinCorrector Langevin corrector} at σ_{i+1} pull it back towards p_{σ_{i+1}}:
 * <pre>
 * y ← predictor(y; σ_i → σ_{i+1})
 * repeat M times:  y ← y + ε·∇log p(y) + √(2ε)·z       (ε from the signal-to-noise ratio r)
 * </pre>
 * Predictors ({@link Predictor}): the reverse-diffusion predictor (default; eq. 46, which for VP is
 * eq. 47 and for VE Alg. 2's predictor) or Euler–Maruyama ({@link SdeEulerSampler}). The grid is
 * uniform in the SDE's time, as for {@link SdeEulerSampler}. 1 + M evaluations per step. Final step:
 * to σ = 0 the predictor returns x̂₀ = D(x; σ_{N−1}), with no correction after it.
 */
public final class PredictorCorrectorSampler extends ScoreSdeSampler {
    /** Default steps: with one corrector step, 1 + 2·(N − 1) = 399 evaluations. */
    static final int DEFAULT_STEPS = 200;

    /** The predictor of a predictor–corrector sampler. */
    public enum Predictor {
        /**
         * Reverse diffusion (Song et al. 2021, eq. 45–46): reverse the forward step from σ_{i+1} to σ_i,
         * y_i = a·y_{i+1} + G·z with a = α_i/α_{i+1} and G² = (α_iσ_i)² − a²(α_{i+1}σ_{i+1})² (the exact
         * Gaussian transition of the SDE, which for VP is DDPM's √(1−β_i), β_i and for VE σ_i² − σ_{i+1}²):
         * y_{i+1} = (2 − a)·y_i + G²·∇log p(y_i) + G·S_noise·z.
         */
        REVERSE_DIFFUSION("reverse_diffusion"),
        /** Euler–Maruyama on the reverse SDE (η and S_noise as for sde_euler). */
        EULER_MARUYAMA("euler_maruyama");

        private final String configName;

        Predictor(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        public static Predictor parse(String name) {
            String n = name.toLowerCase(Locale.ROOT).replace('-', '_');
            for (Predictor p : values()) {
                if (p.configName.equals(n) || (p == EULER_MARUYAMA && n.equals("em")) || (p == REVERSE_DIFFUSION && n.equals("rd"))) {
                    return p;
                }
            }
            throw new DiffusionException("unknown predictor '" + name + "': use reverse_diffusion or euler_maruyama");
        }
    }

    public PredictorCorrectorSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "pc";
    }

    @Override
    protected int defaultSteps(Denoiser model) {
        return DEFAULT_STEPS;
    }


    @Override
    protected Tensor step(Step s) {
        Tensor denoised = s.denoised();
        if (s.sigmaNext() == 0) {
            return denoised;
        }
        Sde.Process sde = process(s.model());
        Tensor y = s.x().mul(sde.scale(s.sigma()));
        Tensor predicted = switch (options.predictor()) {
            case REVERSE_DIFFUSION -> reverseDiffusion(s, sde, y, denoised, options.sNoise());
            case EULER_MARUYAMA -> SdeEulerSampler.eulerMaruyama(s, sde, y, denoised, options.etaOr(1), options.sNoise());
        };
        // Alg. 5's α_i = 1 − β_i: the signal the forward process keeps on its step into the corrector's level
        // from the grid's next lower one, or from clean data below the grid's last level (1 for VE).
        double below = s.index() + 2 <= s.steps() ? s.sigma(2) : 0;
        double keep = Math.pow(sde.scale(s.sigmaNext()) / sde.scale(below), 2);
        Tensor corrected = LangevinCorrector.correct(s, sde, predicted, s.sigmaNext(), keep, options.snr(), options.correctorSteps());
        return corrected.div(sde.scale(s.sigmaNext()));
    }

    /** Song et al. 2021, eq. 46 with the SDE's exact transition as the forward discretisation (see {@link Predictor#REVERSE_DIFFUSION}). */
    static Tensor reverseDiffusion(Step s, Sde.Process sde, Tensor y, Tensor denoised, double sNoise) {
        double alpha = sde.scale(s.sigma());
        double alphaNext = sde.scale(s.sigmaNext());
        double a = alpha / alphaNext;
        double g2 = alpha * alpha * (s.sigma() * s.sigma() - s.sigmaNext() * s.sigmaNext());   // (α_iσ_i)² − a²(α_{i+1}σ_{i+1})²
        Tensor score = sde.score(y, denoised, s.sigma());
        return y.mul(2 - a).add(score.mul(g2)).add(s.noise().mul(Math.sqrt(g2) * sNoise));
    }
}
