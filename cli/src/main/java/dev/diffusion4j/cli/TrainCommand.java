package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CaptionedData;
import dev.diffusion4j.data.CsvDataset;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.model.NetworkConfig;
import dev.diffusion4j.model.SeedUNetConfig;
import dev.diffusion4j.model.TextEncoderConfig;
import dev.diffusion4j.model.TextUNet2DConditionConfig;
import dev.diffusion4j.model.TextUNet2DConfig;
import dev.diffusion4j.model.UNet2DConfig;
import dev.diffusion4j.model.VarianceType;
import dev.diffusion4j.models.vae.AutoencoderSource;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.objective.LossType;
import dev.diffusion4j.objective.Weighting;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.train.LatentImages;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Trains a diffusion model and writes checkpoints and a loss curve into the output directory. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a diffusion model on a built-in data set, a CSV file or images (a folder, .npy, IDX files, fashion-mnist).",
                "Writes checkpoint-NNNNNNNN/ directories (config.json, model.safetensors, ema.safetensors, optimizer state) "
                        + "and loss.png into --out (image models also samples/step-NNNNNNNN.png grids); "
                        + "--resume continues the newest checkpoint exactly."})
final class TrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", description = "Built-in data set name (see 'diffuse datasets'), a CSV file, or image data: a folder of "
            + "PNG/JPEG files (class sub-folders optional), a .npy array or IDX files. Required unless --resume.")
    String data;

    @Option(names = "--model", defaultValue = "auto", description = "Network architecture: mlp (vectors) or unet (images); "
            + "with --text also unet2d-condition, Stable Diffusion's U-Net (diffusers' UNet2DConditionModel: the prompt through "
            + "cross-attention only) at the widths --channels gives; auto picks by the data (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--preset", description = "seed-unet: the seed tutorial's U-Net and recipe (dim 28, mults 1,2,4, ConvNeXt "
            + "blocks, linear attention per level, T = 200 linear, Huber loss, lr 1e-3, batch 128; explicit options override).")
    String preset;

    @Option(names = "--image-size", description = "Images: resize and centre-crop to N x N pixels (default: the data's own size).")
    Integer imageSize;

    @Option(names = "--color", description = "Images: gray or rgb (default: the data's own).")
    String color;

    @Option(names = "--flip", negatable = true, description = "Images: random horizontal flips (default: on for image folders, "
            + "off for Fashion-MNIST, whose shoes all face one way).")
    Boolean flip;

    @Option(names = "--channels", split = ",", paramLabel = "C1,C2,...",
            description = "U-Net channels per resolution level, e.g. 32,64,128 (default: the preset's).")
    int[] unetChannels;

    @Option(names = "--precision", description = "fp32 or bf16 (autocast to bfloat16; fast only on CPUs with AMX/AVX-512 BF16). Default: "
            + "bf16 for image models where it is fast and right on this CPU (1.4-1.5x the fp32 speed), else fp32.")
    String precision;

    @Option(names = "--sample-every", description = "Image models: steps between sample grids in samples/ (default 1000, 0 = off).")
    Integer sampleEvery;

    @Option(names = "--out", required = true, description = "Run directory for checkpoints and plots.")
    Path out;

    @Option(names = "--steps", description = "Optimizer steps (default 4000; images 6000).")
    Integer steps;

    @Option(names = "--batch-size", description = "Samples per step (default 256; images 64).")
    Integer batchSize;

    @Option(names = "--lr", description = "Peak learning rate of AdamW (default 1e-3).")
    Double lr;

    @Option(names = "--schedule", defaultValue = "linear",
            description = "Beta schedule: linear, scaled_linear, quadratic, sigmoid, cosine, exponential (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--timesteps", defaultValue = "1000", description = "Training timesteps T (default: ${DEFAULT-VALUE}).")
    int timesteps;

    @Option(names = "--zero-snr", description = "Rescale the schedule to zero terminal SNR (pair with --prediction v).")
    boolean zeroSnr;

    @Option(names = "--prediction", description = "What the network predicts: eps, x0 or v (default eps).")
    String prediction;

    @Option(names = "--loss", description = "Regression loss: l2, l1 or huber (default l2).")
    String loss;

    @Option(names = "--min-snr", paramLabel = "GAMMA", description = "Weight timesteps by min-SNR-γ (Hang et al. 2023), e.g. 5.")
    Double minSnr;

    @Option(names = "--ema", description = "EMA decay of the weights, 0 to disable (default 0.999).")
    Double ema;

    @Option(names = "--seed", description = "Random seed (default 0).")
    Long seed;

    @Option(names = "--hidden", defaultValue = "128", description = "MLP width (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--blocks", defaultValue = "4", description = "MLP residual blocks (default: ${DEFAULT-VALUE}).")
    int blocks;

    @Option(names = "--fourier", defaultValue = "32", description = "Random Fourier features of the input: number of frequencies, 0 = off (default: ${DEFAULT-VALUE}).")
    int fourier;

    @Option(names = "--fourier-scale", defaultValue = "1.0", description = "Std of the Fourier frequencies, in cycles per normalised unit (default: ${DEFAULT-VALUE}).")
    double fourierScale;

    @Option(names = "--variance", defaultValue = "fixed",
            description = "Reverse-step variance: fixed (the sampler picks fixed_small or fixed_large) or learned_range "
                    + "(the network also learns it, trained with the hybrid loss L_simple + 0.001 L_vlb of Nichol & Dhariwal 2021; "
                    + "sample and score with --variance learned_range) (default: ${DEFAULT-VALUE}).")
    String variance;

    @Option(names = "--warmup", description = "Learning-rate warm-up steps (default 200).")
    Integer warmup;

    @Option(names = "--grad-clip", description = "Max gradient norm, 0 to disable (default 1.0).")
    Double gradClip;

    @Option(names = "--grad-accum", description = "Micro-batches per optimizer step (default 1).")
    Integer gradAccum;

    @Option(names = "--checkpoint-every", description = "Steps between checkpoints (default 2000).")
    Integer checkpointEvery;

    @Option(names = "--conditional", description = "Class-conditional model: learns p(x | class) from the data's labels "
            + "(8gaussians and 25gaussians: the mixture component; image folders: the sub-folder; fashion-mnist: its 10 classes; "
            + "a CSV file: the column named by --label-column), "
            + "and p(x) through condition dropout; sample it with 'diffuse sample --class K --guidance W'.")
    boolean conditional;

    @Option(names = "--label-column", description = "With --conditional on a CSV file: the column (header name or 0-based index) "
            + "holding each row's class, an integer; the other columns are the data.")
    String labelColumn;

    @Option(names = "--text", description = "Text-conditioned image model: a small text encoder over CLIP tokens, trained with a "
            + "U-Net whose attention blocks cross-attend to it, on captions built from class names and simple attributes "
            + "(\"a photo of a small dark sandal\"); sample it with 'diffuse sample --prompt TEXT --guidance W'.")
    boolean text;

    @Option(names = "--text-encoder", paramLabel = "CLIP", description = "With --text: take the text encoder of this CLIP model "
            + "('diffuse train-clip', trained contrastively on the same kind of captions) and keep it frozen, instead of training "
            + "one with the U-Net from scratch.")
    Path textEncoder;

    @Option(names = "--cond-dropout", defaultValue = "0.1", description = "With --conditional or --text: share of training labels "
            + "(captions) replaced by the null label (the empty prompt) (p_uncond; default: ${DEFAULT-VALUE}).")
    double condDropout;

    @Option(names = "--latent", paramLabel = "VAE", description = "Latent diffusion: learn the latents of this autoencoder (a "
            + "train-vae run or a diffusers vae/ folder) instead of the images; the images are encoded once into the run "
            + "directory and samples are decoded back to images. With --resume: checked to be the run's own autoencoder.")
    Path latent;

    @Option(names = "--resume", description = "Continue the newest checkpoint in --out (its settings are kept; --steps may extend the run).")
    boolean resume;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Trainer trainer = resume ? resumeTrainer() : newTrainer();
        TrainingRun.Result result = TrainingRun.execute(trainer, out, json);
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>(result.figures());
            JsonLine.print(out, m);
        }
        return 0;
    }

    /** Options a resumed run reads; every other one describes a new run, and giving it with --resume is an error, not ignored. */
    private static final Set<String> RESUME_OPTIONS = Set.of("--out", "--resume", "--steps", "--latent", "--json");

    private Trainer resumeTrainer() {
        ResumeOptions.refuseUnread(spec, RESUME_OPTIONS, "continues the run with its own settings (only --steps may extend it)");
        if (latent != null) {
            ModelSpec own = ModelSpec.fromConfig(Checkpoint.readConfig(CheckpointStore.latest(out).orElseThrow(
                    () -> new DiffusionException(out + " holds no checkpoint to resume"))));
            if (!own.isLatent()) {
                throw new DiffusionException(out + " is a model of the images themselves, not of an autoencoder's latents; drop --latent");
            }
            AutoencoderSource.requireSame(latent, own.latent().sha256());
        }
        return Trainer.resume(out, steps == null ? 0 : steps, encodeProgress());
    }

    private Trainer newTrainer() {
        if (Files.isDirectory(out) && CheckpointStore.latest(out).isPresent()) {
            throw new DiffusionException(out + " already holds a training run; pass --resume to continue it or choose another --out");
        }
        if (data == null) {
            throw new DiffusionException("--data is required: a built-in name (see 'diffuse datasets'), a CSV file or image data");
        }
        String source = Files.exists(Path.of(data)) ? Path.of(data).toAbsolutePath().normalize().toString() : data;
        Integer colorChannels = ImageOptions.channelsOf(color);
        DataSource opened = DataSources.open(source, new ImageOptions(imageSize, colorChannels, flip));
        if (labelColumn != null) {
            if (!conditional) {
                throw new DiffusionException("--label-column names the class column of a class-conditional model: add --conditional");
            }
            if (!(opened instanceof CsvDataset table)) {
                throw new DiffusionException("--label-column picks a column of a CSV file; " + data + " carries its own labels");
            }
            opened = table.withLabelColumn(labelColumn);
        }
        boolean image = opened.itemShape().length == 3;
        long[] modelled = opened.itemShape();
        if (latent != null) {
            if (!image) {
                throw new DiffusionException("--latent learns the latents of images, but " + data + " holds vectors");
            }
            modelled = AutoencoderSource.open(latent).autoencoder().config().latentShape(opened.itemShape());
        }
        boolean seedPreset = preset != null;
        if (seedPreset && !preset.equalsIgnoreCase("seed-unet")) {
            throw new DiffusionException("unknown preset '" + preset + "'; available: seed-unet");
        }
        if (seedPreset && (!image || unetChannels != null)) {
            throw new DiffusionException(!image ? "--preset seed-unet trains on images, but " + data + " holds vectors"
                    : "--preset seed-unet fixes the U-Net's widths; drop --channels");
        }
        String kind = model.toLowerCase(Locale.ROOT);
        if (kind.equals("auto")) {
            kind = image ? UNET : MlpConfig.TYPE;
        }
        if (!kind.equals(UNET) && !kind.equals(MlpConfig.TYPE) && !kind.equals(UNET_CONDITION)) {
            throw new DiffusionException("unknown model '" + model + "': available: mlp, unet, " + UNET_CONDITION);
        }
        boolean sdUNet = kind.equals(UNET_CONDITION);
        if (sdUNet && (!text || !image || seedPreset || !variance.equalsIgnoreCase("fixed"))) {
            throw new DiffusionException("--model " + UNET_CONDITION + " is a text-conditioned image model with a fixed variance: use it "
                    + "with --text on images, without --preset or --variance");
        }
        if (sdUNet) {
            kind = UNET;
        }
        if (kind.equals(UNET) != image) {
            throw new DiffusionException(image ? data + " holds images: train them with --model unet"
                    : "the U-Net takes images, but " + data + " holds vectors: use --model mlp");
        }
        TrainingRecipe.Builder recipe = image ? TrainingRecipe.forImages(source) : TrainingRecipe.forVectors(source);
        if (seedPreset) {
            recipe.lr(SEED_LR).batchSize(SEED_BATCH).loss(LossType.HUBER);
        }
        // each flag given overrides the recipe's default
        if (seed != null) {
            recipe.seed(seed);
        }
        if (steps != null) {
            recipe.steps(steps);
        }
        if (batchSize != null) {
            recipe.batchSize(batchSize);
        }
        if (gradAccum != null) {
            recipe.gradAccumulation(gradAccum);
        }
        if (lr != null) {
            recipe.lr(lr);
        }
        if (warmup != null) {
            recipe.warmupSteps(warmup);
        }
        if (gradClip != null) {
            recipe.gradClip(gradClip);
        }
        if (ema != null) {
            recipe.emaDecay(ema);
        }
        if (prediction != null) {
            recipe.prediction(Prediction.parse(prediction));
        }
        if (loss != null) {
            recipe.loss(LossType.parse(loss));
        }
        if (minSnr != null) {
            recipe.weighting(Weighting.MIN_SNR).snrGamma(minSnr);
        }
        if (checkpointEvery != null) {
            recipe.checkpointEvery(checkpointEvery);
        }
        if (sampleEvery != null) {
            recipe.sampleEvery(sampleEvery);
        }
        recipe.imageSize(imageSize == null ? 0 : imageSize).channels(colorChannels == null ? 0 : colorChannels).flip(flip);
        if (precision != null) {
            recipe.precision(Precision.parse(precision));
        }
        BetaSchedule kindOfBeta = BetaSchedule.parse(schedule);
        int t = seedPreset && !spec.commandLine().getParseResult().hasMatchedOption("--timesteps") ? SEED_TIMESTEPS : timesteps;
        NoiseSchedule noise = new NoiseSchedule(kindOfBeta, t, kindOfBeta.defaultBetaStart(), kindOfBeta.defaultBetaEnd(), zeroSnr);
        VarianceType varianceType = VarianceType.parse(variance);
        NetworkConfig arch;
        if (seedPreset) {
            long[] shape = modelled;
            if (varianceType != VarianceType.FIXED) {
                throw new DiffusionException("--preset seed-unet predicts noise only; drop --variance");
            }
            arch = SeedUNetConfig.seed((int) shape[0], (int) shape[1]);
        } else if (image) {
            long[] shape = modelled;
            UNet2DConfig base = unetChannels != null ? UNet2DConfig.defaults((int) shape[0], (int) shape[1], unetChannels)
                    : UNet2DConfig.defaults((int) shape[0], (int) shape[1]);
            arch = base.withVarianceType(varianceType);
        } else {
            if (unetChannels != null) {
                throw new DiffusionException("--channels sets U-Net widths; the MLP takes --hidden and --blocks");
            }
            arch = new MlpConfig(opened.dim(), hidden, blocks, 64, Activation.SILU, fourier, fourierScale, varianceType);
        }
        if (conditional && text) {
            throw new DiffusionException("choose --conditional (class labels) or --text (captions), not both");
        }
        if (textEncoder != null && !text) {
            throw new DiffusionException("--text-encoder gives a text-conditioned model its text encoder: add --text");
        }
        if (conditional) {
            arch = conditioned(arch, opened);
            recipe.condDropout(condDropout).labelColumn(labelColumn);
        }
        if (text) {
            arch = textConditioned(arch, opened);
            if (sdUNet) {
                arch = TextUNet2DConditionConfig.of(((TextUNet2DConfig) arch).unet(), TextEncoderConfig.defaults());
            }
            recipe.condDropout(condDropout);
        }
        if (latent != null) {
            recipe.latent(latent.toAbsolutePath().normalize().toString());
        }
        if (textEncoder != null) {
            recipe.textEncoder(textEncoder.toAbsolutePath().normalize().toString());
        }
        TrainingRecipe cfg = recipe.build();
        if (opened instanceof ImageDataset images) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("data: " + images.description() + "; training in " + cfg.precision().configName());
            images.warning().ifPresent(w -> err.println("warning: " + w));
            err.flush();
        }
        if (cfg.precision() == Precision.BF16 && !Backend.hasBf16Hardware()) {
            spec.commandLine().getErr().println("warning: this CPU has no AMX/AVX512-BF16 units; bf16 runs emulated and is far slower "
                    + "than fp32 here");
        } else if (cfg.precision() == Precision.BF16 && Backend.oneDnnOff()) {
            spec.commandLine().getErr().println("warning: oneDNN failed its correctness check on this CPU and is off; bf16 runs on "
                    + "libtorch's generic kernels and is slower than fp32 here");
        }
        return Trainer.create(out, cfg, arch, noise, encodeProgress());
    }

    /** A progress bar for a latent run's one-time encoding of its images. */
    private LatentImages.EncodeProgress encodeProgress() {
        ProgressBar[] bar = new ProgressBar[1];
        return (done, total) -> {
            if (bar[0] == null) {
                PrintWriter o = spec.commandLine().getOut();
                o.printf(Locale.ROOT, "encoding %,d images with the autoencoder, once: the latents are cached in %s%n", total,
                        out.resolve(LatentImages.CACHE_FILE));
                o.flush();
                bar[0] = ProgressBar.console("encode", total);
            }
            bar[0].update(done, "");
            if (done == total) {
                bar[0].finish("done");
            }
        };
    }

    /** {@code arch} conditioned on the classes of {@code data}. */
    private static NetworkConfig conditioned(NetworkConfig arch, DataSource data) {
        if (data.numClasses() == 0) {
            throw new DiffusionException("--conditional needs class labels, and data set '" + data.name() + "' has none "
                    + "(labelled sets: 8gaussians, 25gaussians, fashion-mnist, image folders with one sub-folder per class, CSV files "
                    + "with --label-column)");
        }
        return arch.withClasses(data.numClasses());
    }

    /** {@code arch} conditioned on captions of {@code data}'s images. */
    private static NetworkConfig textConditioned(NetworkConfig arch, DataSource data) {
        boolean captioned = data instanceof CaptionedData c && c.hasCaptions();
        if (!captioned && data.classNames().isEmpty()) {
            throw new DiffusionException("--text learns from captions — the images' own (emoji; a folder with a metadata.jsonl or a .txt "
                    + "beside each image) or ones built from class names (fashion-mnist; a folder with one sub-folder per class) — and "
                    + "data set '" + data.name() + "' has neither");
        }
        return arch.withText();
    }

    private static final String UNET = "unet";
    private static final String UNET_CONDITION = "unet2d-condition";
    /** The seed tutorial's recipe: Adam lr 1e-3, batch 128, T = 200 linear betas, Huber loss. */
    private static final double SEED_LR = 1e-3;
    private static final int SEED_BATCH = 128;
    private static final int SEED_TIMESTEPS = 200;
}
