package dev.diffusion4j.pipeline;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.schedule.GridSpec;
import java.nio.file.Path;
import java.util.Locale;
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
    private final double classifierScale;
    private final Path classifier;
    private final Threshold threshold;
    private final double thresholdPercentile;
    private final String sampler;
    private final SamplerOptions samplerOptions;
    private final GridSpec grid;

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
        this.classifierScale = b.classifierScale;
        this.classifier = b.classifier;
        this.threshold = b.threshold;
        this.thresholdPercentile = b.thresholdPercentile;
        this.sampler = b.sampler;
        this.samplerOptions = b.samplerOptions;
        this.grid = b.grid;
    }

    public static Builder builder() {
        return new Builder();
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
        private double classifierScale = Double.NaN;
        private Path classifier;
        private Threshold threshold = Threshold.STATIC;
        private double thresholdPercentile = DEFAULT_THRESHOLD_PERCENTILE;
        private String sampler = DEFAULT_SAMPLER;
        private SamplerOptions samplerOptions = SamplerOptions.DEFAULTS;
        private GridSpec grid = GridSpec.DEFAULT;

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
            classifierScale = r.classifierScale;
            classifier = r.classifier;
            threshold = r.threshold;
            thresholdPercentile = r.thresholdPercentile;
            sampler = r.sampler;
            samplerOptions = r.samplerOptions;
            grid = r.grid;
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

        /** The grid's step count (0: the sampler's default). */
        public Builder steps(int v) {
            grid = grid.withSteps(v);
            return this;
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
