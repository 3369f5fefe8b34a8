package dev.diffusion4j.cli;

import dev.diffusion4j.pipeline.GenerationRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options of a generation request, one flag per field of {@link GenerationRequest}, named as the
 * field (with dashes). Each flag only records its text: core parses and checks it
 * ({@link GenerationRequest.Builder#set}) and names the field when a value is wrong.
 */
final class RequestOptions {
    static final String DEFAULT_NUM = "2000";

    private final Map<String, String> fields = new LinkedHashMap<>();

    private void set(String field, String value) {
        fields.put(field, value);
    }

    /** Whether a flag set {@code field}. */
    boolean has(String field) {
        return fields.containsKey(field);
    }

    @Option(names = "--num", description = "Number of samples (default: " + DEFAULT_NUM + ").", paramLabel = "NUM")
    void num(String value) {
        set("num", value);
    }

    @Option(names = "--seed", description = "Random seed (default: 0).", paramLabel = "SEED")
    void seed(String value) {
        set("seed", value);
    }

    @Option(names = "--size", description = "Image models: HEIGHTxWIDTH of the images, e.g. 32x32 (default: the model's own; "
            + "U-Nets take any multiple of their downsampling factor).", paramLabel = "SIZE")
    void size(String value) {
        set("size", value);
    }

    @Option(names = "--raw-weights", description = "Use the raw weights instead of the EMA weights.")
    void rawWeights(boolean on) {
        set("weights", on ? "raw" : "ema");
    }

    @Option(names = "--sampler",
            description = "Sampler (see 'diffuse samplers'; default: " + GenerationRequest.DEFAULT_SAMPLER + ").", paramLabel = "SAMPLER")
    void sampler(String value) {
        set("sampler", value);
    }

    @Option(names = "--steps", description = "Sampling steps (default: the sampler's own; ddpm uses every training step; "
            + "annealed_langevin: noise levels; dpm_fast: model evaluations; rk45 and dpm_adaptive take none).", paramLabel = "STEPS")
    void steps(String value) {
        set("steps", value);
    }

    @Option(names = "--sigma-schedule", description = "Noise levels: default (the sampler's choice: the model's grid for most; uniform in SDE time for sde_euler "
                    + "and pc, in flow time for flow_*, geometric for annealed_langevin and dpm_fast), model (the model's training grid, "
                    + "picked by --spacing), karras, exponential, polyexponential (default: default; rk45 and dpm_adaptive take none).", paramLabel = "SIGMA_SCHEDULE")
    void sigmaSchedule(String value) {
        set("sigma_schedule", value);
    }

    @Option(names = "--rho", description = "rho of the karras (default 7) or polyexponential (default 1) schedule.", paramLabel = "RHO")
    void rho(String value) {
        set("rho", value);
    }

    @Option(names = "--spacing", description = "Timestep spacing: leading, trailing, linspace (default: the model's: trailing for the "
            + "project's models, the scheduler config's for a diffusers pipeline).", paramLabel = "SPACING")
    void spacing(String value) {
        set("spacing", value);
    }

    @Option(names = "--eta", description = "Stochasticity in [0, 1]: DDIM's eta (default 0), the share of fresh noise of the "
            + "ancestral and SDE samplers (default 1).", paramLabel = "ETA")
    void eta(String value) {
        set("eta", value);
    }

    @Option(names = "--s-churn", description = "Karras churn S_churn for euler, heun, dpm2 (default: 0, off).", paramLabel = "S_CHURN")
    void sChurn(String value) {
        set("s_churn", value);
    }

    @Option(names = "--s-tmin", description = "Churn only at noise levels ≥ S_tmin (default: 0).", paramLabel = "S_TMIN")
    void sTmin(String value) {
        set("s_tmin", value);
    }

    @Option(names = "--s-tmax", description = "Churn only at noise levels ≤ S_tmax (default: no limit).", paramLabel = "S_TMAX")
    void sTmax(String value) {
        set("s_tmax", value);
    }

    @Option(names = "--s-noise", description = "S_noise: scale of the fresh noise of churn and of the ancestral and SDE "
            + "samplers (default: 1).", paramLabel = "S_NOISE")
    void sNoise(String value) {
        set("s_noise", value);
    }

    @Option(names = "--order", description = "Order of lms (1-4, default 4), deis, dpm_solver, dpm_solver_singlestep "
            + "(1-3, default 3), unipc (1-3, default 2) and dpm_adaptive (2 or 3, default 3).", paramLabel = "ORDER")
    void order(String value) {
        set("order", value);
    }

    @Option(names = "--variant", description = "unipc's B(h): bh1 (h) or bh2 (e^h - 1, the default).", paramLabel = "VARIANT")
    void variant(String value) {
        set("variant", value);
    }

    @Option(names = "--sde", description = "Score SDE of sde_euler and pc: vp, ve or subvp (Song et al. 2021; "
            + "default: vp).", paramLabel = "SDE")
    void sde(String value) {
        set("sde", value);
    }

    @Option(names = "--predictor", description = "Predictor of pc: reverse_diffusion or euler_maruyama (default: reverse_diffusion).", paramLabel = "PREDICTOR")
    void predictor(String value) {
        set("predictor", value);
    }

    @Option(names = "--snr", description = "Signal-to-noise ratio of pc's Langevin corrector step rule "
            + "(default: 0.16).", paramLabel = "SNR")
    void snr(String value) {
        set("snr", value);
    }

    @Option(names = "--corrector-steps", description = "Langevin corrector steps per noise level of pc (default: 1).", paramLabel = "CORRECTOR_STEPS")
    void correctorSteps(String value) {
        set("corrector_steps", value);
    }

    @Option(names = "--langevin-eps", description = "epsilon of annealed_langevin: step eps*sigma_i^2/sigma_L^2 at level i "
            + "(default: 2e-5*(sigma_min/0.01)^2).", paramLabel = "LANGEVIN_EPS")
    void langevinEps(String value) {
        set("langevin_eps", value);
    }

    @Option(names = "--level-steps", description = "Langevin steps per noise level of annealed_langevin (default: 100); "
            + "--steps sets its number of levels (default: 10).", paramLabel = "LEVEL_STEPS")
    void levelSteps(String value) {
        set("level_steps", value);
    }

    @Option(names = "--no-final-denoise", description = "End on the state at the lowest positive noise level instead of the denoised "
            + "estimate (drops the grid's final step to sigma = 0; annealed_langevin keeps its last level's Langevin steps).")
    void noFinalDenoise(boolean on) {
        set("final_denoise", Boolean.toString(!on));
    }

    @Option(names = "--rtol", description = "Relative tolerance of rk45 (default 1e-5) and dpm_adaptive (default 0.05).", paramLabel = "RTOL")
    void rtol(String value) {
        set("rtol", value);
    }

    @Option(names = "--atol", description = "Absolute tolerance of rk45 (default 1e-5) and dpm_adaptive (default 0.0078).", paramLabel = "ATOL")
    void atol(String value) {
        set("atol", value);
    }

    @Option(names = "--variance", description = "DDPM variance: fixed_small (β̃), fixed_large (β) or "
            + "learned_range (the model's own, for models trained with --variance learned_range; interpolates the β and β̃ of each "
            + "step of the, possibly respaced, grid) (default: fixed_small).", paramLabel = "VARIANCE")
    void variance(String value) {
        set("variance", value);
    }

    @Option(names = "--class", description = "Class-conditional models: the class to generate, by index (0-based) or by the name "
            + "the training data gave it (e.g. Sneaker, or an image folder's sub-folder name).", paramLabel = "CLASS")
    void label(String value) {
        set("class", value);
    }

    @Option(names = "--prompt", description = "Text-conditioned models (trained with --text, or a Stable Diffusion pipeline): what "
            + "to generate, e.g. \"a photo of a dark sneaker\". The project's models cut prompts longer than their context (77 tokens "
            + "with start and end), with a warning; Stable Diffusion reads any length in chunks of 75 tokens and emphasis as "
            + "(word), [word], (word:1.5), BREAK.", paramLabel = "PROMPT")
    void prompt(String value) {
        set("prompt", value);
    }

    @Option(names = "--negative", description = "With --class: a class (index or name) to steer away from instead of the "
            + "unconditional model; with --prompt: a negative prompt.", paramLabel = "NEGATIVE")
    void negative(String value) {
        set("negative", value);
    }

    @Option(names = "--guidance", description = "With --class or --prompt: classifier-free guidance weight w; 0 is the unconditional "
            + "model, 1 the conditional one, larger w trades diversity for fidelity (default: 3).", paramLabel = "GUIDANCE")
    void guidance(String value) {
        set("guidance", value);
    }

    @Option(names = "--guidance-interval", description = "Guide only at noise levels sigma in LOW,HIGH (e.g. 0.3,5); "
            + "elsewhere the conditional model alone runs (default: every level).", paramLabel = "GUIDANCE_INTERVAL")
    void guidanceInterval(String value) {
        set("guidance_interval", value);
    }

    @Option(names = "--cfg-rescale", description = "CFG rescale phi in [0, 1] against over-saturation at large w "
            + "(default: 0, off).", paramLabel = "CFG_RESCALE")
    void cfgRescale(String value) {
        set("cfg_rescale", value);
    }

    @Option(names = "--lora", description = "Stable Diffusion pipelines: merge a LoRA file (kohya's or diffusers' format) for this "
            + "run, FILE or FILE:MULTIPLIER (default 1); repeat for several.", paramLabel = "FILE[:MULTIPLIER]")
    void lora(java.util.List<String> values) {
        set("lora", String.join(";", values));
    }

    @Option(names = "--clip-skip", description = "Read prompts from the text encoder's state this many layers before its last, "
            + "as checkpoints tuned on it ask (Stable Diffusion pipelines; default: 0, the last).", paramLabel = "CLIP_SKIP")
    void clipSkip(String value) {
        set("clip_skip", value);
    }

    @Option(names = "--classifier-scale", description = "With --class: classifier guidance of this strength s instead of "
            + "classifier-free guidance, D + s*sigma^2*grad log p(class | x) (Dhariwal & Nichol 2021). Needs a classifier of noisy "
            + "samples: the analytic oracles (oracle:NAME) have an exact one, for which s = 1 samples the class exactly; image "
            + "models take one from 'diffuse train-classifier --noisy' via --classifier DIR.", paramLabel = "CLASSIFIER_SCALE")
    void classifierScale(String value) {
        set("classifier_scale", value);
    }

    @Option(names = "--classifier", description = "With --class and --classifier-scale: a classifier of noisy images from "
            + "'diffuse train-classifier --noisy' (directory or .safetensors) whose gradient steers any image model, conditional or not.", paramLabel = "CLASSIFIER")
    void classifier(String value) {
        set("classifier", value);
    }

    @Option(names = "--threshold", description = "Treatment of the denoised estimate x0: static (clip to "
            + "the training data's range), dynamic (Imagen's per-sample percentile thresholding; image models) or none "
            + "(default: static).", paramLabel = "THRESHOLD")
    void threshold(String value) {
        set("threshold", value);
    }

    @Option(names = "--threshold-percentile", description = "Percentile p of --threshold dynamic "
            + "(default: 0.995).", paramLabel = "THRESHOLD_PERCENTILE")
    void thresholdPercentile(String value) {
        set("threshold_percentile", value);
    }

    @Option(names = "--precision", description = "Arithmetic of the network's evaluations: fp32, or bf16 autocast (about 1.5x "
            + "faster on CPUs with AVX512-BF16 or AMX; the sampler's own arithmetic stays float32) (default: fp32).", paramLabel = "PRECISION")
    void precision(String value) {
        set("precision", value);
    }

    @Option(names = "--no-clip", description = "Same as --threshold none: do not clip denoised estimates to the training data's range.")
    void noClip(boolean on) {
        if (on) {
            set("threshold", "none");
        }
    }

    /**
     * The request for {@code model}: the generation {@code from} records (a PNG's text; null for none)
     * with the flags given on top, else the flags alone with {@value #DEFAULT_NUM} samples unless --num
     * says otherwise. Core checks it.
     */
    GenerationRequest request(String model, Map<String, String> from) {
        Map<String, String> all = new LinkedHashMap<>();
        if (from == null) {
            all.put("num", DEFAULT_NUM);
        } else {
            from.forEach((k, v) -> {
                if (GenerationRequest.Builder.FIELDS.contains(k) || k.equals("requested_steps")) {
                    all.put(k, v);
                }
            });
        }
        all.putAll(fields);
        if (fields.containsKey("steps")) {
            all.remove("requested_steps");
        }
        all.put("model", model);
        return GenerationRequest.fromMetadata(all, model);
    }
}
