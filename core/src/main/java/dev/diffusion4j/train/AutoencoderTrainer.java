package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.models.vae.AutoencoderKLConfig;
import dev.diffusion4j.models.vae.DiagonalGaussian;
import dev.diffusion4j.models.vae.PatchDiscriminator;
import dev.diffusion4j.objective.PerceptualLoss;
import dev.diffusion4j.tensor.AdamW;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Trains an {@link AutoencoderKL} with the latent-diffusion recipe (Rombach et al. 2022, §3 and
 * appendix G; the loss of Esser et al. 2021): each step encodes a batch, decodes a posterior sample
 * and minimises
 * <pre>
 *   |x − x̂|₁ + w_p·P(x, x̂) + w_kl·KL(q(z|x) ‖ N(0, I)) / (C·H·W) + λ·w_d·(−E[D(x̂)])
 * </pre>
 * (per-pixel averages; see {@link AutoencoderRecipe}); then, once the critic is on, one step of the
 * {@link PatchDiscriminator}'s hinge loss on real images against the detached reconstructions.
 * λ balances the adversarial gradient against the reconstruction's at the decoder's last layer L,
 * λ = ‖∇_L rec‖ / (‖∇_L adv‖ + 10⁻⁴) clamped to [0, 10⁴], as the original does, so the critic never
 * drowns the reconstruction whatever the scale of its logits. The perceptual term compares feature
 * maps of a frozen classifier ({@link PerceptualLoss}): the one the recipe names, or one this trainer
 * trains first on the data's labels. Checkpoints hold the autoencoder, its EMA, both optimizers,
 * the critic and the perceptual network, so a run resumes exactly and needs no file outside it.
 */
public final class AutoencoderTrainer {
    /** The config.json section holding the autoencoder's diffusers config. */
    public static final String SECTION = "autoencoder";
    private static final long STREAM_INIT = 0;
    private static final long STREAM_DATA = 1;
    private static final long STREAM_POSTERIOR = 2;
    private static final long STREAM_CRITIC_INIT = 3;
    private static final long STREAM_PERCEPTUAL = 4;
    private static final double ADVERSARIAL_EPS = 1e-4;
    private static final double ADVERSARIAL_MAX = 1e4;
    /** Adam's betas in the original recipe, for the autoencoder and the critic alike. */
    private static final double BETA1 = 0.5;
    private static final double BETA2 = 0.9;

    /** One logged point: the step and the mean of each loss term since the last one. */
    public record LogEntry(long step, double total, double l1, double perceptual, double kl, double adversarial,
                           double critic, double adaptiveWeight) {
        double[] toArray() {
            return new double[] {step, total, l1, perceptual, kl, adversarial, critic, adaptiveWeight};
        }

        static LogEntry of(List<Number> v) {
            return new LogEntry(v.get(0).longValue(), v.get(1).doubleValue(), v.get(2).doubleValue(), v.get(3).doubleValue(),
                    v.get(4).doubleValue(), v.get(5).doubleValue(), v.get(6).doubleValue(), v.get(7).doubleValue());
        }
    }

    private final Path runDir;
    private final AutoencoderRecipe recipe;
    private final ImageDataset data;
    private final AutoencoderKL vae;
    private final PatchDiscriminator critic;
    private final ImageClassifier perceptualNetwork;
    private final PerceptualLoss perceptual;
    private final AdamW optimizer;
    private final AdamW criticOptimizer;
    private final Ema ema;
    private final LrSchedule lrSchedule;
    private final Generator dataGen;
    private final Generator posteriorGen;
    private final Tensor lastLayer;
    private final List<LogEntry> log = new ArrayList<>();
    private final double[] sums = new double[7];
    private int summed;
    private long step;
    private double elapsedSeconds;
    private List<String> changedOnResume = List.of();

