package dev.diffusion4j.pipeline;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.data.Normalizer;
import dev.diffusion4j.model.ClassifierFreeGuidance;
import dev.diffusion4j.model.ClassifierGuidance;
import dev.diffusion4j.model.ConditionalDenoiser;
import dev.diffusion4j.model.NoisyClassifier;
import dev.diffusion4j.model.CountingDenoiser;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.MixtureDenoiser;
import dev.diffusion4j.model.DenoisingNetwork;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.model.Oracles;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.sampling.Sampler;
import dev.diffusion4j.sampling.SamplingListener;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.text.ClipTokenizer;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The user-facing facade: load a trained checkpoint and generate samples in data space.
 *
 * <pre>{@code
 * DiffusionPipeline pipe = DiffusionPipeline.load(Path.of("runs/moons"));
 * Tensor samples = pipe.sample(2000, Samplers.create("ddim", SamplerOptions.DEFAULTS), 42);
 * }</pre>
 */
public final class DiffusionPipeline {
    /** Largest batch of vectors run through the network at once; bigger requests are split. */
    public static final int MAX_BATCH = 16_384;
    /** Image batches are capped at this many values (a U-Net's activations are ~100× its input). */
    public static final int MAX_IMAGE_BATCH_VALUES = 200_000;

    private final Path checkpoint;
    private final ModelSpec spec;
    private final DenoisingNetwork network;
    private final CountingDenoiser denoiser;
    private final Map<String, Object> config;
    private final boolean ema;
    private final boolean clip;
    /** The analytic oracle of an oracle pipeline (null for a trained network). */
    private final Denoiser exact;

    private final String name;

    private DiffusionPipeline(Path checkpoint, Map<String, Object> config, ModelSpec spec, DenoisingNetwork network, boolean ema, boolean clip) {
        this(checkpoint, config, spec, network, ema, clip, new CountingDenoiser(spec.denoiser(network, clip)));
    }

    private DiffusionPipeline(Path checkpoint, Map<String, Object> config, ModelSpec spec, DenoisingNetwork network, boolean ema,
            boolean clip, CountingDenoiser denoiser) {
        this.checkpoint = checkpoint;
        this.config = config;
        this.spec = spec;
        this.network = network;
        this.clip = clip;
        this.denoiser = denoiser;
        this.ema = ema;
        this.exact = null;
        this.name = checkpoint.getParent() != null ? checkpoint.getParent().getFileName().toString() : checkpoint.toString();
    }

    private DiffusionPipeline(String name, Map<String, Object> config, ModelSpec spec, Denoiser exact) {
        this.checkpoint = null;
        this.config = config;
        this.spec = spec;
        this.network = null;
        this.denoiser = new CountingDenoiser(exact);
        this.ema = false;
        this.clip = false;
        this.exact = exact;
        this.name = name;
    }

    /**
     * The analytic oracle as a pipeline: the exact denoiser of a Gaussian mixture ({@code spec} as
     * in {@link Oracles#open}: a mixture data set name or a JSON file), bound to the linear
     * 1000-step schedule so that every sampler, DDPM and DDIM included, runs on it. Data units,
     * no normalisation, no network.
     */
    public static DiffusionPipeline oracle(String spec) {
        NoiseSchedule schedule = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
        MixtureDenoiser exact = Oracles.open(spec).withSchedule(schedule);
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("oracle", spec);
        if (!spec.toLowerCase(java.util.Locale.ROOT).endsWith(".json")) {
            config.put("data", Map.of("source", spec));
        }
        ModelSpec modelSpec = new ModelSpec(null, schedule, Prediction.SAMPLE, Normalizer.identity(exact.dim()), null);
        return new DiffusionPipeline("oracle:" + spec, config, modelSpec, exact);
    }

    /**
     * {@code oracle:SPEC} opens the analytic oracle ({@link #oracle}); anything else is a run or
     * checkpoint directory ({@link #load(Path, boolean, boolean)}).
     */
    public static DiffusionPipeline open(String model, boolean preferEma, boolean clip) {
        if (model.startsWith(ORACLE_PREFIX)) {
            return oracle(model.substring(ORACLE_PREFIX.length()));
        }
        return load(Path.of(model), preferEma, clip);
    }

