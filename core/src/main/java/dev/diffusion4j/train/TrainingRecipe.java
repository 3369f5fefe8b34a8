package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.objective.LossType;
import dev.diffusion4j.objective.Weighting;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.tensor.Precision;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a model is trained — the data, the optimisation and the run's bookkeeping (the architecture
 * and noise schedule live in {@link dev.diffusion4j.model.ModelSpec}). Built from the defaults of
 * {@link #forVectors} or {@link #forImages}, changed by name and checked once in {@link Builder#build()}:
 *
 * <pre>{@code
 * TrainingRecipe recipe = TrainingRecipe.forVectors("moons").steps(8000).lr(2e-3).build();
 * }</pre>
 *
 * Stored as the {@code training} section of a checkpoint's config.json.
 */
public final class TrainingRecipe {
    /** p_uncond of Ho &amp; Salimans 2022's experiments. */
    public static final double DEFAULT_COND_DROPOUT = 0.1;
    private final String data;
    private final long seed;
    private final int steps;
    private final int batchSize;
    private final int gradAccumulation;
    private final double lr;
    private final int warmupSteps;
    private final double minLrRatio;
    private final double weightDecay;
    private final double gradClip;
    private final double emaDecay;
    private final Prediction prediction;
    private final LossType loss;
    private final Weighting weighting;
    private final double snrGamma;
    private final int checkpointEvery;
    private final int keepCheckpoints;
    private final int imageSize;
    private final int channels;
    private final Boolean flip;
    private final Precision precision;
    private final int sampleEvery;
    private final double condDropout;
    private final String labelColumn;
    private final String latent;
    private final String textEncoder;

    private TrainingRecipe(Builder b) {
        this.data = b.data;
        this.seed = b.seed;
        this.steps = b.steps;
        this.batchSize = b.batchSize;
        this.gradAccumulation = b.gradAccumulation;
        this.lr = b.lr;
        this.warmupSteps = b.warmupSteps;
        this.minLrRatio = b.minLrRatio;
        this.weightDecay = b.weightDecay;
        this.gradClip = b.gradClip;
        this.emaDecay = b.emaDecay;
        this.prediction = b.prediction;
        this.loss = b.loss;
        this.weighting = b.weighting;
        this.snrGamma = b.snrGamma;
        this.checkpointEvery = b.checkpointEvery;
        this.keepCheckpoints = b.keepCheckpoints;
        this.imageSize = b.imageSize;
        this.channels = b.channels;
        this.flip = b.flip;
        this.precision = b.precision;
        this.sampleEvery = b.sampleEvery;
        this.condDropout = b.condDropout;
        this.labelColumn = b.labelColumn;
        this.latent = b.latent;
        this.textEncoder = b.textEncoder;
    }

    /**
     * The defaults for vector data (built-in 2D sets, CSV tables): 4,000 steps of 256 at lr 1e-3
     * after 200 warm-up steps, EMA 0.999, ε-prediction with L2 — measured to reach the 2D quality bar
     * within a minute on two cores (README).
     */
    public static Builder forVectors(String data) {
        return new Builder(data);
    }

    /**
     * The defaults for image data: batch 64, 6,000 steps, lr 1e-3 after 200 warm-up steps, EMA
     * 0.999, a checkpoint and a preview every 1,000 steps (the 15-minute Fashion-MNIST budget of README),
     * at the {@linkplain Precision#fastest() faster precision} of this machine.
     */
    public static Builder forImages(String data) {
        return new Builder(data).steps(6000).batchSize(64).checkpointEvery(1000).sampleEvery(1000).precision(Precision.fastest());
    }

    /** A builder holding this recipe's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The data set: a built-in name, a CSV file, an image folder or file (see DataSources). */
    public String data() {
        return data;
    }

    /** Seed of every random stream of the run (initialisation, data, noise, labels). */
    public long seed() {
        return seed;
    }

    /** Optimizer steps. */
    public int steps() {
        return steps;
    }

    /** Samples per micro-batch. */
    public int batchSize() {
        return batchSize;
    }

    /** Micro-batches summed per optimizer step. */
    public int gradAccumulation() {
        return gradAccumulation;
    }

    /** Peak learning rate (AdamW). */
    public double lr() {
        return lr;
    }

    /** Linear warm-up length, then cosine decay to {@code lr·minLrRatio}. */
    public int warmupSteps() {
        return warmupSteps;
    }

    /** Final learning rate as a fraction of the peak. */
    public double minLrRatio() {
        return minLrRatio;
    }

    /** Decoupled weight decay. */
    public double weightDecay() {
        return weightDecay;
    }

    /** Maximum global gradient L2 norm; 0 disables clipping. */
    public double gradClip() {
        return gradClip;
    }

    /** EMA decay; 0 disables the EMA (samples then use the raw weights). */
    public double emaDecay() {
        return emaDecay;
    }

    /** What the network predicts (ε, x₀ or v). */
    public Prediction prediction() {
        return prediction;
    }

    /** The loss between prediction and target. */
    public LossType loss() {
        return loss;
    }

    /** Per-timestep loss weighting. */
    public Weighting weighting() {
        return weighting;
    }

    /** Γ of the min-SNR weighting. */
    public double snrGamma() {
        return snrGamma;
    }

    /** Steps between checkpoints (the last step always writes one). */
    public int checkpointEvery() {
        return checkpointEvery;
    }

    /** Newest checkpoints kept in the run directory. */
    public int keepCheckpoints() {
        return keepCheckpoints;
    }

    /** Image data: side length images are resized and cropped to; 0 keeps the data's own size. */
    public int imageSize() {
        return imageSize;
    }

    /** Image data: 1 (grayscale) or 3 (RGB); 0 keeps the data's own. */
    public int channels() {
        return channels;
    }

    /** Image data: random horizontal flips; null means the data set's default. */
    public Boolean flip() {
        return flip;
    }

    /** Arithmetic of the forward and backward passes. */
    public Precision precision() {
        return precision;
    }

    /** Image models: steps between previews ({@link TrainListener#onPreview}); 0 disables. */
    public int sampleEvery() {
        return sampleEvery;
    }

    /** Conditional models: probability p_uncond that a condition is replaced by the null one, so one network learns both p(x | y) and p(x) (Ho &amp; Salimans 2022). */
    public double condDropout() {
        return condDropout;
    }

    /** CSV data: the column (name or index) holding each row's class label; null for none. */
    public String labelColumn() {
        return labelColumn;
    }

    /**
     * Latent diffusion: the autoencoder whose latents the model learns — a {@code train-vae} run
     * directory or a diffusers {@code vae/} folder, as the user gave it; null for a model of the data itself.
     */
    public String latent() {
        return latent;
    }

    /**
     * A text-conditioned model's text encoder taken from this CLIP model ({@code train-clip}) and kept
     * frozen — the folder as the user gave it; null for a text encoder trained with the U-Net.
     */
    public String textEncoder() {
        return textEncoder;
    }

    /** The {@code training} section of config.json. */
    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", data);
        m.put("seed", seed);
        m.put("steps", steps);
        m.put("batch_size", batchSize);
        m.put("gradient_accumulation_steps", gradAccumulation);
        m.put("learning_rate", lr);
        m.put("lr_warmup_steps", warmupSteps);
        m.put("min_lr_ratio", minLrRatio);
        m.put("weight_decay", weightDecay);
        m.put("max_grad_norm", gradClip);
        m.put("ema_decay", emaDecay);
        m.put("prediction_type", prediction.configName());
        m.put("loss", loss.configName());
        m.put("weighting", weighting.configName());
        m.put("snr_gamma", snrGamma);
        m.put("checkpoint_every", checkpointEvery);
        m.put("keep_checkpoints", keepCheckpoints);
        m.put("image_size", imageSize);
        m.put("channels", channels);
        m.put("flip", flip);
        m.put("precision", precision.configName());
        m.put("sample_every", sampleEvery);
        m.put("cond_dropout", condDropout);
        if (labelColumn != null) {
            m.put("label_column", labelColumn);
        }
        if (latent != null) {
            m.put("latent", latent);
        }
        if (textEncoder != null) {
            m.put("text_encoder", textEncoder);
        }
        return m;
    }

    /** Reads a {@code training} section; keys added since the first format fall back to their defaults. */
    public static TrainingRecipe fromConfig(Map<String, Object> m) {
        try {
            return new Builder((String) m.get("data"))
                    .seed(num(m, "seed").longValue())
                    .steps(num(m, "steps").intValue())
                    .batchSize(num(m, "batch_size").intValue())
                    .gradAccumulation(num(m, "gradient_accumulation_steps").intValue())
                    .lr(num(m, "learning_rate").doubleValue())
                    .warmupSteps(num(m, "lr_warmup_steps").intValue())
                    .minLrRatio(num(m, "min_lr_ratio").doubleValue())
                    .weightDecay(num(m, "weight_decay").doubleValue())
                    .gradClip(num(m, "max_grad_norm").doubleValue())
                    .emaDecay(num(m, "ema_decay").doubleValue())
                    .prediction(Prediction.parse((String) m.get("prediction_type")))
                    .loss(LossType.parse((String) m.get("loss")))
                    .weighting(Weighting.parse((String) m.get("weighting")))
                    .snrGamma(num(m, "snr_gamma").doubleValue())
                    .checkpointEvery(num(m, "checkpoint_every").intValue())
                    .keepCheckpoints(num(m, "keep_checkpoints").intValue())
                    .imageSize(((Number) m.getOrDefault("image_size", 0)).intValue())
                    .channels(((Number) m.getOrDefault("channels", 0)).intValue())
                    .flip((Boolean) m.get("flip"))
                    .precision(Precision.parse((String) m.getOrDefault("precision", "fp32")))
                    .sampleEvery(((Number) m.getOrDefault("sample_every", 0)).intValue())
                    .condDropout(((Number) m.getOrDefault("cond_dropout", DEFAULT_COND_DROPOUT)).doubleValue())
                    .labelColumn((String) m.get("label_column"))
                    .latent((String) m.get("latent"))
                    .textEncoder((String) m.get("text_encoder"))
                    .build();
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException("config.json training section is malformed: " + e.getMessage());
        }
    }

    private static Number num(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Number)) {
            throw new DiffusionException("config.json training section lacks a numeric '" + key + "'");
        }
        return (Number) v;
    }

    /** A recipe under construction; every setter returns the builder. */
    public static final class Builder {
        private String data;
        private long seed = 0;
        private int steps = 4000;
        private int batchSize = 256;
        private int gradAccumulation = 1;
        private double lr = 1e-3;
        private int warmupSteps = 200;
        private double minLrRatio = 0.0;
        private double weightDecay = 0.0;
        private double gradClip = 1.0;
        private double emaDecay = 0.999;
        private Prediction prediction = Prediction.EPSILON;
        private LossType loss = LossType.L2;
        private Weighting weighting = Weighting.NONE;
        private double snrGamma = Weighting.DEFAULT_GAMMA;
        private int checkpointEvery = 2000;
        private int keepCheckpoints = 2;
        private int imageSize = 0;
        private int channels = 0;
        private Boolean flip;
        private Precision precision = Precision.FP32;
        private int sampleEvery = 0;
        private double condDropout = DEFAULT_COND_DROPOUT;
        private String labelColumn;
        private String latent;
        private String textEncoder;

        private Builder(String data) {
            this.data = data;
        }

        private Builder(TrainingRecipe r) {
            data = r.data;
            seed = r.seed;
            steps = r.steps;
            batchSize = r.batchSize;
            gradAccumulation = r.gradAccumulation;
            lr = r.lr;
            warmupSteps = r.warmupSteps;
            minLrRatio = r.minLrRatio;
            weightDecay = r.weightDecay;
            gradClip = r.gradClip;
            emaDecay = r.emaDecay;
            prediction = r.prediction;
            loss = r.loss;
            weighting = r.weighting;
            snrGamma = r.snrGamma;
            checkpointEvery = r.checkpointEvery;
            keepCheckpoints = r.keepCheckpoints;
            imageSize = r.imageSize;
            channels = r.channels;
            flip = r.flip;
            precision = r.precision;
            sampleEvery = r.sampleEvery;
            condDropout = r.condDropout;
            labelColumn = r.labelColumn;
            latent = r.latent;
            textEncoder = r.textEncoder;
        }

        public Builder data(String v) {
            data = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder steps(int v) {
            steps = v;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder gradAccumulation(int v) {
            gradAccumulation = v;
            return this;
        }

        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder warmupSteps(int v) {
            warmupSteps = v;
            return this;
        }

        public Builder minLrRatio(double v) {
            minLrRatio = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public Builder gradClip(double v) {
            gradClip = v;
            return this;
        }

        public Builder emaDecay(double v) {
            emaDecay = v;
            return this;
        }

        public Builder prediction(Prediction v) {
            prediction = v;
            return this;
        }

        public Builder loss(LossType v) {
            loss = v;
            return this;
        }

        public Builder weighting(Weighting v) {
            weighting = v;
            return this;
        }

        public Builder snrGamma(double v) {
            snrGamma = v;
            return this;
        }

        public Builder checkpointEvery(int v) {
            checkpointEvery = v;
            return this;
        }

        public Builder keepCheckpoints(int v) {
            keepCheckpoints = v;
            return this;
        }

        public Builder imageSize(int v) {
            imageSize = v;
            return this;
        }

        public Builder channels(int v) {
            channels = v;
            return this;
        }

        public Builder flip(Boolean v) {
            flip = v;
            return this;
        }

        public Builder precision(Precision v) {
            precision = v;
            return this;
        }

        public Builder sampleEvery(int v) {
            sampleEvery = v;
            return this;
        }

        public Builder condDropout(double v) {
            condDropout = v;
            return this;
        }

        public Builder labelColumn(String v) {
            labelColumn = v;
            return this;
        }

        /** Learn the latents of this autoencoder (a {@code train-vae} run or a diffusers {@code vae/} folder) instead of the images. */
        public Builder latent(String v) {
            latent = v;
            return this;
        }

        /** Take the text encoder of this CLIP model ({@code train-clip}) and keep it frozen. */
        public Builder textEncoder(String v) {
            textEncoder = v;
            return this;
        }

        /** The recipe, after checking every value; messages name the config key. */
        public TrainingRecipe build() {
            require(data != null && !data.isBlank(), "data is required (a built-in name, a CSV file or an image folder)");
            require(steps >= 1, "steps must be at least 1, got " + steps);
            require(batchSize >= 1, "batch_size must be at least 1, got " + batchSize);
            require(gradAccumulation >= 1, "gradient_accumulation_steps must be at least 1, got " + gradAccumulation);
            require(lr > 0 && Double.isFinite(lr), "learning_rate must be positive, got " + lr);
            require(warmupSteps >= 0, "lr_warmup_steps must be ≥ 0, got " + warmupSteps);
            require(minLrRatio >= 0 && minLrRatio <= 1, "min_lr_ratio must be in [0, 1], got " + minLrRatio);
            require(weightDecay >= 0, "weight_decay must be ≥ 0, got " + weightDecay);
            require(gradClip >= 0, "max_grad_norm must be ≥ 0 (0 disables clipping), got " + gradClip);
            require(emaDecay >= 0 && emaDecay < 1, "ema_decay must be in [0, 1), got " + emaDecay);
            require(prediction != null && loss != null && weighting != null && precision != null,
                    "prediction_type, loss, weighting and precision are required");
            require(snrGamma > 0, "snr_gamma must be positive, got " + snrGamma);
            require(checkpointEvery >= 1, "checkpoint_every must be at least 1 step, got " + checkpointEvery);
            require(keepCheckpoints >= 1, "keep_checkpoints must be at least 1, got " + keepCheckpoints);
            require(imageSize == 0 || (imageSize >= 8 && imageSize <= 1024), "image_size must be between 8 and 1024 pixels, got " + imageSize);
            require(channels == 0 || channels == 1 || channels == 3, "channels must be 1 (grayscale) or 3 (RGB), got " + channels);
            require(sampleEvery >= 0, "sample_every must be ≥ 0 (0 disables), got " + sampleEvery);
            require(condDropout >= 0 && condDropout < 1, "cond_dropout must be in [0, 1), got " + condDropout);
            return new TrainingRecipe(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new DiffusionException(message);
            }
        }
    }
}
