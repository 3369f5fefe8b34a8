package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.process.Sde;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.SigmaSchedule;

/**
 * The samplers of Song et al. 2021's score SDEs (sde_euler, pc): by default their levels are uniform
 * in the chosen SDE's own time, as in the paper's samplers; an explicit σ schedule is honoured.
 */
abstract class ScoreSdeSampler extends SigmaSampler {
    ScoreSdeSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    protected double[] levels(Denoiser model, GridSpec spec) {
        return spec.schedule() == SigmaSchedule.DEFAULT
                ? SigmaSchedule.uniformIn(process(model), spec.stepsOr(defaultSteps(model)), model.sigmaMin(), model.sigmaMax())
                : super.levels(model, spec);
    }

    /** The options' SDE over the model's noise range. */
    Sde.Process process(Denoiser model) {
        return options.sde().over(model.sigmaMin(), model.sigmaMax());
    }
}
