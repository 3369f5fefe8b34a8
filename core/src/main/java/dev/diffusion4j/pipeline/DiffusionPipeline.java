package dev.diffusion4j.pipeline;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.Version;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.guidance.ClassifierFreeGuidance;
import dev.diffusion4j.guidance.ClassifierGuidance;
import dev.diffusion4j.guidance.ClippedDenoiser;
import dev.diffusion4j.guidance.DynamicThreshold;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.model.CountingDenoiser;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.DenoisingNetwork;
import dev.diffusion4j.model.DiscreteDenoiser;
import dev.diffusion4j.model.LatentSpace;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.model.NoisyClassifier;
import dev.diffusion4j.model.Normalizer;
import dev.diffusion4j.model.PrecisionDenoiser;
import dev.diffusion4j.model.PromptEncoder;
import dev.diffusion4j.models.sd.DiffusersScheduler;
import dev.diffusion4j.models.sd.Lora;
import dev.diffusion4j.models.sd.SingleFileCheckpoint;
import dev.diffusion4j.models.sd.StableDiffusionFolder;
import dev.diffusion4j.models.sd.StableDiffusionNetwork;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.models.vae.AutoencoderSource;
import dev.diffusion4j.oracle.MixtureDenoiser;
import dev.diffusion4j.oracle.Oracles;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.sampling.Sampler;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.sampling.SamplingListener;
import dev.diffusion4j.sampling.SamplingStep;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.schedule.TimestepSpacing;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A model ready to generate: a trained checkpoint, or the analytic oracle. {@link #generate} is the
 * one path from a {@link GenerationRequest} to samples with their metadata; the CLI and the studio
 * call nothing else to generate.
 *
 * <pre>{@code
 * DiffusionPipeline pipe = DiffusionPipeline.open("runs/moons");
 * try (Scope scope = Scope.open()) {
 *     GenerationResult r = pipe.generate(GenerationRequest.builder().count(2000).sampler("ddim").steps(50).seed(42).build());
 *     float[] xy = r.samples().toFloatArray();
 * }
 * }</pre>
 */
public final class DiffusionPipeline {
    /** Largest batch of vectors run through the network at once; bigger requests are split. */
    public static final int MAX_BATCH = 16_384;
    /** Image batches are capped at this many values (a U-Net's activations are ~100× its input). */
    public static final int MAX_IMAGE_BATCH_VALUES = 200_000;
    /** The prefix that selects the analytic oracle in {@link #open}. */
    public static final String ORACLE_PREFIX = "oracle:";
    /** Latents decoded at a time: the decoder's activations are megabytes per image. */
    private static final int DECODE_BATCH = 16;
    /**
     * Latents larger than this many pixels a side (768-pixel images for Stable Diffusion) are decoded
     * in overlapping tiles, so that memory stays bounded (a whole 2048² decode needs ~10 GB); smaller
     * ones decode whole, exactly.
     */
    private static final int DECODE_TILE = 96;
    private static final int DECODE_OVERLAP = 16;

    private final String name;
    private final Checkpoint checkpoint;
    private final GenerationRequest.Weights weights;
    private final Map<String, Object> config;
    private final ModelSpec spec;
    private final DenoisingNetwork network;
    private final MixtureDenoiser exact;
    /** A latent model's decoder; null for models of the data itself. */
    private final AutoencoderKL autoencoder;
    /** The weights file whose hash names a model read from another tool's folder (its U-Net's); null otherwise. */
    private Path hashedWeights;
    /** A diffusers pipeline's scheduler config, whose grids the samplers that match its schedulers walk; null otherwise. */
    private Map<String, Object> schedulerConfig;
    /** A latent model's preview map fitted to its decoder, for models that carry none; null until asked for. */
    private double[][] fittedPreview;
    private String weightsHash;

    private DiffusionPipeline(String name, Checkpoint checkpoint, GenerationRequest.Weights weights, Map<String, Object> config,
            ModelSpec spec, DenoisingNetwork network, MixtureDenoiser exact, AutoencoderKL autoencoder) {
        this.name = name;
        this.checkpoint = checkpoint;
        this.weights = weights;
        this.config = config;
        this.spec = spec;
        this.network = network;
        this.exact = exact;
        this.autoencoder = autoencoder;
        if (spec.isLatent() != (autoencoder != null)) {
            throw new IllegalArgumentException("a latent model needs its autoencoder, and only a latent model has one");
        }
    }

    /** {@code oracle:SPEC} opens the analytic oracle ({@link #oracle}); anything else is a run or checkpoint directory. */
    public static DiffusionPipeline open(String model, GenerationRequest.Weights weights) {
        if (model == null || model.isBlank()) {
            throw new DiffusionException("model must name a run directory, a checkpoint directory, a diffusers pipeline folder, a Stable "
                    + "Diffusion checkpoint file (.safetensors) or oracle:NAME");
        }
        return model.startsWith(ORACLE_PREFIX) ? oracle(model.substring(ORACLE_PREFIX.length())) : load(Path.of(model), weights);
    }

    /** {@link #open(String, GenerationRequest.Weights)} with the EMA weights. */
    public static DiffusionPipeline open(String model) {
        return open(model, GenerationRequest.Weights.EMA);
    }

    /** The model a request names, with the weights it asks for. */
    public static DiffusionPipeline open(GenerationRequest request) {
        return open(request.model(), request.weights());
    }

    /** The newest checkpoint of a run directory (or a checkpoint directory) with its EMA weights. */
    public static DiffusionPipeline load(Path dir) {
        return load(dir, GenerationRequest.Weights.EMA);
    }

    /**
     * A checkpoint with the weights asked for (EMA falls back to the raw weights when the run kept
     * none), a Stable Diffusion pipeline folder saved by diffusers ({@link StableDiffusionFolder}) or
     * an original Stable Diffusion checkpoint file ({@link SingleFileCheckpoint}), which have one set
     * of weights.
     */
    public static DiffusionPipeline load(Path dir, GenerationRequest.Weights weights) {
        if (StableDiffusionFolder.isPipelineFolder(dir) || SingleFileCheckpoint.isCheckpointFile(dir)) {
            StableDiffusionFolder.Loaded sd = java.nio.file.Files.isDirectory(dir) ? StableDiffusionFolder.load(dir) : SingleFileCheckpoint.load(dir);
            sd.spec().network().applyThreadPolicy();
            Map<String, Object> config = new LinkedHashMap<>(sd.spec().toConfig());
            config.put("model_index", sd.modelIndex());
            if (!sd.ignored().isEmpty()) {
                config.put("ignored_keys", sd.ignored());   // a single file's keys no part reads, for `diffuse info`
            }
            Path name = dir.toAbsolutePath().normalize().getFileName();
            DiffusionPipeline pipeline = new DiffusionPipeline(name == null ? dir.toString() : name.toString(), null,
                    GenerationRequest.Weights.RAW, config, sd.spec(), sd.network(), null, sd.autoencoder());
            pipeline.hashedWeights = sd.unetWeights();
            pipeline.schedulerConfig = sd.schedulerConfig();
            return pipeline;
        }
        Checkpoint ckpt = Checkpoint.open(dir);
        Map<String, Object> config = ckpt.config();
        ModelSpec spec = ModelSpec.fromConfig(config);
        DenoisingNetwork net = spec.buildNetwork(new Generator(0));
        String file = ckpt.weightsFile(weights == GenerationRequest.Weights.EMA);
        try (Scope s = Scope.open()) {
            net.loadStateDict(ckpt.weights(file));
        }
        net.train(false);
        GenerationRequest.Weights used = file.equals(Checkpoint.EMA_FILE) ? GenerationRequest.Weights.EMA : GenerationRequest.Weights.RAW;
        AutoencoderKL autoencoder = null;
        if (spec.isLatent()) {
            try (Scope s = Scope.open()) {
                autoencoder = AutoencoderKL.of(spec.latent().autoencoder(), ckpt.weights(Checkpoint.AUTOENCODER_FILE));
            }
            autoencoder.train(false);
        }
        return new DiffusionPipeline(ckpt.runName(), ckpt, used, config, spec, net, null, autoencoder);
    }

    /**
     * A network held in memory — weights of a run still training, say — named {@code name}; the
     * tensors are copied into the pipeline's own network. A latent model's autoencoder is read from
     * the folder its spec names, which must still hold the same weights.
     */
    public static DiffusionPipeline of(String name, ModelSpec spec, Map<String, Tensor> weights) {
        DenoisingNetwork net = spec.buildNetwork(new Generator(0));
        net.loadStateDict(weights);
        net.train(false);
        AutoencoderKL autoencoder = null;
        if (spec.isLatent()) {
            Path folder = Path.of(spec.latent().source());
            AutoencoderSource.requireSame(folder, spec.latent().sha256());
            autoencoder = AutoencoderKL.of(spec.latent().autoencoder(), AutoencoderKL.load(folder).stateDict());
            autoencoder.train(false);
        }
        return new DiffusionPipeline(name, null, GenerationRequest.Weights.EMA, Map.of(), spec, net, null, autoencoder);
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
        if (!spec.toLowerCase(Locale.ROOT).endsWith(".json")) {
            config.put("data", Map.of("source", spec));
        }
        ModelSpec modelSpec = new ModelSpec(null, schedule, Prediction.SAMPLE, Normalizer.identity(exact.dim()), null);
        return new DiffusionPipeline(ORACLE_PREFIX + spec, null, GenerationRequest.Weights.EMA, config, modelSpec, null, exact, null);
    }

    // ------------------------------------------------------------------ generation

    /** {@link #generate(GenerationRequest, GenerationListener)} without a listener. */
    public GenerationResult generate(GenerationRequest request) {
        return generate(request, GenerationListener.NONE);
    }

    /**
     * Draws {@code request.count()} samples in data units (normalisation undone). The request is
     * checked against this model first (its class, prompt, guidance, size and sampler settings), so
     * nothing runs on a request that cannot work. Large requests run in batches of bounded memory;
     * all starting noise and every fresh draw of the samplers come from one generator seeded with the
     * request's seed, so the same request gives the same samples.
     */
    public GenerationResult generate(GenerationRequest request, GenerationListener listener) {
        Plan plan = plan(request);
        if (network instanceof StableDiffusionNetwork sd) {
            // LoRAs change the shared weights for the run, so this pipeline's runs take turns
            synchronized (network) {
                try (Lora.Merged merged = Lora.merge(sd, plan.loras(), request.loras().stream().map(GenerationRequest.LoraWeight::multiplier)
                        .toList())) {
                    return run(request, plan, listener);
                } finally {
                    plan.loras().forEach(Lora::close);
                }
            }
        }
        return run(request, plan, listener);
    }

    private GenerationResult run(GenerationRequest request, Plan plan, GenerationListener listener) {
        int n = request.count();
        int perBatch = maxBatch(plan.item());
        int batches = (n + perBatch - 1) / perBatch;
        int[] steps = {0};
        Generator g = new Generator(request.seed());
        List<Tensor> parts = new ArrayList<>();
        long t0 = System.nanoTime();
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            for (int batch = 0; batch < batches; batch++) {
                int b = Math.min(perBatch, n - batch * perBatch);
                int index = batch;
                SamplingListener perStep = new SamplingListener() {
                    @Override
                    public void onStep(SamplingStep step) {
                        if (index == 0) {
                            steps[0]++;
                        }
                        listener.onStep(index, batches, step);
                    }

                    @Override
                    public boolean isCancelled() {
                        return listener.isCancelled();
                    }
                };
                Tensor noise = Tensor.randn(g, batchShape(b, plan.item()));
                listener.onNoise(index, batches, noise);
                parts.add(decode(spec.denormalize(sample(plan, noise, g, perStep))));
            }
            Tensor samples = s.keep(parts.size() == 1 ? parts.get(0) : Tensor.cat(parts, 0));
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new GenerationResult(samples, metadata(request, plan, steps[0]), plan.warnings(), seconds);
        }
    }

    /**
     * One sampler run from {@code noise}. On a diffusers scheduler's grid the start takes its scale,
     * and a run ending on a noisy level hands on its variance-preserving latents x/√(1+σ_end²).
     */
    private static Tensor sample(Plan plan, Tensor noise, Generator g, SamplingListener listener) {
        double[] sigmas = plan.sigmas();
        DiffusersScheduler d = plan.diffusers();
        Tensor start = d == null ? noise : noise.mul(d.startScale() / plan.denoiser().initNoiseScale(sigmas[0]));
        Tensor x = plan.sampler().sample(plan.denoiser(), start, sigmas, g, listener);
        double end = sigmas[sigmas.length - 1];
        return d != null && d.vpOutput() ? x.div(Math.sqrt(1 + end * end)) : x;
    }

    /** A latent model's samples through its decoder, in batches of bounded memory, to images in [−1, 1]; anything else as it is. */
    private Tensor decode(Tensor samples) {
        if (autoencoder == null) {
            return samples;
        }
        List<Tensor> images = new ArrayList<>();
        for (long i = 0; i < samples.size(0); i += DECODE_BATCH) {
            Tensor z = autoencoder.fromDiffusionLatent(samples.narrow(0, i, Math.min(DECODE_BATCH, samples.size(0) - i)));
            images.add(autoencoder.decodeTiled(z, DECODE_TILE, DECODE_OVERLAP).clamp(-1, 1));
        }
        return images.size() == 1 ? images.get(0) : Tensor.cat(images, 0);
    }

    /**
     * The preview map of a latent model whose training fitted none (another tool's pipeline): least
     * squares from latent pixels to the mean colour of the pixels they decode to, over two 16×16
     * latents of standard normal noise at the model's scale — a property of the decoder, fitted once.
     */
    private synchronized double[][] decoderPreview() {
        if (fittedPreview == null) {
            int c = (int) spec.sampleShape()[0];
            int f = autoencoder.config().downsampleFactor();
            float[] latents;
            float[] rgb;
            try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
                Tensor z = Tensor.randn(new Generator(0), 2, c, 16, 16);
                Tensor image = autoencoder.decode(autoencoder.fromDiffusionLatent(z)).clamp(-1, 1).avgPool2d(f, f);
                latents = z.permute(0, 2, 3, 1).contiguous().toFloatArray();
                rgb = image.permute(0, 2, 3, 1).contiguous().toFloatArray();
            }
            fittedPreview = LatentSpace.fitPreview(latents, rgb, c);
        }
        return fittedPreview;
    }

    /**
     * A cheap RGB picture of latents [B, C, h, w] at the model's scale: the linear map fitted to the
     * autoencoder when the model was trained (or, for another tool's pipeline, to its decoder), [B, 3, h, w] in [−1, 1], for live previews; for any other
     * model the input itself.
     */
    public Tensor preview(Tensor latents) {
        if (!spec.isLatent()) {
            return latents;
        }
        double[][] map = spec.latent().preview() != null ? spec.latent().preview() : decoderPreview();
        int c = map[0].length - 1;
        double[] weight = new double[3 * c];
        double[] bias = new double[3];
        for (int ch = 0; ch < 3; ch++) {
            System.arraycopy(map[ch], 0, weight, ch * c, c);
            bias[ch] = map[ch][c];
        }
        Tensor w = Tensor.of(weight, 3, c, 1, 1).to(latents.dtype());
        Tensor b = Tensor.of(bias, 3).to(latents.dtype());
        return latents.conv2d(w, b, 1, 0, 1).clamp(-1, 1);
    }

    /**
     * Checks {@code request} against this model — its class or prompt, guidance, size, sampler and
     * grid — without generating anything, so that a server can answer a bad request at once.
     * Returns the warnings generating it would give.
     */
    public List<String> check(GenerationRequest request) {
        Plan plan = plan(request);
        plan.loras().forEach(Lora::close);
        return plan.warnings();
    }

    /** A request resolved against this model: everything a run needs, checked. */
    private record Plan(CountingDenoiser denoiser, Sampler sampler, double[] sigmas, long[] item, List<String> warnings,
                        Map<String, Object> resolved, DiffusersScheduler diffusers, List<Lora> loras) {
    }

    private Plan plan(GenerationRequest request) {
        requireModel(request);
        List<String> warnings = new ArrayList<>();
        Map<String, Object> resolved = new LinkedHashMap<>();
        Sampler sampler = Samplers.create(request.sampler(), request.samplerOptions());
        DiffusersScheduler diffusers = diffusersGrid(request, warnings);
        CountingDenoiser model = new CountingDenoiser(denoiser(request, warnings, resolved, diffusers));
        double[] sigmas = diffusers != null ? diffusers.sigmas() : sampler.sigmas(model, request.grid());
        return new Plan(model, sampler, sigmas, itemShape(request), warnings, resolved, diffusers, loras(request));
    }

    /** The request's LoRA files, read against this model's modules (so a LoRA for another model is an error before anything runs). */
    private List<Lora> loras(GenerationRequest r) {
        if (r.loras().isEmpty()) {
            return List.of();
        }
        if (!(network instanceof StableDiffusionNetwork sd)) {
            throw new DiffusionException("lora files adapt Stable Diffusion pipelines; " + name + " is not one");
        }
        List<Lora> out = new ArrayList<>();
        for (GenerationRequest.LoraWeight l : r.loras()) {
            out.add(Lora.read(l.file(), sd));
        }
        return out;
    }

    /**
     * For a diffusers pipeline, the grid of its scheduler that steps as the request's sampler does, so
     * that the same seed gives diffusers' image; null for other models, and for samplers and grids
     * diffusers has no scheduler for (they walk the project's grid, with a warning).
     */
    private DiffusersScheduler diffusersGrid(GenerationRequest r, List<String> warnings) {
        if (schedulerConfig == null) {
            return null;
        }
        try {
            DiffusersScheduler d = DiffusersScheduler.forSampler(r.sampler(), r.samplerOptions(), r.grid(), schedulerConfig, spec.schedule(),
                    r.grid().stepsOr(DiffusersScheduler.DEFAULT_STEPS));
            if (d == null) {
                warnings.add("diffusers has no scheduler that steps as " + r.sampler() + " with these settings: the project's grid is "
                        + "used, so the image is not diffusers' (ddim, euler, euler_ancestral, dpmpp_2m and dpmpp_2m_sde on the model's "
                        + "or Karras levels are)");
            }
            return d;
        } catch (DiffusionException e) {
            warnings.add(e.getMessage() + "; the project's grid is used");
            return null;
        }
    }

    /**
     * The model as {@code request} steers it — guidance and thresholding of x̂₀ applied — as samplers
     * see it (normalised data space); for benchmarks and tools that drive a sampler themselves.
     */
    public Denoiser denoiser(GenerationRequest request) {
        requireModel(request);
        return denoiser(request, new ArrayList<>(), new LinkedHashMap<>(), null);
    }

    /** The model as an unguided request sees it: x̂₀ clipped to the training data's range. */
    public Denoiser denoiser() {
        return denoiser(GenerationRequest.builder().build());
    }

    private void requireModel(GenerationRequest request) {
        if (request.weights() != weights && checkpoint != null && checkpoint.hasEma()) {
            throw new DiffusionException("the request asks for the " + request.weights().name().toLowerCase(Locale.ROOT)
                    + " weights but " + name + " was opened with the " + weights.name().toLowerCase(Locale.ROOT) + " weights; open it with "
                    + "DiffusionPipeline.open(request)");
        }
    }

    /**
     * The model as {@code r} steers it; warnings go to {@code warnings}, and the class names the
     * request's labels resolved to (for the metadata) to {@code resolved}.
     */
    private Denoiser denoiser(GenerationRequest r, List<String> warnings, Map<String, Object> resolved, DiffusersScheduler diffusers) {
        if (r.precision() != Precision.FP32 && exact != null) {
            throw new DiffusionException("precision " + r.precision().configName() + " is for trained networks; " + name
                    + " is an exact denoiser, computed in float64");
        }
        Denoiser d = exact != null ? exact : spec.denoiser(network);
        if (diffusers != null && diffusers.timesteps() != null && d instanceof DiscreteDenoiser discrete) {
            // the U-Net at the scheduler's own timesteps (diffusers rounds some, interpolates none)
            d = discrete.withTimesteps(Arrays.copyOf(diffusers.sigmas(), diffusers.timesteps().length), diffusers.timesteps());
        }
        if (r.classifierGuided()) {
            ClassTarget target = classifierTarget(r);
            resolved.put("class", target.name());
            d = new ClassifierGuidance(d, target.classifier(), target.label(), r.classifierScale());
        } else if (r.conditioned()) {
            Condition positive;
            Condition negative = null;
            if (r.prompt() != null && network instanceof PromptEncoder own) {
                Condition[] both = own.encodePrompts(r.prompt(), r.negative(), r.clipSkip(), warnings);
                positive = both[0];
                negative = both[1];
            } else if (r.prompt() != null) {
                positive = promptCondition(r.prompt(), r.clipSkip(), "prompt", warnings);
                if (r.negative() != null) {
                    negative = promptCondition(r.negative(), r.clipSkip(), "negative", warnings);
                }
            } else {
                positive = Condition.ofClass(classLabel(r.label(), "class"));
                resolved.put("class", className(positive.label()));
                if (r.negative() != null) {
                    negative = Condition.ofClass(classLabel(r.negative(), "negative"));
                    resolved.put("negative", className(negative.label()));
                }
            }
            d = new ClassifierFreeGuidance(d, new ClassifierFreeGuidance.Options(positive, negative, r.guidance(), r.guidanceLow(),
                    r.guidanceHigh(), r.cfgRescale()));
        }
        Denoiser steered = switch (r.threshold()) {
            case STATIC -> spec.sampleRange() != null ? new ClippedDenoiser(d, spec.sampleRange()) : d;
            case DYNAMIC -> {
                if (!spec.isImage()) {
                    throw new DiffusionException("threshold dynamic assumes pixel values in [-1, 1]; it is for image models, and "
                            + name + " generates vectors");
                }
                yield new DynamicThreshold(d, r.thresholdPercentile());
            }
            case NONE -> d;
        };
        // outermost, so guidance's own evaluations (conditional and unconditional, a classifier's gradient) run in it too
        return r.precision() == Precision.FP32 ? steered : new PrecisionDenoiser(steered, r.precision());
    }

    /** A classifier of noisy samples, the label it steers to and that class's name. */
    private record ClassTarget(NoisyClassifier classifier, int label, String name) {
    }

    /** Class {@code k}'s name in the training data, or its index when the data named none. */
    private String className(int k) {
        List<String> names = classNames();
        return k < names.size() ? names.get(k) : Integer.toString(k);
    }

    private ClassTarget classifierTarget(GenerationRequest r) {
        if (r.classifier() == null) {
            if (exact == null) {
                throw new DiffusionException("classifier guidance of " + name + " needs a classifier of noisy samples: give classifier, "
                        + "one trained on noisy images (only the analytic oracles have an exact one)");
            }
            int k = classLabel(r.label(), "class");
            return new ClassTarget(exact, k, className(k));
        }
        ImageClassifier classifier = ImageClassifier.load(r.classifier());
        if (!classifier.config().noisy()) {
            throw new DiffusionException(r.classifier() + " was trained on clean images; classifier guidance needs one trained on "
                    + "noisy images");
        }
        long[] item = itemShape(r);
        if (item.length != 3 || !classifier.config().inputShape().equals(item[0] + "x" + item[1] + "x" + item[2])) {
            throw new DiffusionException("the classifier reads " + classifier.config().inputShape() + " images but " + name + " makes "
                    + (item.length == 3 ? item[0] + "x" + item[1] + "x" + item[2] + " images" : "vectors"));
        }
        List<String> names = classifier.config().classNames();
        int k = nameOrIndex(r.label(), "class", names, classifier.config().numClasses(), "the classifier");
        return new ClassTarget(classifier, k, names.get(k));
    }

    /** The label of {@code value} (a class name or an index) among this model's classes. */
    private int classLabel(String value, String field) {
        if (numClasses() == 0) {
            throw new DiffusionException(name + " is not class-conditional, so " + field + " cannot steer it; "
                    + (contextLength() > 0 ? "it is text-conditioned: give a prompt" : "train one on labelled data with class conditioning"));
        }
        return nameOrIndex(value, field, classNames(), numClasses(), name);
    }

    /** A class by (case-insensitive) name first — a CSV label column's classes are named by their values — then by index. */
    private static int nameOrIndex(String value, String field, List<String> names, int classes, String owner) {
        String v = value.strip();
        for (int k = 0; k < names.size(); k++) {
            if (names.get(k).equalsIgnoreCase(v)) {
                return k;
            }
        }
        if (v.matches("\\d{1,9}") && Integer.parseInt(v) < classes) {
            return Integer.parseInt(v);
        }
        throw new DiffusionException("unknown " + field + " '" + value + "': " + (names.isEmpty()
                ? owner + " named no classes, give an index 0 to " + (classes - 1)
                : owner + " knows " + String.join(", ", names) + " (or indices 0 to " + (classes - 1) + ")"));
    }

    private Condition promptCondition(String text, int clipSkip, String field, List<String> warnings) {
        if (contextLength() == 0) {
            throw new DiffusionException(name + " is not text-conditioned, so it takes no " + field + "; train one on captioned data"
                    + (numClasses() > 0 ? ", or steer this one with a class" : ""));
        }
        if (clipSkip > 0) {
            throw new DiffusionException("clip_skip reads a pretrained text encoder's earlier layers; " + name + " trained its own text "
                    + "encoder with its last layer, so give clip_skip 0");
        }
        ClipTokenizer.Encoding e = ClipTokenizer.clip().encode(text, contextLength());
        if (e.truncated()) {
            warnings.add("the " + field + " is longer than the model's context of " + contextLength() + " tokens (with start and end) "
                    + "and was cut to: \"" + ClipTokenizer.clip().decode(e) + "\"");
        }
        return Condition.ofTokens(e.ids());
    }

    /** The shape of one sample the request asks for: the model's, or an image of the requested size. */
    private long[] itemShape(GenerationRequest r) {
        long[] own = spec.sampleShape();
        long[] out = spec.outputShape();
        if (r.height() == 0 || (out.length == 3 && r.height() == out[1] && r.width() == out[2])) {
            return own;
        }
        if (!spec.isImage()) {
            throw new DiffusionException("size is for image models; " + name + " generates vectors of " + own[0] + " values");
        }
        // a latent model's network sees the image shrunk by the autoencoder's factor
        int factor = (int) (out[1] / own[1]);
        int multiple = spec.network().sizeMultiple() * factor;
        if (r.height() % multiple != 0 || r.width() % multiple != 0 || r.height() > 2048 || r.width() > 2048) {
            throw new DiffusionException("size " + r.height() + "x" + r.width() + " does not fit " + name + ": its network halves the "
                    + (factor > 1 ? "latent (the image shrunk " + factor + "×)" : "image") + " to a grid, so height and width must be "
                    + "multiples of " + multiple + " (up to 2048)");
        }
        return new long[] {own[0], r.height() / factor, r.width() / factor};
    }

    /** Samples drawn per batch: bounded memory whatever the count is. */
    private int maxBatch(long[] item) {
        long values = Arrays.stream(item).reduce(1, (a, b) -> a * b);
        return item.length == 3 ? (int) Math.max(1, MAX_IMAGE_BATCH_VALUES / values) : MAX_BATCH;
    }

    private static long[] batchShape(int b, long[] item) {
        long[] shape = new long[item.length + 1];
        shape[0] = b;
        System.arraycopy(item, 0, shape, 1, item.length);
        return shape;
    }

    // ------------------------------------------------------------------ metadata

    private GenerationMetadata metadata(GenerationRequest r, Plan plan, int steps) {
        long[] item = plan.item();
        double[] sigmas = plan.sigmas();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("software", "diffusion4j " + Version.VERSION);
        m.put("model", name);
        if (checkpoint != null) {
            String file = checkpoint.weightsFile(weights == GenerationRequest.Weights.EMA);
            m.put("model_hash", checkpoint.sha256(file).substring(0, 16));
            m.put("weights", weights == GenerationRequest.Weights.EMA ? "ema" : "raw");
            m.put("checkpoint_step", checkpoint.step());
        } else if (hashedWeights != null) {
            m.put("model_hash", weightsHash().substring(0, 16));
        }
        m.put("num", r.count());
        m.put("seed", r.seed());
        if (item.length == 3) {
            long factor = spec.outputShape()[1] / spec.sampleShape()[1];
            m.put("size", item[1] * factor + "x" + item[2] * factor);
        }
        if (spec.isLatent()) {
            m.put("latent", item[0] + "x" + item[1] + "x" + item[2]);
            if (spec.latent().sha256().length() >= 16) {   // a single-file checkpoint's autoencoder is named by the file's hash
                m.put("autoencoder_hash", spec.latent().sha256().substring(0, 16));
            }
        }
        if (r.label() != null) {
            m.put("class", plan.resolved().get("class"));
        }
        if (r.prompt() != null) {
            m.put("prompt", r.prompt());
        }
        if (r.negative() != null) {
            m.put("negative", r.prompt() != null ? r.negative() : plan.resolved().get("negative"));
        }
        if (r.classifierGuided()) {
            m.put("classifier_scale", r.classifierScale());
            m.put("classifier", r.classifier() == null ? "exact" : r.classifier().toString());
        } else if (r.conditioned()) {
            m.put("guidance", r.guidance());
            if (r.guidanceLow() > 0 || r.guidanceHigh() < Double.POSITIVE_INFINITY) {
                m.put("guidance_interval", r.guidanceLow() + "," + r.guidanceHigh());
            }
            if (r.cfgRescale() > 0) {
                m.put("cfg_rescale", r.cfgRescale());
            }
            if (r.clipSkip() > 0) {
                m.put("clip_skip", r.clipSkip());
            }
            if (!r.loras().isEmpty()) {
                m.put("lora", String.join(";", r.loras().stream().map(GenerationRequest.LoraWeight::toString).toList()));
            }
        }
        m.put("threshold", r.threshold().configName());
        if (r.threshold() == GenerationRequest.Threshold.DYNAMIC) {
            m.put("threshold_percentile", r.thresholdPercentile());
        }
        m.put("sampler", r.sampler().toLowerCase(Locale.ROOT));
        if (r.precision() != Precision.FP32) {
            m.put("precision", r.precision().configName());
        }
        m.put("steps", steps);
        if (r.grid().steps() != steps) {
            m.put("requested_steps", r.grid().steps());   // a budget (dpm_fast), 0 for error control or the sampler's default
        }
        GridSpec grid = r.grid();
        m.put("sigma_schedule", grid.schedule().configName());
        if (plan.diffusers() != null) {
            m.put("scheduler", plan.diffusers().className());
            m.put("spacing", plan.diffusers().spacing());
        } else if (grid.schedule() == SigmaSchedule.MODEL || grid.schedule() == SigmaSchedule.DEFAULT) {
            m.put("spacing", grid.spacingOr(TimestepSpacing.TRAILING).configName());
        }
        if (!Double.isNaN(grid.rho())) {
            m.put("rho", grid.rho());
        }
        m.put("sigma_max", sigmas[0]);
        m.put("sigma_min", sigmas[sigmas.length - 1] > 0 ? sigmas[sigmas.length - 1] : sigmas[sigmas.length - 2]);
        m.putAll(samplerSettings(r.sampler(), r.samplerOptions()));
        m.put("model_evaluations", plan.denoiser().count());
        return new GenerationMetadata(m);
    }

    /** The sampler options that differ from the defaults, and the SDE of the score-SDE samplers. */
    private static Map<String, Object> samplerSettings(String sampler, SamplerOptions o) {
        SamplerOptions d = SamplerOptions.DEFAULTS;
        Map<String, Object> m = new LinkedHashMap<>();
        if (!Double.isNaN(o.eta())) {
            m.put("eta", o.eta());
        }
        if (o.variance() != d.variance()) {
            m.put("variance", o.variance().configName());
        }
        if (o.churn().sChurn() > 0) {
            m.put("s_churn", o.churn().sChurn());
            m.put("s_tmin", o.churn().sTmin());
            m.put("s_tmax", o.churn().sTmax());
        }
        if (o.sNoise() != d.sNoise()) {
            m.put("s_noise", o.sNoise());
        }
        if (o.order() > 0) {
            m.put("order", o.order());
        }
        if (!o.variant().isEmpty()) {
            m.put("variant", o.variant());
        }
        String s = sampler.toLowerCase(Locale.ROOT);
        if (s.equals("sde_euler") || s.equals("pc") || o.sde() != d.sde()) {
            m.put("sde", o.sde().configName());
        }
        if (o.predictor() != d.predictor()) {
            m.put("predictor", o.predictor().configName());
        }
        if (o.snr() != d.snr()) {
            m.put("snr", o.snr());
        }
        if (o.correctorSteps() != d.correctorSteps()) {
            m.put("corrector_steps", o.correctorSteps());
        }
        if (!Double.isNaN(o.langevinEpsilon())) {
            m.put("langevin_eps", o.langevinEpsilon());
        }
        if (o.levelSteps() > 0) {
            m.put("level_steps", o.levelSteps());
        }
        if (!o.denoiseFinal()) {
            m.put("final_denoise", false);
        }
        if (!Double.isNaN(o.rtol())) {
            m.put("rtol", o.rtol());
        }
        if (!Double.isNaN(o.atol())) {
            m.put("atol", o.atol());
        }
        return m;
    }

    // ------------------------------------------------------------------ the model

    /** SHA-256 of the weights that name a model read from another tool's folder, computed once (gigabytes take seconds). */
    private synchronized String weightsHash() {
        if (weightsHash == null) {
            weightsHash = ModelFolder.sha256(hashedWeights.getParent(), hashedWeights.getFileName().toString());
        }
        return weightsHash;
    }

    /** A short name for titles: the run directory's name, or {@code oracle:SPEC}. */
    public String name() {
        return name;
    }

    /** The checkpoint it was loaded from; null for the oracle and for weights held in memory. */
    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** The checkpoint's config.json (the oracle's: its spec and data set). */
    public Map<String, Object> config() {
        return config;
    }

    public ModelSpec spec() {
        return spec;
    }

    /** Shape of a generated data point: [dim] for vectors, [C, H, W] for images (a latent model's decoded images). */
    public long[] sampleShape() {
        return spec.outputShape();
    }

    /** Number of values in a generated data point. */
    public int dataDim() {
        return (int) Arrays.stream(sampleShape()).reduce(1, (a, b) -> a * b);
    }

    /** True for a latent diffusion model, whose sampler works on latents that its autoencoder decodes. */
    public boolean isLatent() {
        return autoencoder != null;
    }

    /** True for the analytic oracle (no network, no checkpoint). */
    public boolean isOracle() {
        return exact != null;
    }

    /** Classes of a class-conditional model (an oracle's classes are its mixture components; 0 when unconditional). */
    public int numClasses() {
        return exact != null ? exact.numClasses() : network.numClasses();
    }

    /** The class names the training data gave, by label (empty if it named none). */
    public List<String> classNames() {
        Object data = config.get("data");
        Object names = data instanceof Map<?, ?> m ? m.get("class_names") : null;
        return names instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
    }

    /**
     * The data set the model learnt, opened as its run did (image size, channels, a CSV label column),
     * when it can still be opened: a built-in set, or a file that is still there. For plot backgrounds
     * and evaluations against the training data.
     */
    public Optional<DataSource> trainingData() {
        Object data = config.get("data");
        if (!(data instanceof Map<?, ?> d) || !(d.get("source") instanceof String source)) {
            return Optional.empty();
        }
        try {
            if (config.get("training") instanceof Map<?, ?> t && t.get("data") instanceof String opened) {
                // as the run opened it: by the path it was given, with its image options and label column
                Object size = t.get("image_size");
                Object channels = t.get("channels");
                ImageOptions options = new ImageOptions(size instanceof Number n && n.intValue() > 0 ? n.intValue() : null,
                        channels instanceof Number c && c.intValue() > 0 ? c.intValue() : null, (Boolean) t.get("flip"));
                return Optional.of(DataSources.open(opened, options, (String) t.get("label_column")));
            }
            return Optional.of(DataSources.open(source));
        } catch (DiffusionException | ClassCastException e) {
            return Optional.empty();
        }
    }

    /** Token ids per prompt of a text-conditioned model; 0 for any other. */
    public int contextLength() {
        return network == null ? 0 : network.contextLength();
    }

    /** Whether the pipeline samples with the run's EMA weights. */
    public boolean usesEmaWeights() {
        return checkpoint != null && weights == GenerationRequest.Weights.EMA;
    }

    public long parameterCount() {
        return network == null ? 0 : network.parameterCount();
    }
}
