package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.process.ReverseVariance;
import dev.diffusion4j.process.Sde;
import dev.diffusion4j.sampling.PredictorCorrectorSampler;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.schedule.TimestepSpacing;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options of a generation request, one flag per field of {@link GenerationRequest}: this class
 * only maps flags to the request; core checks the values and says what is wrong.
 */
final class RequestOptions {
    @Option(names = "--num", defaultValue = "2000", description = "Number of samples (default: ${DEFAULT-VALUE}).")
    int num;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--size", description = "Image models: HEIGHTxWIDTH of the images, e.g. 32x32 (default: the model's own; "
            + "U-Nets take any multiple of their downsampling factor).")
    String size;

    @Option(names = "--raw-weights", description = "Use the raw weights instead of the EMA weights.")
    boolean rawWeights;

    @Option(names = "--sampler", defaultValue = GenerationRequest.DEFAULT_SAMPLER,
            description = "Sampler (see 'diffuse samplers'; default: ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--steps", defaultValue = "0", description = "Sampling steps (default: the sampler's own; ddpm uses every training step; "
            + "annealed_langevin: noise levels; dpm_fast: model evaluations; rk45 and dpm_adaptive take none).")
    int steps;

    @Option(names = "--sigma-schedule", defaultValue = "default",
            description = "Noise levels: default (the sampler's choice: the model's grid for most; uniform in SDE time for sde_euler "
                    + "and pc, in flow time for flow_*, geometric for annealed_langevin and dpm_fast), model (the model's training grid, "
                    + "picked by --spacing), karras, exponential, polyexponential (default: ${DEFAULT-VALUE}; rk45 and dpm_adaptive take none).")
    String sigmaSchedule;

    @Option(names = "--rho", description = "rho of the karras (default 7) or polyexponential (default 1) schedule.")
    Double rho;

    @Option(names = "--spacing", defaultValue = "trailing", description = "Timestep spacing: leading, trailing, linspace (default: ${DEFAULT-VALUE}).")
    String spacing;

    @Option(names = "--eta", description = "Stochasticity in [0, 1]: DDIM's eta (default 0), the share of fresh noise of the "
            + "ancestral and SDE samplers (default 1).")
    Double eta;

    @Option(names = "--s-churn", defaultValue = "0", description = "Karras churn S_churn for euler, heun, dpm2 (default: ${DEFAULT-VALUE}, off).")
    double sChurn;

    @Option(names = "--s-tmin", defaultValue = "0", description = "Churn only at noise levels ≥ S_tmin (default: ${DEFAULT-VALUE}).")
    double sTmin;

    @Option(names = "--s-tmax", defaultValue = "Infinity", description = "Churn only at noise levels ≤ S_tmax (default: no limit).")
    double sTmax;

    @Option(names = "--s-noise", defaultValue = "1", description = "S_noise: scale of the fresh noise of churn and of the ancestral and SDE "
            + "samplers (default: ${DEFAULT-VALUE}).")
    double sNoise;

    @Option(names = "--order", defaultValue = "0", description = "Order of lms (1-4, default 4), deis, dpm_solver, dpm_solver_singlestep "
            + "(1-3, default 3), unipc (1-3, default 2) and dpm_adaptive (2 or 3, default 3).")
    int order;

    @Option(names = "--variant", defaultValue = "", description = "unipc's B(h): bh1 (h) or bh2 (e^h - 1, the default).")
    String variant;

    @Option(names = "--sde", defaultValue = "vp", description = "Score SDE of sde_euler and pc: vp, ve or subvp (Song et al. 2021; "
            + "default: ${DEFAULT-VALUE}).")
    String sde;

    @Option(names = "--predictor", defaultValue = "reverse_diffusion",
            description = "Predictor of pc: reverse_diffusion or euler_maruyama (default: ${DEFAULT-VALUE}).")
    String predictor;

    @Option(names = "--snr", defaultValue = "0.16", description = "Signal-to-noise ratio of pc's Langevin corrector step rule "
            + "(default: ${DEFAULT-VALUE}).")
    double snr;

    @Option(names = "--corrector-steps", defaultValue = "1", description = "Langevin corrector steps per noise level of pc (default: ${DEFAULT-VALUE}).")
    int correctorSteps;

    @Option(names = "--langevin-eps", description = "epsilon of annealed_langevin: step eps*sigma_i^2/sigma_L^2 at level i "
            + "(default: 2e-5*(sigma_min/0.01)^2).")
    Double langevinEps;

    @Option(names = "--level-steps", defaultValue = "0", description = "Langevin steps per noise level of annealed_langevin (default: 100); "
            + "--steps sets its number of levels (default: 10).")
    int levelSteps;

    @Option(names = "--no-final-denoise", description = "End on the state at the lowest positive noise level instead of the denoised "
            + "estimate (drops the grid's final step to sigma = 0; annealed_langevin keeps its last level's Langevin steps).")
    boolean noFinalDenoise;

    @Option(names = "--rtol", description = "Relative tolerance of rk45 (default 1e-5) and dpm_adaptive (default 0.05).")
    Double rtol;

    @Option(names = "--atol", description = "Absolute tolerance of rk45 (default 1e-5) and dpm_adaptive (default 0.0078).")
    Double atol;

    @Option(names = "--variance", defaultValue = "fixed_small", description = "DDPM variance: fixed_small (β̃), fixed_large (β) or "
            + "learned_range (the model's own, for models trained with --variance learned_range; interpolates the β and β̃ of each "
            + "step of the, possibly respaced, grid) (default: ${DEFAULT-VALUE}).")
    String variance;

