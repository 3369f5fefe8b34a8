package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.guidance.ClassifierFreeGuidance;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.data.CsvDataset;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.sampling.PredictorCorrectorSampler;
import dev.diffusion4j.sampling.Sampler;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.process.Sde;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.schedule.TimestepSpacing;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Generates samples from a trained model into a CSV file or a scatter plot, optionally with an animation. */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate samples from a trained model.",
                "2D/vector models: --out FILE.csv writes the points; --out FILE.png draws them over the training data. "
                        + "Image models: --out FILE.png writes a grid of the samples (generation parameters in its PNG text), "
                        + "--images DIR one PNG per sample. "
                        + "--trajectory FILE.gif animates the reverse process (with --forward: noising first, then denoising)."})
final class SampleCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true,
            description = "Run or checkpoint directory written by 'diffuse train', or oracle:NAME|FILE.json: the exact denoiser of a "
                    + "Gaussian mixture (8gaussians, 25gaussians, or a mixture file), no training needed.")
    String model;

    @Option(names = "--num", defaultValue = "2000", description = "Number of samples (default: ${DEFAULT-VALUE}).")
    int num;

    @Option(names = "--sampler", defaultValue = "ddpm", description = "Sampler (see 'diffuse samplers'; default: ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--steps", defaultValue = "0", description = "Sampling steps (default: the sampler's own; ddpm uses every training step; "
            + "annealed_langevin: noise levels; dpm_fast: model evaluations; dpm_adaptive takes none).")
    int steps;

    @Option(names = "--eta", description = "Stochasticity in [0, 1]: DDIM's eta (default 0), the share of fresh noise of the "
            + "ancestral and SDE samplers (default 1).")
    Double eta;

    @Option(names = "--sigma-schedule", defaultValue = "default",
            description = "Noise levels: default (the sampler's choice: the model's grid for most; uniform in SDE time for sde_euler "
                    + "and pc, in flow time for flow_*, geometric for annealed_langevin and dpm_fast), model (the model's training grid, "
                    + "picked by --spacing), karras, exponential, polyexponential (default: ${DEFAULT-VALUE}; dpm_adaptive takes none).")
    String sigmaSchedule;

    @Option(names = "--rho", description = "rho of the karras (default 7) or polyexponential (default 1) schedule.")
    Double rho;

    @Option(names = "--spacing", defaultValue = "trailing", description = "Timestep spacing: leading, trailing, linspace (default: ${DEFAULT-VALUE}).")
    String spacing;

    @Option(names = "--s-churn", defaultValue = "0", description = "Karras churn S_churn for euler, heun, dpm2 (default: ${DEFAULT-VALUE}, off).")
    double sChurn;

    @Option(names = "--s-tmin", defaultValue = "0", description = "Churn only at noise levels ≥ S_tmin (default: ${DEFAULT-VALUE}).")
    double sTmin;

    @Option(names = "--s-tmax", defaultValue = "Infinity", description = "Churn only at noise levels ≤ S_tmax (default: no limit).")
    double sTmax;

    @Option(names = "--s-noise", defaultValue = "1", description = "S_noise: scale of the fresh noise of churn and of the ancestral and SDE samplers (default: ${DEFAULT-VALUE}).")
    double sNoise;

    @Option(names = "--order", defaultValue = "0", description = "Order of lms (1-4, default 4), deis, dpm_solver, dpm_solver_singlestep "
            + "(1-3, default 3), unipc (1-3, default 2) and dpm_adaptive (2 or 3, default 3).")
    int order;

    @Option(names = "--variant", defaultValue = "", description = "unipc's B(h): bh1 (h) or bh2 (e^h - 1, the default).")
    String variant;

    @Option(names = "--sde", defaultValue = "vp", description = "Score SDE of sde_euler and pc: vp, ve or subvp (Song et al. 2021; default: ${DEFAULT-VALUE}).")
    String sde;

    @Option(names = "--predictor", defaultValue = "reverse_diffusion",
            description = "Predictor of pc: reverse_diffusion or euler_maruyama (default: ${DEFAULT-VALUE}).")
    String predictor;

    @Option(names = "--snr", defaultValue = "0.16", description = "Signal-to-noise ratio of pc's Langevin corrector step rule (default: ${DEFAULT-VALUE}).")
    double snr;

    @Option(names = "--corrector-steps", defaultValue = "1", description = "Langevin corrector steps per noise level of pc (default: ${DEFAULT-VALUE}).")
    int correctorSteps;

    @Option(names = "--langevin-eps", description = "epsilon of annealed_langevin: step eps*sigma_i^2/sigma_L^2 at level i "
            + "(default: 2e-5*(sigma_min/0.01)^2).")
    Double langevinEps;

    @Option(names = "--level-steps", defaultValue = "0", description = "Langevin steps per noise level of annealed_langevin (default: 100); "
            + "--steps sets its number of levels (default: 10).")
    int levelSteps;

    @Option(names = "--no-final-denoise", description = "End on the state at the lowest positive noise level instead of the denoised estimate "
            + "(drops the grid's final step to sigma = 0; annealed_langevin keeps its last level's Langevin steps).")
    boolean noFinalDenoise;

    @Option(names = "--rtol", description = "Relative tolerance of rk45 (default 1e-5) and dpm_adaptive (default 0.05).")
    Double rtol;

    @Option(names = "--atol", description = "Absolute tolerance of rk45 (default 1e-5) and dpm_adaptive (default 0.0078).")
    Double atol;

    @Option(names = "--variance", defaultValue = "fixed_small", description = "DDPM variance: fixed_small (β̃), fixed_large (β) or learned_range (the model's own, for models trained "
            + "with --variance learned_range; interpolates the β and β̃ of each step of the, possibly respaced, grid) (default: ${DEFAULT-VALUE}).")
    String variance;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "Output FILE.csv (points) or FILE.png (scatter plot; for image models a grid).")
    Path out;

    @Option(names = "--images", description = "Image models: also write every sample as DIR/sample-NNNNN.png.")
    Path imagesDir;

    @Option(names = "--grid-cols", defaultValue = "0", description = "Image models: columns of the grid (default: square).")
    int gridCols;

    @Option(names = "--trajectory", description = "Also write an animated GIF of the process.")
    Path trajectory;

    @Option(names = "--forward", description = "Start the animation with the forward (noising) process.")
    boolean forward;

    @Option(names = "--raw-weights", description = "Use the raw weights instead of the EMA weights.")
    boolean rawWeights;

    @Option(names = "--no-clip", description = "Do not clip denoised estimates to the training data's range.")
    boolean noClip;

    @Option(names = "--class", description = "Class-conditional models: the class to generate, by index (0-based) or by the name "
            + "the training data gave it (e.g. Sneaker, or an image folder's sub-folder name).")
    String classLabel;

    @Option(names = "--prompt", description = "Text-conditioned models (trained with --text): what to generate, e.g. "
            + "\"a photo of a dark sneaker\". Prompts longer than the model's context (77 tokens with start and end) are cut, "
            + "with a warning.")
    String prompt;

    @Option(names = "--guidance", defaultValue = "3.0", description = "With --class: classifier-free guidance weight w; 0 is the "
            + "unconditional model, 1 the conditional one, larger w trades diversity for fidelity (default: ${DEFAULT-VALUE}).")
    double guidance;

    @Option(names = "--classifier-scale", description = "With --class: classifier guidance of this strength s instead of "
            + "classifier-free guidance, D + s*sigma^2*grad log p(class | x) (Dhariwal & Nichol 2021). Needs a classifier of noisy "
            + "samples: the analytic oracles (oracle:NAME) have an exact one, for which s = 1 samples the class exactly; image "
            + "models take one from 'diffuse train-classifier --noisy' via --classifier DIR.")
    Double classifierScale;

    @Option(names = "--classifier", description = "With --class and --classifier-scale: a classifier of noisy images from "
            + "'diffuse train-classifier --noisy' (directory or .safetensors) whose gradient steers any image model, conditional or not.")
    Path classifierPath;

    @Option(names = "--negative", description = "With --class: a class (index or name) to steer away from instead of the "
            + "unconditional model; with --prompt: a negative prompt.")
    String negative;

    @Option(names = "--guidance-interval", split = ",", description = "With --class: guide only at noise levels sigma in "
            + "LOW,HIGH (e.g. 0.3,5); elsewhere the conditional model alone runs (default: every level).")
    double[] guidanceInterval;

    @Option(names = "--cfg-rescale", defaultValue = "0", description = "With --class: CFG rescale phi in [0, 1] against "
            + "over-saturation at large w (default: ${DEFAULT-VALUE}, off).")
    double cfgRescale;

    @Option(names = "--threshold", defaultValue = "static", description = "Treatment of the denoised estimate x0: static (clip to "
            + "the training data's range), dynamic (Imagen's per-sample percentile thresholding; image models) or none "
            + "(default: ${DEFAULT-VALUE}).")
    String threshold;

    @Option(names = "--threshold-percentile", defaultValue = "0.995", description = "Percentile p of --threshold dynamic "
            + "(default: ${DEFAULT-VALUE}).")
    double thresholdPercentile;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    /** The pipeline with the guidance and thresholding options applied; clear errors for options that do not fit the model. */
    private DiffusionPipeline guided(DiffusionPipeline pipe, double dynamicPercentile) {
        var parse = spec.commandLine().getParseResult();
        boolean guidanceOptions = parse.hasMatchedOption("--guidance") || negative != null || guidanceInterval != null
                || parse.hasMatchedOption("--cfg-rescale");
        if (classLabel != null && prompt != null) {
            throw new DiffusionException("choose --class (class-conditional models) or --prompt (text-conditioned models), not both");
        }
        if (classLabel == null && prompt == null) {
            if (guidanceOptions || classifierScale != null) {
                throw new DiffusionException("--guidance, --classifier-scale, --negative, --guidance-interval and --cfg-rescale steer "
                        + "towards a class or a prompt: add --class K or --prompt TEXT");
            }
            return dynamicPercentile > 0 ? pipe.withGuidance(null, dynamicPercentile) : pipe;
        }
        if (prompt != null && classifierScale != null) {
            throw new DiffusionException("--classifier-scale steers towards a class; a prompt is followed with --guidance W");
        }
        if (classifierScale != null) {
            if (guidanceOptions) {
                throw new DiffusionException("--classifier-scale is classifier guidance; --guidance, --negative, --guidance-interval and "
                        + "--cfg-rescale are classifier-free guidance: choose one");
            }
            if (classifierPath == null && !pipe.hasExactClassifier()) {
                throw new DiffusionException("classifier guidance of " + pipe.name() + " needs a classifier of noisy samples: train one "
                        + "with 'diffuse train-classifier --noisy' and pass it with --classifier DIR");
            }
            if (classifierPath == null) {
                return pipe.withClassifierGuidance(pipe.classIndex(classLabel), classifierScale).withGuidance(null, dynamicPercentile);
            }
            ImageClassifier classifier = ImageClassifier.load(classifierPath);
            long[] shape = pipe.spec().sampleShape();
            if (!classifier.config().noisy()) {
                throw new DiffusionException(classifierPath + " was trained on clean images; classifier guidance needs one trained with "
                        + "'diffuse train-classifier --noisy'");
            }
            if (shape.length != 3 || !classifier.config().inputShape().equals(shape[0] + "x" + shape[1] + "x" + shape[2])) {
                throw new DiffusionException("the classifier reads " + classifier.config().inputShape() + " images but " + pipe.name()
                        + " makes " + (shape.length == 3 ? shape[0] + "x" + shape[1] + "x" + shape[2] + " images" : "vectors"));
            }
            return pipe.withClassifierGuidance(classifier, classifierClass(classifier, classLabel), classifierScale, dynamicPercentile);
        }
        if (classifierPath != null) {
            throw new DiffusionException("--classifier steers by classifier guidance: add --classifier-scale S");
        }
        if (classLabel != null && pipe.numClasses() == 0) {
            throw new DiffusionException(pipe.name() + " is not class-conditional, so --class cannot steer it; "
                    + (pipe.contextLength() > 0 ? "it is text-conditioned: give --prompt TEXT" : "train one with --conditional"));
        }
        if (guidanceInterval != null && guidanceInterval.length != 2) {
            throw new DiffusionException("--guidance-interval takes two noise levels LOW,HIGH, got " + guidanceInterval.length + " values");
        }
        double low = guidanceInterval == null ? 0 : guidanceInterval[0];
        double high = guidanceInterval == null ? Double.POSITIVE_INFINITY : guidanceInterval[1];
        Condition positive = prompt != null ? promptCondition(pipe, prompt, "prompt") : Condition.ofClass(pipe.classIndex(classLabel));
        Condition against = negative == null ? null
                : prompt != null ? promptCondition(pipe, negative, "negative prompt") : Condition.ofClass(pipe.classIndex(negative));
        return pipe.withGuidance(new ClassifierFreeGuidance.Options(positive, against, guidance, low, high, cfgRescale), dynamicPercentile);
    }

    /** A class of the classifier by index or (case-insensitive) name. */
    private static int classifierClass(ImageClassifier c, String name) {
        List<String> names = c.config().classNames();
        String n = name.strip();
        int k = -1;
        if (n.matches("\\d+")) {
            k = Integer.parseInt(n);
        } else {
            for (int i = 0; i < names.size(); i++) {
                if (names.get(i).equalsIgnoreCase(n)) {
                    k = i;
                }
            }
        }
        if (k < 0 || k >= names.size()) {
            throw new DiffusionException("unknown class '" + name + "': the classifier knows " + String.join(", ", names)
                    + " (or indices 0 to " + (names.size() - 1) + ")");
        }
        return k;
    }

    /** The prompt's token ids, with a warning when it is longer than the model reads. */
    private Condition promptCondition(DiffusionPipeline pipe, String text, String what) {
        ClipTokenizer.Encoding e = pipe.encodePrompt(text);
        if (e.truncated()) {
            String kept = ClipTokenizer.clip().decode(e);
            spec.commandLine().getErr().println("warning: the " + what + " is longer than the model's context of " + pipe.contextLength()
                    + " tokens (with start and end) and was cut to: \"" + kept + "\"");
        }
        return Condition.ofTokens(e.ids());
    }

    @Override
    public Integer call() {
        String ext = extension(out);
        if (!ext.equals("csv") && !ext.equals("png")) {
            throw new DiffusionException("--out must end in .csv or .png, got " + out);
        }
        if (trajectory != null && !extension(trajectory).equals("gif")) {
            throw new DiffusionException("--trajectory must end in .gif, got " + trajectory);
        }
        if (num < 1) {
            throw new DiffusionException("--num must be at least 1");
        }
        PrintWriter pw = spec.commandLine().getOut();
        SamplerOptions options = SamplerOptions.DEFAULTS.withSteps(steps)
                .withEta(eta == null ? Double.NaN : eta)
                .withSpacing(TimestepSpacing.parse(spacing))
                .withVariance(ReverseVariance.parse(variance))
                .withSigmaSchedule(SigmaSchedule.parse(sigmaSchedule))
                .withRho(rho == null ? Double.NaN : rho)
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
        Sampler s = Samplers.create(sampler, options);
        String thresholding = threshold.toLowerCase(java.util.Locale.ROOT);
        if (!List.of("static", "dynamic", "none").contains(thresholding)) {
            throw new DiffusionException("unknown --threshold '" + threshold + "'; use static, dynamic or none");
        }
        DiffusionPipeline pipe = DiffusionPipeline.open(model, !rawWeights, !noClip && thresholding.equals("static"));
        pipe = guided(pipe, thresholding.equals("dynamic") ? thresholdPercentile : 0);
        boolean image = pipe.spec().isImage();
        if (image && !ext.equals("png")) {
            throw new DiffusionException(pipe.name() + " is an image model: --out must be a .png grid (and --images DIR for single files)");
        }
        if (!image && imagesDir != null) {
            throw new DiffusionException("--images is for image models; " + pipe.name() + " generates vectors (use --out FILE.csv)");
        }
        Generation gen = Generation.run(pipe, s, num, seed, trajectory != null);
        try (Scope scope = Scope.open()) {
            Tensor samples = gen.samples();
            Map<String, String> params = gen.parameters(sampler, options);
            params.put("model", pipe.name());
            if (classLabel != null || prompt != null) {
                params.put(prompt != null ? "prompt" : "class", prompt != null ? prompt : classLabel);
                params.put("guidance", Double.toString(guidance));
                if (negative != null) {
                    params.put("negative", negative);
                }
                if (classifierScale != null) {
                    params.put("classifier_scale", Double.toString(classifierScale));
                    params.remove("guidance");
                }
                if (cfgRescale > 0) {
                    params.put("cfg_rescale", Double.toString(cfgRescale));
                }
            }
            params.put("threshold", thresholding);
            if (image) {
                ImageOutputs.grid(samples, gridCols, out, params);
                if (imagesDir != null) {
                    ImageOutputs.individual(samples, imagesDir, params);
                }
            } else if (ext.equals("csv")) {
                CsvDataset.write(out, samples, Generation.header(pipe));
            } else {
                Plots.scatter(samples, Generation.referenceData(pipe, 2000), out, "samples — " + pipe.name(),
                        params);
            }
            if (trajectory != null) {
                gen.writeAnimation(pipe, trajectory, forward);
            }
            pw.printf(Locale.ROOT, "%d samples in %.2f s (%s, %d model evaluations) -> %s%n", num, gen.seconds(), sampler, gen.evaluations(), out);
            if (trajectory != null) {
                pw.println("animation: " + trajectory);
            }
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("samples", num);
                m.put("seconds", gen.seconds());
                m.put("samples_per_second", num / gen.seconds());
                m.put("model_evaluations", gen.evaluations());
                m.put("sampler", sampler);
                m.put("out", out.toString());
                if (trajectory != null) {
                    m.put("trajectory", trajectory.toString());
                }
                JsonLine.print(pw, m);
            }
        }
        pw.flush();
        return 0;
    }

    static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