    private AutoencoderTrainer(Path runDir, AutoencoderRecipe recipe, AutoencoderKLConfig config, ImageDataset data,
                               ImageClassifier perceptualNetwork) {
        this.runDir = runDir;
        this.recipe = recipe;
        this.data = data;
        this.vae = new AutoencoderKL(config, Generator.derived(recipe.seed(), STREAM_INIT));
        this.critic = new PatchDiscriminator(config.outChannels(), recipe.discWidth(), recipe.discLayers(),
                Generator.derived(recipe.seed(), STREAM_CRITIC_INIT));
        this.perceptualNetwork = perceptualNetwork;
        this.perceptual = perceptualNetwork == null ? null : new PerceptualLoss(perceptualNetwork);
        if (perceptualNetwork != null) {
            perceptualNetwork.train(false);
            perceptualNetwork.parameters().forEach(p -> p.requiresGrad_(false));
        }
        this.optimizer = new AdamW(vae.parameters(), recipe.lr(), BETA1, BETA2, 1e-8, 0);
        this.criticOptimizer = new AdamW(critic.parameters(), recipe.lr(), BETA1, BETA2, 1e-8, 0);
        this.ema = recipe.emaDecay() > 0 ? new Ema(vae.stateDict(), recipe.emaDecay()) : null;
        this.lrSchedule = new LrSchedule(recipe.lr(), recipe.warmupSteps(), recipe.steps(), 1.0);
        this.dataGen = Generator.derived(recipe.seed(), STREAM_DATA);
        this.posteriorGen = Generator.derived(recipe.seed(), STREAM_POSTERIOR);
        this.lastLayer = vae.namedParameters().get("decoder.conv_out.weight");
    }

    /**
     * Prepares a new run in {@code runDir}. With a perceptual weight and no perceptual network named
     * by the recipe, trains one on the data's labels first ({@code listener} hears its steps).
     */
    public static AutoencoderTrainer create(Path runDir, AutoencoderRecipe recipe, AutoencoderKLConfig config,
                                           ClassifierTraining.Listener perceptualListener) {
        RunDirectory.prepareNew(runDir);
        ImageDataset data = openData(recipe);
        if (data.channels() != config.inChannels() || data.channels() != config.outChannels()) {
            throw new DiffusionException("data set '" + data.name() + "' has " + data.channels() + "-channel images but the autoencoder "
                    + "reads " + config.inChannels() + " and writes " + config.outChannels() + " channels");
        }
        int f = config.downsampleFactor();
        if (data.height() % f != 0 || data.width() % f != 0) {
            throw new DiffusionException("data set '" + data.name() + "' has " + data.width() + "x" + data.height() + " images, which the "
                    + "autoencoder's downsampling factor " + f + " does not divide; set an image size that it does");
        }
        return new AutoencoderTrainer(runDir, recipe, config, data, perceptualNetwork(recipe, data, perceptualListener));
    }

    /** Reopens the newest checkpoint of {@code runDir}, optionally with a new total step count ({@code newSteps} > 0). */
    public static AutoencoderTrainer resume(Path runDir, int newSteps) {
        return resume(runDir, b -> newSteps > 0 ? b.steps(newSteps) : b);
    }

    /**
     * Reopens the newest checkpoint of {@code runDir} with its recipe changed by {@code changes}
     * (identity for none); see {@link AutoencoderRecipe#changesOnResume} for what may change and
     * {@link #changedOnResume()} for what did.
     */
    public static AutoencoderTrainer resume(Path runDir, UnaryOperator<AutoencoderRecipe.Builder> changes) {
        Checkpoint ckpt = RunDirectory.latestToResume(runDir);
        Map<String, Object> cfg = ckpt.config();
        AutoencoderKLConfig config = AutoencoderKLConfig.fromConfig(section(cfg, SECTION));
        AutoencoderRecipe saved = AutoencoderRecipe.fromConfig(section(cfg, "training"));
        AutoencoderRecipe recipe = changes.apply(saved.toBuilder()).build();
        List<String> changed = saved.changesOnResume(recipe);
        ImageClassifier perceptualNetwork = recipe.perceptualWeight() > 0
                ? ImageClassifier.load(ckpt.dir().resolve(Checkpoint.PERCEPTUAL_FILE)) : null;
        AutoencoderTrainer t = new AutoencoderTrainer(runDir, recipe, config, openData(recipe), perceptualNetwork);
        t.restore(ckpt);
        t.changedOnResume = changed;
        return t;
    }