    /** The prefix that selects the analytic oracle in {@link #open}. */
    public static final String ORACLE_PREFIX = "oracle:";

    /** A short name for titles: the run directory's name, or {@code oracle:SPEC}. */
    public String name() {
        return name;
    }

    /** Number of values in a data point. */
    public int dataDim() {
        return spec.dataDim();
    }

    /** Shape of a data point: [dim] for vectors, [C, H, W] for images. */
    public long[] sampleShape() {
        return spec.sampleShape();
    }

    /** True for the analytic oracle (no network, no checkpoint). */
    public boolean isOracle() {
        return network == null;
    }

    /**
     * Loads the newest checkpoint of a run directory (or a checkpoint directory) with its EMA
     * weights, clipping x̂₀ to the training data's range while sampling.
     */
    public static DiffusionPipeline load(Path dir) {
        return load(dir, true, true);
    }

    /**
     * @param preferEma use ema.safetensors when present, else model.safetensors
     * @param clip      clip x̂₀ to the recorded range of the training data while sampling
     */
    public static DiffusionPipeline load(Path dir, boolean preferEma, boolean clip) {
        Path ckpt = CheckpointStore.resolve(dir);
        CheckpointStore.verify(ckpt);
        Map<String, Object> config = Trainer.readConfig(ckpt);
        ModelSpec spec = ModelSpec.fromConfig(config);
        DenoisingNetwork net = spec.buildNetwork(new Generator(0));
        Path weights = ckpt.resolve(Trainer.EMA_FILE);
        boolean useEma = preferEma && Files.exists(weights);
        if (!useEma) {
            weights = ckpt.resolve(Trainer.MODEL_FILE);
        }
        try (SafetensorsFile f = Safetensors.open(weights); Scope s = Scope.open()) {
            net.loadStateDict(f.readAll());
        }
        net.train(false);
        return new DiffusionPipeline(ckpt, config, spec, net, useEma, clip);
    }

    public Path checkpoint() {
        return checkpoint;
    }

    public ModelSpec spec() {
        return spec;
    }

    public Map<String, Object> config() {
        return config;
    }

    /** The model as samplers see it (normalised data space). */
    public Denoiser denoiser() {
        return denoiser;
    }

    /** Classes of a class-conditional model (an oracle's classes are its mixture components; 0 when unconditional). */
    public int numClasses() {
        if (exact instanceof ConditionalDenoiser c) {
            return c.numClasses();
        }
        return network == null ? 0 : network.numClasses();
    }

    /** The class names the training data gave, by label (empty if it named none). */
    public List<String> classNames() {
        Object data = config.get("data");
        Object names = data instanceof Map<?, ?> m ? m.get("class_names") : null;
        return names instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
    }

    /**
     * The label of {@code name}: a class name (case-insensitive) of the training data, or else a class index.
     * Unknown names list the known ones.
     */
    public int classIndex(String name) {
        String n = name.strip();
        List<String> names = classNames();
        for (int k = 0; k < names.size(); k++) {
            if (names.get(k).equalsIgnoreCase(n)) {
                return k;   // names first: a CSV label column's classes are named by their values
            }
        }
        if (n.matches("-?\\d+")) {
            return Integer.parseInt(n);
        }
        throw new DiffusionException("unknown class '" + name + "': " + (names.isEmpty()
                ? "this model's data named no classes, give an index 0 to " + (numClasses() - 1)
                : "the model knows " + String.join(", ", names) + " (or indices 0 to " + (numClasses() - 1) + ")"));
    }

    /** Token ids per prompt of a text-conditioned model; 0 for any other. */
    public int contextLength() {
        return network == null ? 0 : network.contextLength();
    }

    /**
     * {@code text} tokenized for this text-conditioned model; a prompt longer than its context is cut,
     * which {@link ClipTokenizer.Encoding#truncated()} reports.
     */
    public ClipTokenizer.Encoding encodePrompt(String text) {
        if (contextLength() == 0) {
            throw new DiffusionException(name + " is not text-conditioned, so it takes no prompt; train one on captioned data with "
                    + "--text" + (numClasses() > 0 ? ", or steer this one with --class" : ""));
        }
        return ClipTokenizer.clip().encode(text, contextLength());
    }

