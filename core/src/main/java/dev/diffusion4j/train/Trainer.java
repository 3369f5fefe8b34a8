package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CaptionedData;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.model.DenoisingNetwork;
import dev.diffusion4j.model.LatentSpace;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.model.NetworkConfig;
import dev.diffusion4j.model.Normalizer;
import dev.diffusion4j.model.SampleRange;
import dev.diffusion4j.model.TextConditionedNetwork;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.models.vae.AutoencoderSource;
import dev.diffusion4j.objective.DiffusionObjective;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.AdamW;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.Captions;
import dev.diffusion4j.text.ClipTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Trains a diffusion model: AdamW with warm-up and cosine decay, gradient clipping and
 * accumulation, an EMA of the weights, a NaN/Inf guard, and periodic atomic checkpoints from which
 * a run resumes exactly (weights, optimizer moments, EMA, random generator states and step are
 * all restored, so an interrupted and resumed run ends with the same weights as an uninterrupted one).
 */
public final class Trainer {

    private static final long STREAM_INIT = 0;
    private static final long STREAM_DATA = 1;
    private static final long STREAM_NOISE = 2;
    private static final long STREAM_NORMALIZER = 3;
    private static final long STREAM_LABELS = 4;
    private static final int NORMALIZER_SAMPLES = 100_000;
    /** Images the latent preview map is fitted on. */
    private static final int PREVIEW_FIT_IMAGES = 256;

    private final Path runDir;
    private final TrainingRecipe config;
    private final ModelSpec spec;
    private final DataSource data;
    private final DenoisingNetwork network;
    private final AdamW optimizer;
    private final Ema ema;
    private final DiffusionObjective objective;
    private final LrSchedule lrSchedule;
    private final Generator dataGen;
    private final Generator noiseGen;
    /** Condition dropout's coin flips: a stream of their own, so unconditional runs draw exactly as before. */
    private final Generator labelGen;
    /** Captions for a text-conditioned model built from the data's class names; null otherwise or when the data has its own. */
    private final Captions captions;
    /** The data's own captions, for a text-conditioned model on captioned images (or their latents); null otherwise. */
    private final CaptionedData captioned;
    private final List<double[]> lossLog = new ArrayList<>();
    private long step;
    private double elapsedSeconds;

    /** {@code fresh}: a new run (a frozen text encoder is read from its CLIP model), not one a checkpoint restores. */
    private Trainer(Path runDir, TrainingRecipe config, ModelSpec spec, DataSource data, boolean fresh) {
        this.runDir = runDir;
        this.config = config;
        this.spec = spec;
        this.data = data;
        this.network = spec.buildNetwork(Generator.derived(config.seed(), STREAM_INIT));
        Set<String> frozen = frozenParameters(network, config, fresh);
        List<Tensor> trainable = new ArrayList<>();
        network.namedParameters().forEach((name, p) -> {
            if (!frozen.contains(name)) {
                trainable.add(p);
            }
        });
        this.optimizer = new AdamW(trainable, config.lr(), 0.9, 0.999, 1e-8, config.weightDecay());
        this.ema = config.emaDecay() > 0 ? new Ema(network.stateDict(), config.emaDecay(), frozen) : null;
        this.objective = new DiffusionObjective(spec.schedule(), spec.prediction(), config.loss(),
                DiffusionObjective.DEFAULT_HUBER_DELTA, config.weighting(), config.snrGamma());
        this.lrSchedule = new LrSchedule(config.lr(), config.warmupSteps(), config.steps(), config.minLrRatio());
        this.dataGen = Generator.derived(config.seed(), STREAM_DATA);
        this.noiseGen = Generator.derived(config.seed(), STREAM_NOISE);
        this.labelGen = Generator.derived(config.seed(), STREAM_LABELS);
        int classes = network.numClasses();
        if (classes > 0 && data.numClasses() != classes) {
            throw new DiffusionException("the model is conditioned on " + classes + " classes but data set '" + data.name() + "' has "
                    + (data.numClasses() == 0 ? "no class labels" : data.numClasses() + " classes"));
        }
        boolean text = network.contextLength() > 0;
        this.captioned = text && data instanceof CaptionedData c && c.hasCaptions() ? c : null;
        if (text && captioned == null && (data.numClasses() == 0 || data.classNames().isEmpty())) {
            throw new DiffusionException("a text-conditioned model learns from captions — the images' own or ones built from class "
                    + "names — and data set '" + data.name() + "' has neither");
        }
        this.captions = text && captioned == null ? new Captions(data.classNames(), ClipTokenizer.clip(), network.contextLength()) : null;
    }