    /** Whether config.json {@code config} is an autoencoder run's. */
    public static boolean isAutoencoderRun(Map<String, Object> config) {
        return config.get(SECTION) instanceof Map;
    }

    /**
     * The autoencoder of checkpoint {@code dir} (or of the newest checkpoint of run {@code dir}),
     * with its EMA weights when {@code preferEma} and the run kept them.
     */
    public static AutoencoderKL load(Path dir, boolean preferEma) {
        Checkpoint ckpt = Checkpoint.open(dir);
        Map<String, Object> cfg = ckpt.config();
        if (!isAutoencoderRun(cfg)) {
            throw new DiffusionException(ckpt.dir() + " is not an autoencoder run (no '" + SECTION + "' section in its config.json); "
                    + "train one with train-vae");
        }
        AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.fromConfig(section(cfg, SECTION)), new Generator(0));
        try (Scope s = Scope.open()) {
            vae.loadStateDict(ckpt.weights(ckpt.weightsFile(preferEma)));
        }
        vae.train(false);
        return vae;
    }

    /** The run's images, opened as the recipe says; image data only. */
    public static ImageDataset openData(AutoencoderRecipe recipe) {
        DataSource d = DataSources.open(recipe.data(), new ImageOptions(recipe.imageSize() == 0 ? null : recipe.imageSize(),
                recipe.channels() == 0 ? null : recipe.channels(), false));
        if (!(d instanceof ImageDataset images)) {
            throw new DiffusionException("an autoencoder learns images, and '" + recipe.data() + "' is vector data");
        }
        return images;
    }

    private static ImageClassifier perceptualNetwork(AutoencoderRecipe recipe, ImageDataset data, ClassifierTraining.Listener listener) {
        if (recipe.perceptualWeight() == 0) {
            return null;
        }
        if (recipe.perceptualNetwork() != null) {
            ImageClassifier c = ImageClassifier.load(Path.of(recipe.perceptualNetwork()));
            ImageClassifier.Config cc = c.config();
            if (cc.channels() != data.channels() || cc.imageSize() != data.height() || cc.imageSize() != data.width()) {
                throw new DiffusionException("the perceptual network " + recipe.perceptualNetwork() + " reads " + cc.inputShape()
                        + " images but " + data.name() + " holds " + data.channels() + "x" + data.height() + "x" + data.width());
            }
            return c;
        }
        if (!data.hasLabels()) {
            throw new DiffusionException("the perceptual term needs a feature network: " + data.name() + " has no class labels to train "
                    + "one on, so name a classifier (perceptual_network) or set perceptual_weight 0");
        }
        return ClassifierTraining.train(data, ClassifierTraining.Options.defaults().withSteps(recipe.perceptualSteps())
                .withSeed(Generator.derived(recipe.seed(), STREAM_PERCEPTUAL).seed()), listener);
    }


    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> config, String name) {
        if (!(config.get(name) instanceof Map<?, ?> m)) {
            throw new DiffusionException("config.json has no '" + name + "' section; is this an autoencoder run of diffusion4j?");
        }
        return (Map<String, Object>) m;
    }

    public AutoencoderRecipe recipe() {
        return recipe;
    }

    public AutoencoderKL autoencoder() {
        return vae;
    }

    /** The training images. */
    public ImageDataset data() {
        return data;
    }

    /** The frozen network of the perceptual term; null when the recipe has none. */
    public ImageClassifier perceptualNetwork() {
        return perceptualNetwork;
    }

    /** Training images whose latents fix the scaling factor. */
    private static final int SCALING_IMAGES = 512;
    /** Images encoded at a time, each batch in its own scope: a whole 512-image batch at 64 pixels took 6 GB. */
    private static final int SCALING_BATCH = 64;

    /**
     * Writes the autoencoder of checkpoint {@code ckpt} (its EMA weights when it has them) to
     * {@code folder} as a diffusers {@code vae/} folder, with the scaling factor measured on
     * {@code data}'s first images: one over the standard deviation of their latents' modes, as Stable
     * Diffusion's was found. Returns the autoencoder written.
     */
    public static AutoencoderKL exportFolder(Path ckpt, ImageDataset data, Path folder) {
        AutoencoderKL vae = load(ckpt, true);
        int n = Math.min(SCALING_IMAGES, data.size());
        double scaling;
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.inference()) {
            List<Tensor> modes = new ArrayList<>();
            for (int i = 0; i < n; i += SCALING_BATCH) {
                try (Scope batch = Scope.open()) {
                    Tensor images = ImageDataset.toModelRange(data.pixels().narrow(0, i, Math.min(SCALING_BATCH, n - i)));
                    modes.add(batch.keep(vae.encode(images).mode()));
                }
            }
            scaling = 1 / Tensor.cat(modes, 0).flatten(0, -1).std(0, false).item();
        }
        AutoencoderKL scaled = new AutoencoderKL(vae.config().withScalingFactor(scaling), new Generator(0));
        scaled.loadStateDict(vae.stateDict());
        scaled.save(folder);
        return scaled;
    }

    /** The averaged weights (the raw ones when the run keeps no EMA). */
    public Map<String, Tensor> averagedWeights() {
        return ema != null ? ema.state() : vae.stateDict();
    }

    /** The settings this resumed run changed from its checkpoint's recipe, "key old → new"; empty for a new run. */
    public List<String> changedOnResume() {
        return changedOnResume;
    }

    /** Steps completed so far. */
    public long step() {
        return step;
    }

    /** The logged loss terms. */
    public List<LogEntry> log() {
        return List.copyOf(log);
    }

    /**
     * Trains to the recipe's step count (or until {@link TrainListener#stopRequested()}), writing a
     * checkpoint every {@code checkpoint_every} steps and at the end; returns the last checkpoint.
     */
    public Path run(TrainListener listener) {
        long total = recipe.steps();
        listener.onStart(step, total, vae.parameterCount());
        Path last = CheckpointStore.latest(runDir).orElse(null);
        int logEvery = Math.max(1, recipe.steps() / 500);
        long t0 = System.nanoTime();
        double elapsedBefore = elapsedSeconds;
        vae.train(true);
        while (step < total) {
            double lr = lrSchedule.at(step);
            optimizer.setLearningRate(lr);
            criticOptimizer.setLearningRate(lr);
            double loss = trainStep();
            if (ema != null) {
                ema.update(step);
            }
            step++;
            elapsedSeconds = elapsedBefore + (System.nanoTime() - t0) / 1e9;
            if (step % logEvery == 0 || step == total) {
                flushLog();
            }
            listener.onStep(step, total, loss, lr);
            boolean stop = step < total && listener.stopRequested();
            if (step % recipe.checkpointEvery() == 0 || step == total || stop || listener.checkpointRequested()) {
                last = saveCheckpoint();
                listener.onCheckpoint(last);
            }
            if (stop) {
                break;
            }
        }
        vae.train(false);
        return last == null ? saveCheckpoint() : last;
    }

    /** One step of the autoencoder, then (once it learns) one of the critic; returns the autoencoder's loss. */
    private double trainStep() {
        boolean adversarial = recipe.discriminatorActive(step);
        optimizer.zeroGrad();
        try (Scope s = Scope.open()) {
            Tensor x = data.sample(dataGen, recipe.batchSize());
            Tensor reconstruction;
            Tensor l1;
            Tensor perceptualTerm;
            Tensor kl;
            Tensor fakeLogits = null;
            try (Precision.Region region = recipe.precision().open()) {
                DiagonalGaussian posterior = vae.encode(x);
                reconstruction = vae.decode(posterior.sample(posteriorGen)).to(DType.FLOAT32);
                l1 = x.sub(reconstruction).abs().mean();
                perceptualTerm = perceptual == null ? Tensor.scalar(0) : perceptual.distance(reconstruction, x).mean();
                kl = klPerPixel(posterior, x);
                if (adversarial) {
                    // the critic is frozen for this pass: its weight gradients here would be discarded by its own step
                    criticTrainable(false);
                    fakeLogits = critic.forward(reconstruction).to(DType.FLOAT32);
                }
            }
            Tensor rec = l1.add(perceptualTerm.mul(recipe.perceptualWeight()));
            Tensor loss = rec.add(kl.mul(recipe.klWeight()));
            double weight = 0;
            double adversarialValue = 0;
            if (adversarial) {
                Tensor generatorLoss = PatchDiscriminator.generatorLoss(fakeLogits);
                weight = adaptiveWeight(rec, generatorLoss) * recipe.discWeight();
                adversarialValue = generatorLoss.item();
                loss = loss.add(generatorLoss.mul(weight));
            }
            double value = loss.item();
            if (!Double.isFinite(value)) {
                throw divergence("loss is " + value);
            }
            loss.backward();
            double norm = recipe.gradClip() > 0 ? optimizer.clipGradNorm(recipe.gradClip()) : 0;
            if (!Double.isFinite(norm)) {
                throw divergence("gradient norm is " + norm);
            }
            optimizer.step();
            double criticValue = recipe.criticTraining(step) ? criticStep(x, reconstruction.detach()) : 0;
            accumulate(value, l1.item(), perceptualTerm.item(), kl.item(), adversarialValue, criticValue, weight);
            return value;
        }
    }

    /**
     * The KL term of the loss: KL(q(z | x) ‖ N(0, I)) summed over a latent, averaged over the batch and
     * divided by the pixels of an image, so that its weight relates to the per-pixel L1 as the
     * original recipe's relates to its pixel sum.
     */
    public static Tensor klPerPixel(DiagonalGaussian posterior, Tensor images) {
        return posterior.klToStandardNormal().to(DType.FLOAT32).mean().div(images.numel() / images.size(0));
    }

    /** λ = ‖∇_L rec‖ / (‖∇_L adv‖ + ε), clamped, at the decoder's last layer L (Esser et al. 2021, eq. 7). */
    private double adaptiveWeight(Tensor rec, Tensor adversarial) {
        Tensor one = Tensor.scalar(1);
        double recNorm = rec.vjp(lastLayer, one, true).norm().item();
        double advNorm = adversarial.vjp(lastLayer, one, true).norm().item();
        return Math.min(Math.max(recNorm / (advNorm + ADVERSARIAL_EPS), 0), ADVERSARIAL_MAX);
    }

    private void criticTrainable(boolean on) {
        critic.parameters().forEach(p -> p.requiresGrad_(on));
    }

    private double criticStep(Tensor real, Tensor fake) {
        criticTrainable(true);
        criticOptimizer.zeroGrad();
        Tensor loss;
        try (Precision.Region region = recipe.precision().open()) {
            loss = PatchDiscriminator.hingeLoss(critic.forward(real).to(DType.FLOAT32), critic.forward(fake).to(DType.FLOAT32));
        }
        double value = loss.item();
        if (!Double.isFinite(value)) {
            throw divergence("the critic's loss is " + value);
        }
        loss.backward();
        if (recipe.gradClip() > 0) {
            criticOptimizer.clipGradNorm(recipe.gradClip());
        }
        criticOptimizer.step();
        return value;
    }

    private void accumulate(double... values) {
        for (int i = 0; i < values.length; i++) {
            sums[i] += values[i];
        }
        summed++;
    }

    private void flushLog() {
        double n = Math.max(1, summed);
        log.add(new LogEntry(step, sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n, sums[4] / n, sums[5] / n, sums[6] / n));
        java.util.Arrays.fill(sums, 0);
        summed = 0;
    }

    private DiffusionException divergence(String problem) {
        return RunDirectory.divergence(runDir, "autoencoder training", step + 1, problem);
    }

    // ------------------------------------------------------------------ checkpoints

    private Path saveCheckpoint() {
        Map<String, String> meta = Map.of("format", "diffusion4j", "step", Long.toString(step));
        try (Checkpoint.Writer w = Checkpoint.write(runDir, step)) {
            w.config(fullConfig());
            w.model(vae.stateDict(), meta);
            if (ema != null) {
                w.ema(ema.state(), meta);
            }
            optimizer.save(w.optimizerFile());
            w.tensors(Checkpoint.DISCRIMINATOR_FILE, critic.stateDict(), meta);
            criticOptimizer.save(w.file(Checkpoint.DISCRIMINATOR_OPTIMIZER_FILE));
            if (perceptualNetwork != null) {
                perceptualNetwork.save(w.file(Checkpoint.PERCEPTUAL_FILE));
            }
            w.trainerState(trainerState());
            return w.commit(recipe.keepCheckpoints()).dir();
        }
    }

    private Map<String, Object> fullConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "diffusion4j");
        m.put("format_version", Checkpoint.FORMAT_VERSION);
        m.put(SECTION, vae.config().toConfig());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("source", data.name());
        d.put("shape", List.of(data.channels(), data.height(), data.width()));
        m.put("data", d);
        m.put("training", recipe.toConfig());
        return m;
    }

    private Map<String, Object> trainerState() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("elapsed_seconds", elapsedSeconds);
        m.put("data_rng_state", Base64.getEncoder().encodeToString(dataGen.state()));
        m.put("posterior_rng_state", Base64.getEncoder().encodeToString(posteriorGen.state()));
        m.put("log_columns", List.of("step", "total", "l1", "perceptual", "kl", "adversarial", "critic", "adaptive_weight"));
        m.put("log", log.stream().map(LogEntry::toArray).toList());
        return m;
    }

    private void restore(Checkpoint ckpt) {
        try (Scope s = Scope.open()) {
            vae.loadStateDict(ckpt.weights(Checkpoint.MODEL_FILE));
            if (ema != null) {
                ema.load(ckpt.weights(Checkpoint.EMA_FILE));
            }
            critic.loadStateDict(ckpt.weights(Checkpoint.DISCRIMINATOR_FILE));
        }
        optimizer.load(ckpt.dir().resolve(Checkpoint.OPTIMIZER_FILE));
        criticOptimizer.load(ckpt.dir().resolve(Checkpoint.DISCRIMINATOR_OPTIMIZER_FILE));
        Map<String, Object> st = ckpt.trainerState();
        try {
            step = ((Number) st.get("step")).longValue();
            elapsedSeconds = ((Number) st.get("elapsed_seconds")).doubleValue();
            dataGen.setState(Base64.getDecoder().decode((String) st.get("data_rng_state")));
            posteriorGen.setState(Base64.getDecoder().decode((String) st.get("posterior_rng_state")));
            @SuppressWarnings("unchecked")
            List<List<Number>> entries = (List<List<Number>>) st.get("log");
            entries.forEach(e -> log.add(LogEntry.of(e)));
        } catch (ClassCastException | NullPointerException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new DiffusionException(ckpt.dir().resolve(Checkpoint.STATE_FILE) + " is malformed: " + e.getMessage());
        }
    }
}