    /**
     * This model guided towards a class or prompt by classifier-free guidance ({@code guidance} null: none),
     * with x̂₀ dynamically thresholded at {@code dynamicPercentile} instead of clipped (0: off).
     * Evaluation counts start again from zero.
     */
    public DiffusionPipeline withGuidance(ClassifierFreeGuidance.Options guidance, double dynamicPercentile) {
        return guided(guidance == null ? null : d -> new ClassifierFreeGuidance(d, guidance), dynamicPercentile);
    }

    /**
     * This model steered towards class {@code label} by classifier guidance of strength {@code scale}
     * (Dhariwal &amp; Nichol 2021), with the analytic oracle's exact classifier of noisy samples.
     * Trained models take a trained one: {@link #withClassifierGuidance(NoisyClassifier, int, double, double)}.
     */
    public DiffusionPipeline withClassifierGuidance(int label, double scale) {
        if (!hasExactClassifier()) {
            throw new DiffusionException("classifier guidance of " + name + " needs a classifier of noisy samples: train one with "
                    + "'diffuse train-classifier --noisy' and pass it with --classifier DIR");
        }
        if (label >= numClasses()) {
            throw new DiffusionException("unknown class " + label + ": the oracle knows classes 0 to " + (numClasses() - 1));
        }
        return withClassifierGuidance((NoisyClassifier) exact, label, scale, 0);
    }

    /** Whether this is an analytic oracle, which has an exact classifier of noisy samples. */
    public boolean hasExactClassifier() {
        return exact instanceof NoisyClassifier;
    }

    /**
     * This model steered towards class {@code label} by {@code classifier}'s gradient at strength
     * {@code scale}; x̂₀ dynamically thresholded at {@code dynamicPercentile} (0 = off).
     */
    public DiffusionPipeline withClassifierGuidance(NoisyClassifier classifier, int label, double scale, double dynamicPercentile) {
        return guided(d -> new ClassifierGuidance(d, classifier, label, scale), dynamicPercentile);
    }

    private DiffusionPipeline guided(UnaryOperator<Denoiser> guidance, double dynamicPercentile) {
        if (exact != null) {
            if (dynamicPercentile > 0) {
                throw new DiffusionException("dynamic thresholding assumes pixel values in [-1, 1]; it is for image models");
            }
            return new DiffusionPipeline(name, config, spec, guidance == null ? exact : guidance.apply(exact));
        }
        return new DiffusionPipeline(checkpoint, config, spec, network, ema, clip,
                new CountingDenoiser(spec.denoiser(network, clip, guidance, dynamicPercentile)));
    }

    /** Network evaluations made by this pipeline so far. */
    public long evaluations() {
        return denoiser.count();
    }

    public boolean usesEmaWeights() {
        return ema;
    }

    public long parameterCount() {
        return network == null ? 0 : network.parameterCount();
    }

    /**
     * Draws {@code n} samples in data space (normalisation undone) with {@code sampler}; noise
     * comes from a generator seeded with {@code seed}, so the same seed gives the same samples.
     */
    public Tensor sample(int n, Sampler sampler, long seed, SamplingListener listener) {
        if (n < 1) {
            throw new DiffusionException("number of samples must be at least 1, got " + n);
        }
        Generator g = new Generator(seed);
        List<Tensor> parts = new ArrayList<>();
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            int maxBatch = maxBatch();
            for (int done = 0; done < n; done += maxBatch) {
                int b = Math.min(maxBatch, n - done);
                Tensor noise = Tensor.randn(g, batchShape(b));
                parts.add(spec.denormalize(sampler.sample(denoiser, noise, g, listener)));
            }
            return s.keep(parts.size() == 1 ? parts.get(0) : Tensor.cat(parts, 0));
        }
    }

    /** Samples drawn per batch: bounded memory whatever {@code n} is. */
    public int maxBatch() {
        return spec.isImage() ? Math.max(1, MAX_IMAGE_BATCH_VALUES / spec.dataDim()) : MAX_BATCH;
    }

    private long[] batchShape(int b) {
        long[] item = spec.sampleShape();
        long[] shape = new long[item.length + 1];
        shape[0] = b;
        System.arraycopy(item, 0, shape, 1, item.length);
        return shape;
    }

    public Tensor sample(int n, Sampler sampler, long seed) {
        return sample(n, sampler, seed, SamplingListener.NONE);
    }
}
