package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.objective.LossType;
import dev.diffusion4j.objective.Weighting;
import dev.diffusion4j.process.Prediction;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The optimisation settings of a training run (the architecture and noise schedule live in
 * {@link dev.diffusion4j.model.ModelSpec}). Defaults are the ones measured to reach the 2D quality
 * bar within a minute on two cores; see README.
 *
 * @param steps            optimizer steps
 * @param batchSize        samples per micro-batch
 * @param gradAccumulation micro-batches summed per optimizer step
 * @param lr               peak learning rate (AdamW)
 * @param warmupSteps      linear warm-up length, then cosine decay to {@code lr·minLrRatio}
 * @param minLrRatio       final learning rate as a fraction of the peak
 * @param weightDecay      decoupled weight decay
 * @param gradClip         maximum global gradient L2 norm; 0 disables clipping
 * @param emaDecay         EMA decay; 0 disables the EMA (samples then use the raw weights)
 * @param checkpointEvery  steps between checkpoints (the last step always writes one)
 * @param keepCheckpoints  newest checkpoints kept in the run directory
 * @param imageSize        image data: side length images are resized and cropped to; 0 keeps the data's own size
 * @param channels         image data: 1 (grayscale) or 3 (RGB); 0 keeps the data's own
 * @param flip             image data: random horizontal flips; null means the data set's default
 * @param precision        arithmetic of the forward and backward passes
 * @param sampleEvery      image models: steps between sample grids written to the run directory; 0 disables
 * @param condDropout      class-conditional models: probability p_uncond that a training label is replaced by the
 *                         null label, so one network learns both p(x | y) and p(x) (Ho &amp; Salimans 2022)
 * @param labelColumn      CSV data: the column (name or index) holding each row's class label; null for none
 */