    @Option(names = "--class", description = "Class-conditional models: the class to generate, by index (0-based) or by the name "
            + "the training data gave it (e.g. Sneaker, or an image folder's sub-folder name).")
    String label;

    @Option(names = "--prompt", description = "Text-conditioned models (trained with --text): what to generate, e.g. "
            + "\"a photo of a dark sneaker\". Prompts longer than the model's context (77 tokens with start and end) are cut, "
            + "with a warning.")
    String prompt;

    @Option(names = "--negative", description = "With --class: a class (index or name) to steer away from instead of the "
            + "unconditional model; with --prompt: a negative prompt.")
    String negative;

    @Option(names = "--guidance", description = "With --class or --prompt: classifier-free guidance weight w; 0 is the unconditional "
            + "model, 1 the conditional one, larger w trades diversity for fidelity (default: 3).")
    Double guidance;

    @Option(names = "--guidance-interval", split = ",", description = "Guide only at noise levels sigma in LOW,HIGH (e.g. 0.3,5); "
            + "elsewhere the conditional model alone runs (default: every level).")
    double[] guidanceInterval;

    @Option(names = "--cfg-rescale", defaultValue = "0", description = "CFG rescale phi in [0, 1] against over-saturation at large w "
            + "(default: ${DEFAULT-VALUE}, off).")
    double cfgRescale;

    @Option(names = "--classifier-scale", description = "With --class: classifier guidance of this strength s instead of "
            + "classifier-free guidance, D + s*sigma^2*grad log p(class | x) (Dhariwal & Nichol 2021). Needs a classifier of noisy "
            + "samples: the analytic oracles (oracle:NAME) have an exact one, for which s = 1 samples the class exactly; image "
            + "models take one from 'diffuse train-classifier --noisy' via --classifier DIR.")
    Double classifierScale;

    @Option(names = "--classifier", description = "With --class and --classifier-scale: a classifier of noisy images from "
            + "'diffuse train-classifier --noisy' (directory or .safetensors) whose gradient steers any image model, conditional or not.")
    Path classifier;

    @Option(names = "--threshold", defaultValue = "static", description = "Treatment of the denoised estimate x0: static (clip to "
            + "the training data's range), dynamic (Imagen's per-sample percentile thresholding; image models) or none "
            + "(default: ${DEFAULT-VALUE}).")
    String threshold;

    @Option(names = "--threshold-percentile", defaultValue = "0.995", description = "Percentile p of --threshold dynamic "
            + "(default: ${DEFAULT-VALUE}).")
    double thresholdPercentile;

    @Option(names = "--no-clip", description = "Same as --threshold none: do not clip denoised estimates to the training data's range.")
    boolean noClip;

    /** The request for {@code model}; core checks it. */
    GenerationRequest request(String model) {
        GenerationRequest.Threshold t = GenerationRequest.Threshold.parse(threshold);
        GenerationRequest.Builder b = GenerationRequest.builder().model(model).count(num).seed(seed)
                .weights(rawWeights ? GenerationRequest.Weights.RAW : GenerationRequest.Weights.EMA)
                .label(label).prompt(prompt).negative(negative).cfgRescale(cfgRescale).classifier(classifier)
                .threshold(noClip && t == GenerationRequest.Threshold.STATIC ? GenerationRequest.Threshold.NONE : t)
                .thresholdPercentile(thresholdPercentile)
                .sampler(sampler).samplerOptions(samplerOptions()).grid(grid());
        if (guidance != null) {
            b.guidance(guidance);
        }
        if (classifierScale != null) {
            b.classifierScale(classifierScale);
        }
        if (guidanceInterval != null) {
            if (guidanceInterval.length != 2) {
                throw new DiffusionException("--guidance-interval takes two noise levels LOW,HIGH, got " + guidanceInterval.length + " values");
            }
            b.guidanceInterval(guidanceInterval[0], guidanceInterval[1]);
        }
        if (size != null) {
            String[] hw = size.toLowerCase(java.util.Locale.ROOT).split("x");
            if (hw.length != 2 || !hw[0].matches("\\d{1,5}") || !hw[1].matches("\\d{1,5}")) {
                throw new DiffusionException("--size takes HEIGHTxWIDTH in pixels, e.g. 32x32; got " + size);
            }
            b.size(Integer.parseInt(hw[0]), Integer.parseInt(hw[1]));
        }
        return b.build();
    }

    GridSpec grid() {
        GridSpec g = GridSpec.DEFAULT.withSteps(steps).withSchedule(SigmaSchedule.parse(sigmaSchedule))
                .withSpacing(TimestepSpacing.parse(spacing));
        return rho == null ? g : g.withRho(rho);
    }

    SamplerOptions samplerOptions() {
        return SamplerOptions.DEFAULTS
                .withEta(eta == null ? Double.NaN : eta)
                .withVariance(ReverseVariance.parse(variance))
                .withChurn(new SamplerOptions.Churn(sChurn, sTmin, sTmax))
                .withSNoise(sNoise)
                .withOrder(order)
                .withVariant(variant)
                .withSde(Sde.parse(sde))
                .withPredictor(PredictorCorrectorSampler.Predictor.parse(predictor))
                .withSnr(snr)
                .withCorrectorSteps(correctorSteps)
                .withLangevinEpsilon(langevinEps == null ? Double.NaN : langevinEps)
                .withLevelSteps(levelSteps)
                .withDenoiseFinal(!noFinalDenoise)
                .withRtol(rtol == null ? Double.NaN : rtol)
                .withAtol(atol == null ? Double.NaN : atol);
    }
}
