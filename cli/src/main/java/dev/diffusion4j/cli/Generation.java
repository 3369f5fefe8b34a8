package dev.diffusion4j.cli;

import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.model.Normalizer;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.process.GaussianDiffusion;
import dev.diffusion4j.sampling.Sampler;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.SamplingListener;
import dev.diffusion4j.sampling.SamplingStep;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One sampling run from the CLI: progress bar, timing, NFE count and, on request, frames of the
 * reverse process for an animation.
 */
final class Generation {
    /** Frames kept for an animation (plus the final state). */
    static final int FRAMES = 48;
    /** Points drawn per animation frame. */
    static final int FRAME_POINTS = 2000;

    private final Tensor samples;
    private final double seconds;
    private final long evaluations;
    private final long seed;
    private final List<Frame> reverseFrames;

    /** Image samples shown in a denoising animation. */
    static final int FRAME_IMAGES = 8;

    /**
     * A recorded state with its caption: 2D points in data coordinates, or for image models the
     * noisy images x_t over their denoised estimates x̂₀ (in [−1, 1], the first {@link #FRAME_IMAGES}).
     */
    record Frame(float[] xy, Tensor images, Tensor denoised, String caption) {
        Frame(float[] xy, String caption) {
            this(xy, null, null, caption);
        }
    }

    private Generation(Tensor samples, double seconds, long evaluations, long seed, List<Frame> reverseFrames) {
        this.samples = samples;
        this.seconds = seconds;
        this.evaluations = evaluations;
        this.seed = seed;
        this.reverseFrames = reverseFrames;
    }

    static Generation run(DiffusionPipeline pipe, Sampler sampler, int n, long seed, boolean recordFrames) {
        List<Frame> frames = new ArrayList<>();
        NoiseSchedule schedule = pipe.spec().schedule();
        SamplingListener listener = new SamplingListener() {
            private ProgressBar progress;

            @Override
            public void onStep(SamplingStep step) {
                if (progress == null) {
                    progress = ProgressBar.console("sample", step.total());
                }
                progress.update(step.index() + 1, "");
                if (recordFrames && keepFrame(step.index(), step.total())) {
                    try (Scope s = Scope.open()) {
                        Tensor x = step.xVariancePreserving();
                        if (pipe.spec().isImage()) {
                            long k = Math.min(FRAME_IMAGES, x.size(0));
                            frames.add(new Frame(null, Scope.escape(x.narrow(0, 0, k).clone()),
                                    Scope.escape(step.denoised().narrow(0, 0, k).clone()), caption(schedule, step.sigma())));
                        } else {
                            Tensor head = x.narrow(0, 0, Math.min(FRAME_POINTS, x.size(0)));
                            frames.add(new Frame(Plots.firstTwo(pipe.spec().denormalize(head)), caption(schedule, step.sigma())));
                        }
                    }
                }
                if (step.index() + 1 == step.total()) {
                    progress.finish(String.format(Locale.ROOT, "%d steps", step.total()));
                }
            }
        };
        long before = pipe.evaluations();
        long t0 = System.nanoTime();
        Tensor out = pipe.sample(n, sampler, seed, listener);
        double secs = (System.nanoTime() - t0) / 1e9;
        return new Generation(out, secs, pipe.evaluations() - before, seed, frames);
    }

    private static boolean keepFrame(int index, int total) {
        if (index == total - 1) {
            return true;
        }
        int stride = Math.max(1, total / FRAMES);
        // Denser at the end, where the structure appears: keep every step of the last few too.
        return index % stride == 0 || index >= total - Math.min(8, total / 10);
    }

    static String caption(NoiseSchedule schedule, double sigma) {
        if (sigma == 0) {
            return "REVERSE   t = 0   clean sample";
        }
        double alphaBar = 1 / (1 + sigma * sigma);
        double t;
        try (Scope s = Scope.open()) {
            t = schedule.sigmaToT(Tensor.full(sigma, 1)).item();
        }
        return String.format(Locale.ROOT, "REVERSE   t = %d / %d   ᾱ = %.3f", Math.round(t), schedule.numTimesteps(), alphaBar);
    }

    Tensor samples() {
        return samples;
    }

    double seconds() {
        return seconds;
    }

    long evaluations() {
        return evaluations;
    }