    /**
     * The parameters training leaves alone: none, or the text encoder's when the recipe takes a CLIP
     * model's text encoder frozen (read into the network here for a fresh run, before the EMA copies
     * the weights; a resumed run gets it back from its checkpoint). They need no gradient, no optimizer
     * state and no averaging.
     */
    private static Set<String> frozenParameters(DenoisingNetwork network, TrainingRecipe config, boolean fresh) {
        if (config.textEncoder() == null) {
            return Set.of();
        }
        if (!(network instanceof TextConditionedNetwork textUNet)) {
            throw new DiffusionException("a CLIP text encoder (text_encoder " + config.textEncoder() + ") conditions a text-conditioned "
                    + "model; this one is " + network.config().modelType() + " (train it with --text)");
        }
        if (fresh) {
            try (Scope s = Scope.open()) {
                textUNet.useTextEncoderOf(ClipModel.load(Path.of(config.textEncoder())));
            }
        }
        Set<String> frozen = new HashSet<>();
        network.namedParameters().forEach((name, p) -> {
            if (name.startsWith(TextConditionedNetwork.TEXT_ENCODER_PREFIX)) {
                p.requiresGrad_(false);
                frozen.add(name);
            }
        });
        return frozen;
    }

    /**
     * Prepares a new run in {@code runDir} (created if needed). Fails if the directory already
     * holds checkpoints: continue those with {@link #resume}.
     */
    public static Trainer create(Path runDir, TrainingRecipe config, NetworkConfig architecture, NoiseSchedule schedule) {
        return create(runDir, config, architecture, schedule, LatentImages.EncodeProgress.NONE);
    }

    /**
     * {@link #create(Path, TrainingRecipe, NetworkConfig, NoiseSchedule)}, telling {@code encoding} how
     * a latent run's one-time encoding of its images goes.
     */
    public static Trainer create(Path runDir, TrainingRecipe config, NetworkConfig architecture, NoiseSchedule schedule,
                                 LatentImages.EncodeProgress encoding) {
        RunDirectory.prepareNew(runDir);
        if (config.latent() != null) {
            return createLatent(runDir, config, architecture, schedule, encoding);
        }
        DataSource data = openData(config);
        if (!Arrays.equals(data.itemShape(), architecture.sampleShape())) {
            throw new DiffusionException("data set '" + data.name() + "' has " + describe(data.itemShape())
                    + " but the model is built for " + describe(architecture.sampleShape()));
        }
        if (data.itemShape().length == 3) {
            // Images arrive in [−1, 1] (the DataSource contract): no normaliser, clip x̂₀ to that box.
            return new Trainer(runDir, config, new ModelSpec(architecture, schedule, config.prediction(), null,
                    SampleRange.uniform(-1, 1)), data, true);
        }
        try (Scope s = Scope.open()) {
            Optional<Tensor> all = data.all();
            Tensor sample = all.isPresent() ? all.get() : data.sample(Generator.derived(config.seed(), STREAM_NORMALIZER), NORMALIZER_SAMPLES);
            Normalizer normalizer = Normalizer.fit(sample);
            SampleRange range = SampleRange.of(normalizer.normalize(sample), SampleRange.DEFAULT_MARGIN);
            return new Trainer(runDir, config, new ModelSpec(architecture, schedule, config.prediction(), normalizer, range), data, true);
        }
    }