public record TrainConfig(
        String data,
        long seed,
        int steps,
        int batchSize,
        int gradAccumulation,
        double lr,
        int warmupSteps,
        double minLrRatio,
        double weightDecay,
        double gradClip,
        double emaDecay,
        Prediction prediction,
        LossType loss,
        Weighting weighting,
        double snrGamma,
        int checkpointEvery,
        int keepCheckpoints,
        int imageSize,
        int channels,
        Boolean flip,
        Precision precision,
        int sampleEvery,
        double condDropout,
        String labelColumn) {

    /** p_uncond of Ho &amp; Salimans 2022's experiments. */
    public static final double DEFAULT_COND_DROPOUT = 0.1;

    /** Settings without a label column. */
    public TrainConfig(String data, long seed, int steps, int batchSize, int gradAccumulation, double lr, int warmupSteps,
                       double minLrRatio, double weightDecay, double gradClip, double emaDecay, Prediction prediction,
                       LossType loss, Weighting weighting, double snrGamma, int checkpointEvery, int keepCheckpoints,
                       int imageSize, int channels, Boolean flip, Precision precision, int sampleEvery, double condDropout) {
        this(data, seed, steps, batchSize, gradAccumulation, lr, warmupSteps, minLrRatio, weightDecay, gradClip, emaDecay,
                prediction, loss, weighting, snrGamma, checkpointEvery, keepCheckpoints, imageSize, channels, flip, precision,
                sampleEvery, condDropout, null);
    }

    /** Settings with the default condition dropout. */
    public TrainConfig(String data, long seed, int steps, int batchSize, int gradAccumulation, double lr, int warmupSteps,
                       double minLrRatio, double weightDecay, double gradClip, double emaDecay, Prediction prediction,
                       LossType loss, Weighting weighting, double snrGamma, int checkpointEvery, int keepCheckpoints,
                       int imageSize, int channels, Boolean flip, Precision precision, int sampleEvery) {
        this(data, seed, steps, batchSize, gradAccumulation, lr, warmupSteps, minLrRatio, weightDecay, gradClip, emaDecay,
                prediction, loss, weighting, snrGamma, checkpointEvery, keepCheckpoints, imageSize, channels, flip, precision,
                sampleEvery, DEFAULT_COND_DROPOUT);
    }

    /** Settings for vector data: no image options, float32, no sample grids. */
    public TrainConfig(String data, long seed, int steps, int batchSize, int gradAccumulation, double lr, int warmupSteps,
                       double minLrRatio, double weightDecay, double gradClip, double emaDecay, Prediction prediction,
                       LossType loss, Weighting weighting, double snrGamma, int checkpointEvery, int keepCheckpoints) {
        this(data, seed, steps, batchSize, gradAccumulation, lr, warmupSteps, minLrRatio, weightDecay, gradClip, emaDecay,
                prediction, loss, weighting, snrGamma, checkpointEvery, keepCheckpoints, 0, 0, null, Precision.FP32, 0);
    }

    public TrainConfig {
        require(data != null && !data.isBlank(), "a data set is required (a built-in name or a CSV file)");
        require(steps >= 1, "steps must be at least 1, got " + steps);
        require(batchSize >= 1, "batch size must be at least 1, got " + batchSize);
        require(gradAccumulation >= 1, "gradient accumulation must be at least 1, got " + gradAccumulation);
        require(lr > 0 && Double.isFinite(lr), "learning rate must be positive, got " + lr);
        require(warmupSteps >= 0, "warm-up steps must be ≥ 0, got " + warmupSteps);
        require(minLrRatio >= 0 && minLrRatio <= 1, "min-lr ratio must be in [0, 1], got " + minLrRatio);
        require(weightDecay >= 0, "weight decay must be ≥ 0, got " + weightDecay);
        require(gradClip >= 0, "gradient clip must be ≥ 0 (0 disables), got " + gradClip);
        require(emaDecay >= 0 && emaDecay < 1, "EMA decay must be in [0, 1), got " + emaDecay);
        require(snrGamma > 0, "min-SNR gamma must be positive, got " + snrGamma);
        require(checkpointEvery >= 1, "checkpoint interval must be at least 1 step, got " + checkpointEvery);
        require(keepCheckpoints >= 1, "keep at least 1 checkpoint, got " + keepCheckpoints);
        require(imageSize == 0 || (imageSize >= 8 && imageSize <= 1024), "image size must be between 8 and 1024 pixels, got " + imageSize);
        require(channels == 0 || channels == 1 || channels == 3, "channels must be 1 (grayscale) or 3 (RGB), got " + channels);
        require(precision != null, "a precision (fp32 or bf16) is required");
        require(sampleEvery >= 0, "sample interval must be ≥ 0 (0 disables), got " + sampleEvery);
        require(condDropout >= 0 && condDropout < 1, "condition dropout must be in [0, 1), got " + condDropout);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new DiffusionException(message);
        }
    }

    /** The defaults for {@code data}. */
    public static TrainConfig defaults(String data) {
        return new TrainConfig(data, 0, 4000, 256, 1, 1e-3, 200, 0.0, 0.0, 1.0, 0.999,
                Prediction.EPSILON, LossType.L2, Weighting.NONE, Weighting.DEFAULT_GAMMA, 2000, 2);
    }

    /**
     * The defaults for image data: batch 64, 6,000 steps, lr 1e-3 after 200 warm-up steps, EMA
     * 0.999, a checkpoint and a sample grid every 1,000 steps (the 15-minute Fashion-MNIST budget
     * of README).
     */
    public static TrainConfig imageDefaults(String data) {
        return new TrainConfig(data, 0, 6000, 64, 1, 1e-3, 200, 0.0, 0.0, 1.0, 0.999,
                Prediction.EPSILON, LossType.L2, Weighting.NONE, Weighting.DEFAULT_GAMMA, 1000, 2, 0, 0, null, Precision.FP32, 1000);
    }

    /** These settings with another learning rate, batch size and loss. */
    public TrainConfig withRecipe(double newLr, int newBatch, LossType newLoss) {
        return new TrainConfig(data, seed, steps, newBatch, gradAccumulation, newLr, warmupSteps, minLrRatio, weightDecay, gradClip,
                emaDecay, prediction, newLoss, weighting, snrGamma, checkpointEvery, keepCheckpoints, imageSize, channels, flip,
                precision, sampleEvery, condDropout, labelColumn);
    }

    public TrainConfig withSteps(int s) {
        return new TrainConfig(data, seed, s, batchSize, gradAccumulation, lr, warmupSteps, minLrRatio, weightDecay, gradClip,
                emaDecay, prediction, loss, weighting, snrGamma, checkpointEvery, keepCheckpoints, imageSize, channels, flip,
                precision, sampleEvery, condDropout, labelColumn);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(data, s, steps, batchSize, gradAccumulation, lr, warmupSteps, minLrRatio, weightDecay, gradClip,
                emaDecay, prediction, loss, weighting, snrGamma, checkpointEvery, keepCheckpoints, imageSize, channels, flip,
                precision, sampleEvery, condDropout, labelColumn);
    }

    public TrainConfig withCheckpointEvery(int every) {
        return new TrainConfig(data, seed, steps, batchSize, gradAccumulation, lr, warmupSteps, minLrRatio, weightDecay, gradClip,
                emaDecay, prediction, loss, weighting, snrGamma, every, keepCheckpoints, imageSize, channels, flip,
                precision, sampleEvery, condDropout, labelColumn);
    }

    /** These settings with the image-data options, precision and sample-grid interval. */
    public TrainConfig withImageOptions(int size, int ch, Boolean flipImages, Precision p, int gridEvery) {
        return new TrainConfig(data, seed, steps, batchSize, gradAccumulation, lr, warmupSteps, minLrRatio, weightDecay, gradClip,
                emaDecay, prediction, loss, weighting, snrGamma, checkpointEvery, keepCheckpoints, size, ch, flipImages, p, gridEvery, condDropout, labelColumn);
    }

    /** These settings with another condition-dropout probability. */
    public TrainConfig withCondDropout(double p) {
        return new TrainConfig(data, seed, steps, batchSize, gradAccumulation, lr, warmupSteps, minLrRatio, weightDecay, gradClip,
                emaDecay, prediction, loss, weighting, snrGamma, checkpointEvery, keepCheckpoints, imageSize, channels, flip,
                precision, sampleEvery, p, labelColumn);
    }

    /** These settings with CSV column {@code column} as the class label. */
    public TrainConfig withLabelColumn(String column) {
        return new TrainConfig(data, seed, steps, batchSize, gradAccumulation, lr, warmupSteps, minLrRatio, weightDecay, gradClip,
                emaDecay, prediction, loss, weighting, snrGamma, checkpointEvery, keepCheckpoints, imageSize, channels, flip,
                precision, sampleEvery, condDropout, column);
    }

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
        return m;
    }

    public static TrainConfig fromConfig(Map<String, Object> m) {
        try {
            return new TrainConfig(
                    (String) m.get("data"),
                    num(m, "seed").longValue(),
                    num(m, "steps").intValue(),
                    num(m, "batch_size").intValue(),
                    num(m, "gradient_accumulation_steps").intValue(),
                    num(m, "learning_rate").doubleValue(),
                    num(m, "lr_warmup_steps").intValue(),
                    num(m, "min_lr_ratio").doubleValue(),
                    num(m, "weight_decay").doubleValue(),
                    num(m, "max_grad_norm").doubleValue(),
                    num(m, "ema_decay").doubleValue(),
                    Prediction.parse((String) m.get("prediction_type")),
                    LossType.parse((String) m.get("loss")),
                    Weighting.parse((String) m.get("weighting")),
                    num(m, "snr_gamma").doubleValue(),
                    num(m, "checkpoint_every").intValue(),
                    num(m, "keep_checkpoints").intValue(),
                    ((Number) m.getOrDefault("image_size", 0)).intValue(),
                    ((Number) m.getOrDefault("channels", 0)).intValue(),
                    (Boolean) m.get("flip"),
                    Precision.parse((String) m.getOrDefault("precision", "fp32")),
                    ((Number) m.getOrDefault("sample_every", 0)).intValue(),
                    ((Number) m.getOrDefault("cond_dropout", DEFAULT_COND_DROPOUT)).doubleValue(),
                    (String) m.get("label_column"));
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
}
