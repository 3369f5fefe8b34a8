package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;

/**
 * The samplers of Song et al. 2021's score SDEs (sde_euler, pc): by default their levels are uniform
 * in the chosen SDE's own time, as in the paper's samplers; an explicit σ schedule is honoured.
 */
abstract class ScoreSdeSampler extends SigmaSampler {
    ScoreSdeSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    protected double[] sigmas(Denoiser model) {
        return options.sigmaSchedule() == SigmaSchedule.DEFAULT ? options.sde().over(model).grid(options.stepsOr(defaultSteps(model)))
                : super.sigmas(model);
    }
}