    /** Generation parameters, embedded as PNG text metadata. */
    Map<String, String> parameters(String samplerName, SamplerOptions options) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("Software", "diffusion4j " + Version.VERSION);
        m.put("sampler", samplerName);
        m.put("steps", Integer.toString(options.steps()));
        if (!Double.isNaN(options.eta())) {
            m.put("eta", Double.toString(options.eta()));
        }
        m.put("sigma_schedule", options.sigmaSchedule().configName());
        if (!Double.isNaN(options.rho())) {
            m.put("rho", Double.toString(options.rho()));
        }
        m.put("spacing", options.spacing().configName());
        if (options.churn().sChurn() > 0) {
            m.put("s_churn", Double.toString(options.churn().sChurn()));
            m.put("s_tmin", Double.toString(options.churn().sTmin()));
            m.put("s_tmax", Double.toString(options.churn().sTmax()));
        }
        if (options.sNoise() != 1) {
            m.put("s_noise", Double.toString(options.sNoise()));
        }
        if (options.order() > 0) {
            m.put("order", Integer.toString(options.order()));
        }
        if (!options.variant().isEmpty()) {
            m.put("variant", options.variant());
        }
        SamplerOptions d = SamplerOptions.DEFAULTS;
        if (samplerName.equals("sde_euler") || samplerName.equals("pc") || options.sde() != d.sde()) {
            m.put("sde", options.sde().configName());
        }
        if (options.predictor() != d.predictor()) {
            m.put("predictor", options.predictor().configName());
        }
        if (options.snr() != d.snr()) {
            m.put("snr", Double.toString(options.snr()));
        }
        if (options.correctorSteps() != d.correctorSteps()) {
            m.put("corrector_steps", Integer.toString(options.correctorSteps()));
        }
        if (!Double.isNaN(options.langevinEpsilon())) {
            m.put("langevin_eps", Double.toString(options.langevinEpsilon()));
        }
        if (options.levelSteps() > 0) {
            m.put("level_steps", Integer.toString(options.levelSteps()));
        }
        if (!options.denoiseFinal()) {
            m.put("final_denoise", "false");
        }
        if (!Double.isNaN(options.rtol())) {
            m.put("rtol", Double.toString(options.rtol()));
        }
        if (!Double.isNaN(options.atol())) {
            m.put("atol", Double.toString(options.atol()));
        }
        m.put("seed", Long.toString(seed));
        m.put("model_evaluations", Long.toString(evaluations));
        return m;
    }

    /** Column names for a CSV of samples: the training CSV's header when there was one, else x0, x1, .... */
    static String[] header(DiffusionPipeline pipe) {
        int d = pipe.dataDim();
        Optional<DataSource> src = trainingData(pipe);
        if (src.isPresent() && src.get() instanceof dev.diffusion4j.data.CsvDataset csv) {
            return csv.columnNames().toArray(new String[0]);
        }
        String[] h = new String[d];
        for (int i = 0; i < d; i++) {
            h[i] = "x" + i;
        }
        return h;
    }

    /** The training data set, when it can still be opened (built-in name, or the CSV file still exists). */
    static Optional<DataSource> trainingData(DiffusionPipeline pipe) {
        Object data = pipe.config().get("data");
        if (data instanceof Map<?, ?> m && m.get("source") instanceof String) {
            Object training = pipe.config().get("training");
            try {
                if (training instanceof Map<?, ?> t && t.get("data") instanceof String) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> settings = (Map<String, Object>) t;
                    // as the run opened it: a CSV label column is not a data column
                    return Optional.of(dev.diffusion4j.train.Trainer.openData(dev.diffusion4j.train.TrainingRecipe.fromConfig(settings)));
                }
                return Optional.of(DataSources.open((String) m.get("source")));
            } catch (dev.diffusion4j.DiffusionException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Up to {@code n} points of the training data for plot backgrounds, or null if unavailable. */
    static Tensor referenceData(DiffusionPipeline pipe, int n) {
        Optional<DataSource> src = trainingData(pipe);
        if (src.isEmpty()) {
            return null;
        }
        return src.get().sample(new Generator(12345), n);
    }

    /** Writes the animation: optionally the forward noising of real data, then the recorded reverse process. */
    void writeAnimation(DiffusionPipeline pipe, Path gif, boolean withForward) {
        if (pipe.spec().isImage()) {
            ImageOutputs.denoisingAnimation(reverseFrames, gif);
            return;
        }
        List<Frame> all = new ArrayList<>();
        Tensor reference = referenceData(pipe, FRAME_POINTS);
        if (withForward && reference != null) {
            all.addAll(forwardFrames(pipe, reference));
        }
        all.addAll(reverseFrames);
        Plots.animation(all, reference, gif);
    }

    /** q(x_t | x₀) of real data at evenly spaced t, with one fixed noise draw so points move smoothly. */
    private static List<Frame> forwardFrames(DiffusionPipeline pipe, Tensor data) {
        NoiseSchedule schedule = pipe.spec().schedule();
        GaussianDiffusion diffusion = new GaussianDiffusion(schedule);
        Normalizer norm = pipe.spec().normalizer();
        int total = schedule.numTimesteps();
        List<Frame> frames = new ArrayList<>();
        try (Scope s = Scope.open()) {
            Tensor x0 = norm.normalize(data);
            Tensor noise = Tensor.randn(new Generator(7), x0.shape());
            frames.add(new Frame(Plots.firstTwo(data), "CLEAN DATA   t = 0"));
            for (int i = 1; i <= FRAMES / 2; i++) {
                int t = (int) Math.round((double) i / (FRAMES / 2) * (total - 1));
                Tensor tIndex = Tensor.full(dev.diffusion4j.tensor.DType.INT64, t, x0.size(0));
                Tensor xt = diffusion.qSample(x0, tIndex, noise);
                frames.add(new Frame(Plots.firstTwo(norm.denormalize(xt)), String.format(Locale.ROOT,
                        "FORWARD   t = %d / %d   ᾱ = %.3f", t, total, schedule.alphaBar(t))));
            }
        }
        return frames;
    }
}
