package dev.diffusion4j.pipeline;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.process.ReverseVariance;
import dev.diffusion4j.process.Sde;
import dev.diffusion4j.sampling.PredictorCorrectorSampler;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.schedule.TimestepSpacing;
import dev.diffusion4j.tensor.Precision;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Everything one generation needs, as one value: the model, what to generate (class or prompt, a
 * negative), how to steer (classifier-free or classifier guidance, thresholding), how to sample
 * (sampler and its options, steps and σ schedule), and seed, size and count. The Java API, the CLI
 * and the studio all build one of these and hand it to {@link DiffusionPipeline#generate}; the
 * checks that need no model run in {@link Builder#build()}, the rest when the pipeline resolves it,
 * and every message names the request's field.
 *
 * <pre>{@code
 * GenerationRequest r = GenerationRequest.builder().model("runs/fmc").label("Sneaker").guidance(3)
 *         .sampler("dpmpp_2m").steps(20).count(16).seed(7).build();
 * }</pre>
 */
public final class GenerationRequest {
    /** The sampler used when a request names none: DPM-Solver++(2M) SDE, the best measured on images (README). */
    public static final String DEFAULT_SAMPLER = "dpmpp_2m_sde";
    /** The classifier-free guidance weight used when a class or prompt is given without one. */
    public static final double DEFAULT_GUIDANCE = 3.0;
    /** Imagen's percentile for dynamic thresholding. */
    public static final double DEFAULT_THRESHOLD_PERCENTILE = 0.995;

    /** Which weights of a checkpoint to sample with. */
    public enum Weights {
        /** The exponential moving average of the weights, when the run kept one (the default). */
        EMA,
        /** The raw weights of the last optimizer step. */
        RAW
    }

    /** What happens to each denoised estimate x̂₀ before the sampler uses it. */
    public enum Threshold {
        /** Clip to the range of the training data (images: [−1, 1]); the default. */
        STATIC,
        /** Imagen's per-sample percentile thresholding (image models). */
        DYNAMIC,
        /** Leave x̂₀ as the network gives it. */
        NONE;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Threshold parse(String name) {
            for (Threshold t : values()) {
                if (t.configName().equalsIgnoreCase(name.strip())) {
                    return t;
                }
            }
            throw new DiffusionException("unknown threshold '" + name + "'; use static, dynamic or none");
        }
    }

    private final String model;
    private final Weights weights;
    private final int count;
    private final long seed;
    private final int height;
    private final int width;
    private final String label;
    private final String prompt;
    private final String negative;
    private final double guidance;
    private final double guidanceLow;
    private final double guidanceHigh;
    private final double cfgRescale;
    private final int clipSkip;
    private final List<LoraWeight> loras;
    private final double classifierScale;
    private final Path classifier;
    private final Threshold threshold;
    private final double thresholdPercentile;
    private final String sampler;
    private final SamplerOptions samplerOptions;
    private final GridSpec grid;
    private final Precision precision;

    private GenerationRequest(Builder b) {
        this.model = b.model;
        this.weights = b.weights;
        this.count = b.count;
        this.seed = b.seed;
        this.height = b.height;
        this.width = b.width;
        this.label = b.label;
        this.prompt = b.prompt;
        this.negative = b.negative;
        this.guidance = b.guidance;
        this.guidanceLow = b.guidanceLow;
        this.guidanceHigh = b.guidanceHigh;
        this.cfgRescale = b.cfgRescale;
        this.clipSkip = b.clipSkip;
        this.loras = List.copyOf(b.loras);
        this.classifierScale = b.classifierScale;
        this.classifier = b.classifier;
        this.threshold = b.threshold;
        this.thresholdPercentile = b.thresholdPercentile;
        this.sampler = b.sampler;
        this.samplerOptions = b.samplerOptions;
        this.grid = b.grid;
        this.precision = b.precision;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The request that reproduces a generation from its metadata — a PNG's text, a {@code --json}
     * line, a studio answer: every field it records is set again (the seed, the class or prompt, the
     * guidance, the sampler with its options and grid); what only describes the run (timings, hashes,
     * the σ range) is left out. {@code model} names the model to open, null to keep the map's.
     */
    public static GenerationRequest fromMetadata(Map<String, String> metadata, String model) {
        Builder b = builder();
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (Builder.FIELDS.contains(e.getKey())) {
                b.set(e.getKey(), e.getValue());
            }
        }
        // the steps asked for, where the run took another number (a budget, error control, the sampler's default)
        if (metadata.containsKey("requested_steps")) {
            b.set("steps", metadata.get("requested_steps"));
        }
        if (model != null) {
            b.model(model);
        }
        return b.build();
    }

    /** A builder holding this request's values, to derive another request from it. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A run or checkpoint directory, or {@code oracle:SPEC} for the analytic oracle; null when the pipeline is given. */
    public String model() {
        return model;
    }

    public Weights weights() {
        return weights;
    }

    /** How many samples. */
    public int count() {
        return count;
    }

    public long seed() {
        return seed;
    }

    /** Image height in pixels; 0 means the model's own. */
    public int height() {
        return height;
    }

    /** Image width in pixels; 0 means the model's own. */
    public int width() {
        return width;
    }

    /** The class to generate, by the name the training data gave it or by index; null for none. */
    public String label() {
        return label;
    }

    /** The prompt of a text-conditioned model; null for none. */
    public String prompt() {
        return prompt;
    }

    /** What to steer away from: a class (with {@link #label}) or a negative prompt (with {@link #prompt}); null for none. */
    public String negative() {
        return negative;
    }

    /** Whether a class or a prompt is asked for. */
    public boolean conditioned() {
        return label != null || prompt != null;
    }

    /** Whether classifier guidance (rather than classifier-free guidance) steers this request. */
    public boolean classifierGuided() {
        return !Double.isNaN(classifierScale);
    }

    /** The classifier-free guidance weight w: the one asked for, {@value #DEFAULT_GUIDANCE} for a conditioned request, else NaN. */
    public double guidance() {
        if (!Double.isNaN(guidance)) {
            return guidance;
        }
        return conditioned() && !classifierGuided() ? DEFAULT_GUIDANCE : Double.NaN;
    }

    /** Guidance applies at σ ≥ this … */
    public double guidanceLow() {
        return guidanceLow;
    }

    /** … and σ ≤ this. */
    public double guidanceHigh() {
        return guidanceHigh;
    }

    /** CFG rescale φ in [0, 1]; 0 is plain guidance. */
    public double cfgRescale() {
        return cfgRescale;
    }

    /**
     * "Clip skip": prompts are read from the text encoder's state this many layers before its last
     * (then final-normalised), as users of Stable Diffusion 1.x checkpoints tuned on it ask; 0 reads
     * the last. Applies to the prompt and the negative prompt alike.
     */
    public int clipSkip() {
        return clipSkip;
    }

    /** A LoRA file merged into the model's weights for this generation, at {@code multiplier} (1: as trained). */
    public record LoraWeight(Path file, double multiplier) {
        /** The text form: FILE, or FILE:MULTIPLIER. */
        @Override
        public String toString() {
            return file + ":" + multiplier;
        }
    }

    /** The LoRA files merged for this generation (Stable Diffusion pipelines), in order; empty for none. */
    public List<LoraWeight> loras() {
        return loras;
    }

    /** Classifier guidance strength s; NaN when classifier guidance is off. */
    public double classifierScale() {
        return classifierScale;
    }

    /** A classifier of noisy images for classifier guidance; null means the model's exact one (the oracle's). */
    public Path classifier() {
        return classifier;
    }

    public Threshold threshold() {
        return threshold;
    }

    public double thresholdPercentile() {
        return thresholdPercentile;
    }

    public String sampler() {
        return sampler;
    }

    public SamplerOptions samplerOptions() {
        return samplerOptions;
    }

    public GridSpec grid() {
        return grid;
    }

    /** The arithmetic of the network's evaluations: FP32, or BF16 autocast (about 1.5x faster on CPUs with bf16 units). */
    public Precision precision() {
        return precision;
    }

    /** A request under construction; {@link #build()} checks it. Every setter returns the builder. */
    public static final class Builder {
        private String model;
        private Weights weights = Weights.EMA;
        private int count = 1;
        private long seed;
        private int height;
        private int width;
        private String label;
        private String prompt;
        private String negative;
        private double guidance = Double.NaN;
        private double guidanceLow = 0;
        private double guidanceHigh = Double.POSITIVE_INFINITY;
        private double cfgRescale;
        private int clipSkip;
        private List<LoraWeight> loras = new ArrayList<>();
        private double classifierScale = Double.NaN;
        private Path classifier;
        private Threshold threshold = Threshold.STATIC;
        private double thresholdPercentile = DEFAULT_THRESHOLD_PERCENTILE;
        private String sampler = DEFAULT_SAMPLER;
        private SamplerOptions samplerOptions = SamplerOptions.DEFAULTS;
        private GridSpec grid = GridSpec.DEFAULT;
        private Precision precision = Precision.FP32;

        private Builder() {
        }

        private Builder(GenerationRequest r) {
            model = r.model;
            weights = r.weights;
            count = r.count;
            seed = r.seed;
            height = r.height;
            width = r.width;
            label = r.label;
            prompt = r.prompt;
            negative = r.negative;
            guidance = r.guidance;
            guidanceLow = r.guidanceLow;
            guidanceHigh = r.guidanceHigh;
            cfgRescale = r.cfgRescale;
            clipSkip = r.clipSkip;
            loras = new ArrayList<>(r.loras);
            classifierScale = r.classifierScale;
            classifier = r.classifier;
            threshold = r.threshold;
            thresholdPercentile = r.thresholdPercentile;
            sampler = r.sampler;
            samplerOptions = r.samplerOptions;
            grid = r.grid;
            precision = r.precision;
        }

        public Builder model(String v) {
            model = v;
            return this;
        }

        public Builder weights(Weights v) {
            weights = Objects.requireNonNull(v, "weights");
            return this;
        }

        public Builder count(int v) {
            count = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /** Image size in pixels (0, 0: the model's own). */
        public Builder size(int h, int w) {
            height = h;
            width = w;
            return this;
        }

        public Builder label(String v) {
            label = blankToNull(v);
            return this;
        }

        public Builder prompt(String v) {
            prompt = v;
            return this;
        }

        public Builder negative(String v) {
            negative = v;
            return this;
        }

        public Builder guidance(double v) {
            guidance = v;
            return this;
        }

        public Builder guidanceInterval(double low, double high) {
            guidanceLow = low;
            guidanceHigh = high;
            return this;
        }

        /** Adds a LoRA file merged at {@code multiplier} for the generation. */
        public Builder lora(Path file, double multiplier) {
            loras.add(new LoraWeight(Objects.requireNonNull(file, "file"), multiplier));
            return this;
        }

        public Builder clipSkip(int v) {
            clipSkip = v;
            return this;
        }

        public Builder cfgRescale(double v) {
            cfgRescale = v;
            return this;
        }

        public Builder classifierScale(double v) {
            classifierScale = v;
            return this;
        }

        public Builder classifier(Path v) {
            classifier = v;
            return this;
        }

        public Builder threshold(Threshold v) {
            threshold = Objects.requireNonNull(v, "threshold");
            return this;
        }

        public Builder thresholdPercentile(double v) {
            thresholdPercentile = v;
            return this;
        }

        public Builder sampler(String v) {
            sampler = v;
            return this;
        }

        public Builder samplerOptions(SamplerOptions v) {
            samplerOptions = Objects.requireNonNull(v, "samplerOptions");
            return this;
        }

        public Builder grid(GridSpec v) {
            grid = Objects.requireNonNull(v, "grid");
            return this;
        }

        public Builder precision(Precision v) {
            precision = Objects.requireNonNull(v, "precision");
            return this;
        }

        /** The grid's step count (0: the sampler's default). */
        public Builder steps(int v) {
            grid = grid.withSteps(v);
            return this;
        }

        /**
         * The fields {@link #set} knows, named as the metadata names them (and the CLI's flags, with
         * dashes, and the studio's JSON).
         */
        public static final List<String> FIELDS = List.of("model", "weights", "num", "seed", "size", "class", "prompt", "negative",
                "guidance", "guidance_interval", "cfg_rescale", "clip_skip", "lora", "classifier_scale", "classifier", "threshold", "threshold_percentile",
                "sampler", "steps", "sigma_schedule", "rho", "spacing", "eta", "variance", "s_churn", "s_tmin", "s_tmax", "s_noise",
                "order", "variant", "sde", "predictor", "snr", "corrector_steps", "langevin_eps", "level_steps", "final_denoise", "rtol",
                "atol", "precision");

        /**
         * Sets field {@code name} (one of {@link #FIELDS}) from its text form, as a PNG's metadata, a
         * command line or a JSON request gives it; a malformed value or an unknown field is an error
         * that names it. One entry point for every adapter: a new field needs a case here and nothing
         * in them.
         */
        public Builder set(String name, String value) {
            String v = value.strip();
            switch (name) {
                case "model" -> model(v);
                case "weights" -> weights(switch (v.toLowerCase(Locale.ROOT)) {
                    case "ema" -> Weights.EMA;
                    case "raw" -> Weights.RAW;
                    default -> throw new DiffusionException("weights must be ema or raw, got '" + value + "'");
                });
                case "num" -> count(integer(name, v));
                case "seed" -> seed(longValue(name, v));
                case "size" -> {
                    String[] hw = v.toLowerCase(Locale.ROOT).split("x");
                    require(hw.length == 2, "size takes HEIGHTxWIDTH in pixels, e.g. 32x32; got '" + value + "'");
                    size(integer(name, hw[0]), integer(name, hw[1]));
                }
                case "class" -> label(v);
                case "prompt" -> prompt(value);
                case "negative" -> negative(value);
                case "guidance" -> guidance(number(name, v));
                case "guidance_interval" -> {
                    String[] lh = v.split(",");
                    require(lh.length == 2, "guidance_interval takes two noise levels LOW,HIGH; got '" + value + "'");
                    guidanceInterval(number(name, lh[0]), number(name, lh[1]));
                }
                case "cfg_rescale" -> cfgRescale(number(name, v));
                case "clip_skip" -> clipSkip(integer(name, v));
                case "lora" -> {
                    loras = new ArrayList<>();
                    for (String entry : v.split(";")) {
                        int colon = entry.lastIndexOf(':');
                        boolean weighted = colon > 0 && entry.substring(colon + 1).strip().matches("[+-]?[0-9.]+([eE][+-]?[0-9]+)?");
                        lora(Path.of(weighted ? entry.substring(0, colon).strip() : entry.strip()),
                                weighted ? number(name, entry.substring(colon + 1)) : 1.0);
                    }
                }
                case "classifier_scale" -> classifierScale(number(name, v));
                case "classifier" -> classifier(v.equals("exact") ? null : Path.of(v));
                case "threshold" -> threshold(Threshold.parse(v));
                case "threshold_percentile" -> thresholdPercentile(number(name, v));
                case "sampler" -> sampler(v);
                case "precision" -> precision(Precision.parse(v));
                case "steps" -> steps(integer(name, v));
                case "sigma_schedule" -> grid(grid.withSchedule(SigmaSchedule.parse(v)));
                case "rho" -> grid(grid.withRho(number(name, v)));
                case "spacing" -> grid(grid.withSpacing(TimestepSpacing.parse(v)));
                case "eta" -> samplerOptions(samplerOptions.withEta(number(name, v)));
                case "variance" -> samplerOptions(samplerOptions.withVariance(ReverseVariance.parse(v)));
                case "s_churn" -> samplerOptions(samplerOptions.withChurn(new SamplerOptions.Churn(number(name, v),
                        samplerOptions.churn().sTmin(), samplerOptions.churn().sTmax())));
                case "s_tmin" -> samplerOptions(samplerOptions.withChurn(new SamplerOptions.Churn(samplerOptions.churn().sChurn(),
                        number(name, v), samplerOptions.churn().sTmax())));
                case "s_tmax" -> samplerOptions(samplerOptions.withChurn(new SamplerOptions.Churn(samplerOptions.churn().sChurn(),
                        samplerOptions.churn().sTmin(), number(name, v))));
                case "s_noise" -> samplerOptions(samplerOptions.withSNoise(number(name, v)));
                case "order" -> samplerOptions(samplerOptions.withOrder(integer(name, v)));
                case "variant" -> samplerOptions(samplerOptions.withVariant(v));
                case "sde" -> samplerOptions(samplerOptions.withSde(Sde.parse(v)));
                case "predictor" -> samplerOptions(samplerOptions.withPredictor(PredictorCorrectorSampler.Predictor.parse(v)));
                case "snr" -> samplerOptions(samplerOptions.withSnr(number(name, v)));
                case "corrector_steps" -> samplerOptions(samplerOptions.withCorrectorSteps(integer(name, v)));
                case "langevin_eps" -> samplerOptions(samplerOptions.withLangevinEpsilon(number(name, v)));
                case "level_steps" -> samplerOptions(samplerOptions.withLevelSteps(integer(name, v)));
                case "final_denoise" -> samplerOptions(samplerOptions.withDenoiseFinal(bool(name, v)));
                case "rtol" -> samplerOptions(samplerOptions.withRtol(number(name, v)));
                case "atol" -> samplerOptions(samplerOptions.withAtol(number(name, v)));
                default -> throw new DiffusionException("unknown request field '" + name + "'; the fields are " + String.join(", ", FIELDS));
            }
            return this;
        }

        private static int integer(String name, String v) {
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new DiffusionException(name + " must be a whole number, got '" + v + "'");
            }
        }

        private static long longValue(String name, String v) {
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new DiffusionException(name + " must be a whole number, got '" + v + "'");
            }
        }

        private static double number(String name, String v) {
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new DiffusionException(name + " must be a number, got '" + v + "'");
            }
        }

        private static boolean bool(String name, String v) {
            return switch (v.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new DiffusionException(name + " must be true or false, got '" + v + "'");
            };
        }

        /** The request, after the checks that need no model. */
        public GenerationRequest build() {
            require(count >= 1, "num must be at least 1, got " + count);
            require((height == 0) == (width == 0), "size needs both a height and a width, got " + height + "x" + width);
            require(height >= 0 && width >= 0, "size must be positive, got " + height + "x" + width);
            require(sampler != null && !sampler.isBlank(), "sampler must be named (see the sampler list)");
            require(label == null || prompt == null, "give a class (class-conditional models) or a prompt (text-conditioned models), not both");
            boolean conditioned = label != null || prompt != null;
            boolean cfgSet = !Double.isNaN(guidance) || negative != null || guidanceLow != 0
                    || guidanceHigh != Double.POSITIVE_INFINITY || cfgRescale != 0;
            boolean classifierSet = !Double.isNaN(classifierScale);
            require(conditioned || !(cfgSet || classifierSet), "guidance, negative, guidance_interval, cfg_rescale and "
                    + "classifier_scale steer towards a class or a prompt: give a class or a prompt");
            require(!(classifierSet && prompt != null), "classifier_scale steers towards a class; a prompt is followed with guidance");
            require(!(classifierSet && cfgSet), "classifier_scale is classifier guidance; guidance, negative, guidance_interval and "
                    + "cfg_rescale are classifier-free guidance: choose one");
            require(classifier == null || classifierSet, "a classifier steers by classifier guidance: give classifier_scale too");
            require(Double.isNaN(guidance) || (guidance >= 0 && Double.isFinite(guidance)), "guidance must be a number ≥ 0, got " + guidance);
            require(Double.isNaN(classifierScale) || (classifierScale >= 0 && Double.isFinite(classifierScale)),
                    "classifier_scale must be a number ≥ 0, got " + classifierScale);
            require(guidanceLow >= 0 && guidanceHigh >= guidanceLow, "guidance_interval needs 0 ≤ low ≤ high, got ["
                    + guidanceLow + ", " + guidanceHigh + "]");
            require(cfgRescale >= 0 && cfgRescale <= 1, "cfg_rescale must be in [0, 1], got " + cfgRescale);
            require(clipSkip >= 0, "clip_skip must be 0 (the text encoder's last layer) or more, got " + clipSkip);
            for (LoraWeight l : loras) {
                require(Double.isFinite(l.multiplier()), "lora " + l.file() + " needs a finite multiplier, got " + l.multiplier());
            }
            require(clipSkip == 0 || prompt != null, "clip_skip changes how a prompt is read: give a prompt");
            require(thresholdPercentile > 0 && thresholdPercentile <= 1, "threshold_percentile must be in (0, 1], got " + thresholdPercentile);
            return new GenerationRequest(this);
        }

        private static String blankToNull(String s) {
            return s == null || s.isBlank() ? null : s.strip();
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new DiffusionException(message);
            }
        }
    }
}