    /**
     * A latent diffusion run: the recipe's images encoded once by the autoencoder it names (cached in
     * the run directory), a model of those latents with no x̂₀ clipping (latents have no box), and the
     * autoencoder's config, hash and a fitted preview map in the spec.
     */
    private static Trainer createLatent(Path runDir, TrainingRecipe config, NetworkConfig architecture, NoiseSchedule schedule,
                                        LatentImages.EncodeProgress encoding) {
        // the thread pool the network will train on encodes too: its reductions, and so the latents' last bits, depend on it
        architecture.applyThreadPolicy();
        AutoencoderSource source = AutoencoderSource.open(Path.of(config.latent()));
        ImageDataset images = imagesToEncode(openData(config));
        LatentImages latents = LatentImages.encode(images, source.autoencoder(), source.sha256(), runDir.resolve(LatentImages.CACHE_FILE),
                encoding);
        if (!Arrays.equals(latents.itemShape(), architecture.sampleShape())) {
            throw new DiffusionException("the autoencoder turns " + describe(images.itemShape()) + " into latents of "
                    + String.join("×", Arrays.stream(latents.itemShape()).mapToObj(Long::toString).toList())
                    + " but the model is built for " + describe(architecture.sampleShape()));
        }
        LatentSpace space = new LatentSpace(source.autoencoder().config().toConfig(), images.itemShape(), source.folder().toString(),
                source.sha256(), latents.fitPreview(PREVIEW_FIT_IMAGES));
        return new Trainer(runDir, config, new ModelSpec(architecture, schedule, config.prediction(), null, null, space), latents, true);
    }

    private static ImageDataset imagesToEncode(DataSource data) {
        if (!(data instanceof ImageDataset images)) {
            throw new DiffusionException("latent diffusion learns the latents of images; data set '" + data.name() + "' holds "
                    + describe(data.itemShape()));
        }
        return images;
    }

    /**
     * Reopens the newest checkpoint of {@code runDir} to continue training, optionally with a new
     * total step count ({@code newSteps} > 0).
     */
    public static Trainer resume(Path runDir, int newSteps) {
        return resume(runDir, newSteps, LatentImages.EncodeProgress.NONE);
    }

    /** {@link #resume(Path, int)}, telling {@code encoding} how a latent run goes when its latent cache must be encoded again. */
    public static Trainer resume(Path runDir, int newSteps, LatentImages.EncodeProgress encoding) {
        Checkpoint ckpt = RunDirectory.latestToResume(runDir);
        Map<String, Object> cfg = ckpt.config();
        ModelSpec spec = ModelSpec.fromConfig(cfg);
        TrainingRecipe tc = TrainingRecipe.fromConfig(ModelSpec.section(cfg, "training"));
        if (newSteps > 0) {
            tc = tc.toBuilder().steps(newSteps).build();
        }
        DataSource data = openData(tc);
        if (spec.isLatent()) {
            // the checkpoint's own copy of the autoencoder: the latents are the ones the run began with
            AutoencoderKL autoencoder;
            try (Scope s = Scope.open()) {
                autoencoder = AutoencoderKL.of(spec.latent().autoencoder(), ckpt.weights(Checkpoint.AUTOENCODER_FILE));
            }
            data = LatentImages.encode(imagesToEncode(data), autoencoder, spec.latent().sha256(),
                    runDir.resolve(LatentImages.CACHE_FILE), encoding);
        }
        Trainer t = new Trainer(runDir, tc, spec, data, false);
        t.restore(ckpt);
        return t;
    }

    /** "2 dimensions" for vectors, "images of 1×28×28" for images. */
    static String describe(long[] shape) {
        if (shape.length == 1) {
            return shape[0] + " dimensions";
        }
        return "images of " + String.join("×", Arrays.stream(shape).mapToObj(Long::toString).toList());
    }

    /** The run's data set, opened as its recipe says. */
    public static DataSource openData(TrainingRecipe recipe) {
        return DataSources.open(recipe.data(), new ImageOptions(recipe.imageSize() == 0 ? null : recipe.imageSize(),
                recipe.channels() == 0 ? null : recipe.channels(), recipe.flip()), recipe.labelColumn());
    }


