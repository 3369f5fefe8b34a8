package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to rebuild a trained model for sampling: the network architecture, the noise
 * schedule it was trained on, what it predicts, the data normalisation to undo (null when the data
 * arrive at the network's scale, as images in [−1, 1] do), and the range of the normalised training
 * data (for clipping x̂₀; may be null), and for a latent diffusion model the autoencoder whose
 * latents it learnt (null otherwise). Stored as the {@code model}, {@code scheduler}, {@code data}
 * and {@code latent} sections of a checkpoint's config.json.
 */
public record ModelSpec(NetworkConfig network, NoiseSchedule schedule, Prediction prediction, Normalizer normalizer,
                        SampleRange sampleRange, LatentSpace latent) {
    /** A model of the data itself (no latent space). */
    public ModelSpec(NetworkConfig network, NoiseSchedule schedule, Prediction prediction, Normalizer normalizer,
                     SampleRange sampleRange) {
        this(network, schedule, prediction, normalizer, sampleRange, null);
    }

    /** Shape of one item the network denoises: [dim] for vectors, [C, H, W] for images and latents. */
    public long[] sampleShape() {
        return network != null ? network.sampleShape() : new long[] {normalizer.dim()};
    }

    /** Number of values in one data item. */
    public int dataDim() {
        return (int) Arrays.stream(sampleShape()).reduce(1, (a, b) -> a * b);
    }

    /** Shape of one generated item: the decoded image of a latent model, else {@link #sampleShape()}. */
    public long[] outputShape() {
        return latent != null ? latent.imageShape() : sampleShape();
    }

    /** True for latent diffusion models, whose samples an autoencoder decodes. */
    public boolean isLatent() {
        return latent != null;
    }

    /** True for models of [C, H, W] images (or of image latents). */
    public boolean isImage() {
        return sampleShape().length == 3;
    }

    /** Data → the network's scale (identity without a normalizer). */
    public Tensor normalize(Tensor x) {
        return normalizer == null ? x : normalizer.normalize(x);
    }

    /** The network's scale → data units (identity without a normalizer). */
    public Tensor denormalize(Tensor z) {
        return normalizer == null ? z : normalizer.denormalize(z);
    }

    /** A freshly initialised network of this architecture; gives the cores to the thread pool it runs best on. */
    public DenoisingNetwork buildNetwork(Generator g) {
        network.applyThreadPolicy();
        return network.build(g);
    }

    /** The sampler-facing view of {@code net}, which must have been built from this spec: D(x; σ) from its predictions. */
    public Denoiser denoiser(NoisePredictor net) {
        return new DiscreteDenoiser(net, schedule, prediction);
    }

    /** Config sections: {"model": ..., "scheduler": ..., "data": {"shape" | "dim", "normalizer", ...}}. */
    public Map<String, Object> toConfig() {
        Map<String, Object> scheduler = new LinkedHashMap<>(schedule.toConfig());
        scheduler.put("prediction_type", prediction.configName());
        Map<String, Object> data = new LinkedHashMap<>();
        if (isImage()) {
            data.put("shape", Arrays.stream(sampleShape()).boxed().toList());
        } else {
            data.put("dim", dataDim());
        }
        if (normalizer != null) {
            data.put("normalizer", normalizer.toMap());
        }
        if (sampleRange != null) {
            data.put("sample_range", sampleRange.toMap());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", network.toConfig());
        m.put("scheduler", scheduler);
        m.put("data", data);
        if (latent != null) {
            m.put("latent", latent.toMap());
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    public static ModelSpec fromConfig(Map<String, Object> config) {
        Object version = config.get("format_version");
        if (version instanceof Number v && v.intValue() > Checkpoint.FORMAT_VERSION) {
            throw new DiffusionException("config.json has format_version " + v + " but this diffusion4j reads up to "
                    + Checkpoint.FORMAT_VERSION + "; upgrade diffusion4j");
        }
        if (config.get("autoencoder") instanceof Map && !config.containsKey("model")) {
            throw new DiffusionException("this is an autoencoder run (train-vae), not a diffusion model: it encodes and decodes "
                    + "images and samples nothing");
        }
        Map<String, Object> model = section(config, "model");
        Map<String, Object> scheduler = section(config, "scheduler");
        Map<String, Object> data = section(config, "data");
        NetworkConfig net = NetworkConfig.fromConfig(model);
        Object pred = scheduler.get("prediction_type");
        if (!(pred instanceof String)) {
            throw new DiffusionException("config.json scheduler section lacks prediction_type");
        }
        boolean image = net.sampleShape().length == 3;
        if (image && data.get("shape") instanceof List<?> shape
                && !Arrays.equals(shape.stream().mapToLong(o -> ((Number) o).longValue()).toArray(), net.sampleShape())) {
            throw new DiffusionException("config.json is inconsistent: data shape " + shape + " but the model takes "
                    + Arrays.toString(net.sampleShape()));
        }
        Object norm = data.get("normalizer");
        Normalizer normalizer = null;
        if (norm instanceof Map) {
            normalizer = Normalizer.fromMap((Map<String, ?>) norm);
            if (normalizer.dim() != net.sampleNumel()) {
                throw new DiffusionException("config.json is inconsistent: normalizer has " + normalizer.dim()
                        + " dimensions but the model has " + net.sampleNumel());
            }
        } else if (!image) {
            throw new DiffusionException("config.json data section lacks the normalizer");
        }
        SampleRange range = data.get("sample_range") instanceof Map<?, ?> r ? SampleRange.fromMap(r) : null;
        if (range != null && !range.isUniform() && range.dim() != net.sampleNumel()) {
            throw new DiffusionException("config.json is inconsistent: sample range has " + range.dim()
                    + " dimensions but the model has " + net.sampleNumel());
        }
        LatentSpace latent = config.get("latent") instanceof Map<?, ?> l ? LatentSpace.fromMap(l) : null;
        return new ModelSpec(net, NoiseSchedule.fromConfig(scheduler), Prediction.parse((String) pred), normalizer, range, latent);
    }

    /** The named section of a config map; fails clearly if it is missing. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> section(Map<String, Object> config, String name) {
        Object s = config.get(name);
        if (!(s instanceof Map)) {
            throw new DiffusionException("config.json has no '" + name + "' section; is this a diffusion4j checkpoint?");
        }
        return (Map<String, Object>) s;
    }
}
