package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.tensor.Generator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Shape of an {@link MlpNetwork}: data dimension, width, number of residual blocks, timestep
 * embedding size, activation, input Fourier features and whether it learns its reverse-step
 * variance ({@code variance_type}; a missing key, as in checkpoints written before it existed,
 * means {@link VarianceType#FIXED}) and how many classes it is conditioned on ({@code num_classes},
 * 0 for an unconditional network; a conditional one also has a learned null label, index
 * {@code num_classes}). Serialised into a checkpoint's config.json.
 */
public record MlpConfig(int dataDim, int hiddenDim, int numBlocks, int timeEmbeddingDim, Activation activation,
                        int fourierFeatures, double fourierScale, VarianceType varianceType, int numClasses) implements NetworkConfig {
    public static final String TYPE = "mlp";

    /** An unconditional network. */
    public MlpConfig(int dataDim, int hiddenDim, int numBlocks, int timeEmbeddingDim, Activation activation,
                     int fourierFeatures, double fourierScale, VarianceType varianceType) {
        this(dataDim, hiddenDim, numBlocks, timeEmbeddingDim, activation, fourierFeatures, fourierScale, varianceType, 0);
    }

    /** A network with a fixed variance. */
    public MlpConfig(int dataDim, int hiddenDim, int numBlocks, int timeEmbeddingDim, Activation activation,
                     int fourierFeatures, double fourierScale) {
        this(dataDim, hiddenDim, numBlocks, timeEmbeddingDim, activation, fourierFeatures, fourierScale, VarianceType.FIXED);
    }

    public MlpConfig {
        if (varianceType == null) {
            varianceType = VarianceType.FIXED;
        }
        if (dataDim < 1) {
            throw new DiffusionException("data dimension must be at least 1, got " + dataDim);
        }
        if (hiddenDim < 1 || numBlocks < 0) {
            throw new DiffusionException("MLP needs hidden_dim ≥ 1 and num_blocks ≥ 0");
        }
        if (timeEmbeddingDim < 4 || timeEmbeddingDim % 2 != 0) {
            throw new DiffusionException("time_embedding_dim must be even and ≥ 4, got " + timeEmbeddingDim);
        }
        if (fourierFeatures < 0 || (fourierFeatures > 0 && !(fourierScale > 0))) {
            throw new DiffusionException("fourier_features must be ≥ 0 with a positive fourier_scale");
        }
        if (numClasses < 0) {
            throw new DiffusionException("num_classes must be ≥ 0 (0 for an unconditional network), got " + numClasses);
        }
    }

    /** The defaults for low-dimensional data (measured on the built-in 2D sets). */
    public static MlpConfig defaults(int dataDim) {
        return new MlpConfig(dataDim, 128, 4, 64, Activation.SILU, 32, 1.0);
    }

    /** This architecture with the given variance head. */
    public MlpConfig withVarianceType(VarianceType v) {
        return new MlpConfig(dataDim, hiddenDim, numBlocks, timeEmbeddingDim, activation, fourierFeatures, fourierScale, v, numClasses);
    }

    /** This architecture conditioned on {@code classes} class labels (0: unconditional). */
    public MlpConfig withNumClasses(int classes) {
        return new MlpConfig(dataDim, hiddenDim, numBlocks, timeEmbeddingDim, activation, fourierFeatures, fourierScale, varianceType, classes);
    }

    /** Output channels: the prediction, plus as many variance values for a learned variance. */
    public int outputDim() {
        return varianceType == VarianceType.LEARNED_RANGE ? 2 * dataDim : dataDim;
    }

    @Override
    public String modelType() {
        return TYPE;
    }

    @Override
    public NetworkConfig withClasses(int classes) {
        return withNumClasses(classes);
    }

    @Override
    public NetworkConfig withText() {
        throw new DiffusionException("text conditioning is for image models; 2D data takes class labels");
    }

    @Override
    public long[] sampleShape() {
        return new long[] {dataDim};
    }

    @Override
    public MlpNetwork build(Generator g) {
        return new MlpNetwork(this, g);
    }

    @Override
    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", TYPE);
        m.put("data_dim", dataDim);
        m.put("hidden_dim", hiddenDim);
        m.put("num_blocks", numBlocks);
        m.put("time_embedding_dim", timeEmbeddingDim);
        m.put("act_fn", activation.configName());
        m.put("fourier_features", fourierFeatures);
        m.put("fourier_scale", fourierScale);
        m.put("variance_type", varianceType.configName());
        m.put("num_classes", numClasses);
        return m;
    }

    public static MlpConfig fromConfig(Map<String, Object> m) {
        try {
            return new MlpConfig(
                    ((Number) m.get("data_dim")).intValue(),
                    ((Number) m.get("hidden_dim")).intValue(),
                    ((Number) m.get("num_blocks")).intValue(),
                    ((Number) m.get("time_embedding_dim")).intValue(),
                    Activation.parse((String) m.get("act_fn")),
                    ((Number) m.getOrDefault("fourier_features", 0)).intValue(),
                    ((Number) m.getOrDefault("fourier_scale", 1.0)).doubleValue(),
                    VarianceType.parse((String) m.getOrDefault("variance_type", VarianceType.FIXED.configName())),
                    ((Number) m.getOrDefault("num_classes", 0)).intValue());
        } catch (NullPointerException | ClassCastException e) {
            throw new DiffusionException("model config is missing or has a malformed MLP field (need data_dim, hidden_dim, num_blocks, time_embedding_dim, act_fn): " + m);
        }
    }
}