    public ModelSpec spec() {
        return spec;
    }

    /** The run directory the checkpoints go to. */
    public Path runDirectory() {
        return runDir;
    }

    public TrainingRecipe config() {
        return config;
    }

    public DenoisingNetwork network() {
        return network;
    }

    /** Steps completed so far. */
    public long step() {
        return step;
    }

    /** Logged (step, mean loss) pairs. */
    public List<double[]> lossLog() {
        return List.copyOf(lossLog);
    }

    /**
     * Trains until the configured step count (or until {@link TrainListener#stopRequested()}), writing
     * a checkpoint every {@code checkpointEvery} steps and at the end. Returns the final checkpoint directory.
     */
    public Path run(TrainListener listener) {
        long total = config.steps();
        listener.onStart(step, total, network.parameterCount());
        Path last = CheckpointStore.latest(runDir).orElse(null);
        int logEvery = Math.max(1, config.steps() / 500);
        double logSum = 0;
        int logCount = 0;
        long t0 = System.nanoTime();
        double elapsedBefore = elapsedSeconds;
        while (step < total) {
            optimizer.setLearningRate(lrSchedule.at(step));
            double loss = trainStep();
            if (ema != null) {
                ema.update(step);
            }
            step++;
            elapsedSeconds = elapsedBefore + (System.nanoTime() - t0) / 1e9;
            logSum += loss;
            logCount++;
            if (step % logEvery == 0 || step == total) {
                lossLog.add(new double[] {step, logSum / logCount});
                logSum = 0;
                logCount = 0;
            }
            listener.onStep(step, total, loss, optimizer.learningRate());
            boolean stop = step < total && listener.stopRequested();
            boolean requested = listener.checkpointRequested();
            if (step % config.checkpointEvery() == 0 || step == total || stop || requested) {
                last = saveCheckpoint();
                listener.onCheckpoint(last);
            }
            if (config.sampleEvery() > 0 && spec.isImage() && (step % config.sampleEvery() == 0 || step == total)) {
                listener.onPreview(step, spec, ema != null ? ema.state() : network.stateDict());
            }
            if (stop) {
                break;
            }
        }
        return last == null ? saveCheckpoint() : last;
    }

    /**
     * The batch's conditions: its labels, or for a text-conditioned model the token ids of a caption
     * per image; then condition dropout, which makes each the null condition (the null label, the
     * empty prompt) with probability p_uncond.
     */
    private Tensor conditions(DataSource.Labeled batch) {
        return dropConditions(captions == null ? batch.labels() : captions.tokens(batch.items(), batch.labels(), labelGen));
    }

    /** Condition dropout: each of {@code c} (labels [B] or token ids [B, L]) becomes the null condition with probability p_uncond. */
    private Tensor dropConditions(Tensor c) {
        if (config.condDropout() == 0) {
            return c;
        }
        long b = c.size(0);
        Tensor drop = Tensor.rand(labelGen, b).lt(config.condDropout());
        return Tensor.where(c.dim() == 1 ? drop : drop.view(b, 1), network.nullCondition(b), c);
    }

    /** One optimizer step over {@code gradAccumulation} micro-batches; returns the mean loss. */
    private double trainStep() {
        optimizer.zeroGrad();
        double sum = 0;
        int k = config.gradAccumulation();
        for (int micro = 0; micro < k; micro++) {
            try (Scope s = Scope.open()) {
                Tensor x0;
                Tensor labels = null;
                if (captioned != null) {
                    ImageDataset.Captioned batch = captioned.sampleCaptioned(dataGen, config.batchSize());
                    x0 = spec.normalize(batch.images());
                    labels = dropConditions(ClipTokenizer.clip().ids(batch.captions(), network.contextLength()));
                } else if (network.numClasses() > 0 || network.contextLength() > 0) {
                    DataSource.Labeled batch = data.sampleLabeled(dataGen, config.batchSize());
                    x0 = spec.normalize(batch.items());
                    labels = conditions(batch);
                } else {
                    x0 = spec.normalize(data.sample(dataGen, config.batchSize()));
                }
                Tensor loss;
                try (Precision.Region region = config.precision().open()) {
                    loss = objective.loss(network, x0, labels, noiseGen);
                }
                double value = loss.item();
                if (!Double.isFinite(value)) {
                    throw divergence("loss is " + value);
                }
                (k == 1 ? loss : loss.div(k)).backward();
                sum += value;
            }
        }
        double norm = config.gradClip() > 0 ? optimizer.clipGradNorm(config.gradClip()) : 0;
        if (!Double.isFinite(norm)) {
            throw divergence("gradient norm is " + norm);
        }
        optimizer.step();
        return sum / k;
    }

    private DiffusionException divergence(String problem) {
        return RunDirectory.divergence(runDir, "training", step + 1, problem);
    }

    // ------------------------------------------------------------------ checkpoints

    private Path saveCheckpoint() {
        Map<String, String> meta = Map.of("format", "diffusion4j", "step", Long.toString(step));
        try (Checkpoint.Writer w = Checkpoint.write(runDir, step)) {
            w.config(fullConfig());
            w.model(network.stateDict(), meta);
            if (ema != null) {
                w.ema(ema.state(), meta);
            }
            if (data instanceof LatentImages latents) {
                w.tensors(Checkpoint.AUTOENCODER_FILE, latents.autoencoder().stateDict(), meta);
            }
            optimizer.save(w.optimizerFile());
            w.trainerState(trainerState());
            return w.commit(config.keepCheckpoints()).dir();
        }
    }

    private Map<String, Object> fullConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "diffusion4j");
        m.put("format_version", Checkpoint.FORMAT_VERSION);
        m.putAll(spec.toConfig());
        @SuppressWarnings("unchecked")
        Map<String, Object> dataSection = new LinkedHashMap<>((Map<String, Object>) m.get("data"));
        dataSection.put("source", data.name());
        if ((network.numClasses() > 0 || (network.contextLength() > 0 && captioned == null)) && !data.classNames().isEmpty()) {
            dataSection.put("class_names", data.classNames());
        }
        m.put("data", dataSection);
        m.put("training", config.toConfig());
        return m;
    }

    private Map<String, Object> trainerState() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("elapsed_seconds", elapsedSeconds);
        m.put("data_rng_state", Base64.getEncoder().encodeToString(dataGen.state()));
        m.put("noise_rng_state", Base64.getEncoder().encodeToString(noiseGen.state()));
        m.put("label_rng_state", Base64.getEncoder().encodeToString(labelGen.state()));
        m.put("loss_log", lossLog);
        return m;
    }

    private void restore(Checkpoint ckpt) {
        try (Scope s = Scope.open()) {
            network.loadStateDict(ckpt.weights(Checkpoint.MODEL_FILE));
            if (ema != null) {
                ema.load(ckpt.weights(Checkpoint.EMA_FILE));
            }
        }
        optimizer.load(ckpt.dir().resolve(Checkpoint.OPTIMIZER_FILE));
        Map<String, Object> st = ckpt.trainerState();
        try {
            step = ((Number) st.get("step")).longValue();
            elapsedSeconds = ((Number) st.get("elapsed_seconds")).doubleValue();
            dataGen.setState(Base64.getDecoder().decode((String) st.get("data_rng_state")));
            noiseGen.setState(Base64.getDecoder().decode((String) st.get("noise_rng_state")));
            if (st.get("label_rng_state") != null) {
                labelGen.setState(Base64.getDecoder().decode((String) st.get("label_rng_state")));
            }
            @SuppressWarnings("unchecked")
            List<List<Number>> log = (List<List<Number>>) st.get("loss_log");
            for (List<Number> e : log) {
                lossLog.add(new double[] {e.get(0).doubleValue(), e.get(1).doubleValue()});
            }
        } catch (ClassCastException | NullPointerException | IllegalArgumentException e) {
            throw new DiffusionException(ckpt.dir().resolve(Checkpoint.STATE_FILE) + " is malformed: " + e.getMessage());
        }
    }
}
