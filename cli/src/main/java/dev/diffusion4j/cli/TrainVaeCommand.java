package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.eval.Reconstruction;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.models.vae.AutoencoderKLConfig;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.AutoencoderRecipe;
import dev.diffusion4j.train.AutoencoderTrainer;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.viz.ImageTiles;
import dev.diffusion4j.viz.LineChart;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Trains an AutoencoderKL for latent diffusion and reports how well it reconstructs held-out images. */
@Command(name = "train-vae", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train an autoencoder (AutoencoderKL, diffusers' names) with the latent-diffusion recipe: L1 + perceptual "
                + "+ KL reconstruction loss, a patch critic from --disc-start on, EMA: the autoencoder under a latent diffusion model.",
                "Writes checkpoint-NNNNNNNN/ directories (resumable exactly with --resume), loss.png, reconstructions.png, "
                        + "report.json (PSNR, SSIM, reconstruction FID on held-out images, next to area-down/bilinear-up "
                        + "resampling) and vae/, the autoencoder as a diffusers folder, into --out.",
                "Example: diffuse train-vae --data emoji --out runs/vae"})
final class TrainVaeCommand implements Callable<Integer> {
    /** Held-out images shown in reconstructions.png, originals above their reconstructions. */
    private static final int SHOWN = 8;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", description = "Images: a built-in set (see 'diffuse datasets') or a folder. Required unless --resume.")
    String data;

    @Option(names = "--out", required = true, description = "Run directory.")
    Path out;

    @Option(names = "--eval-data", description = "Held-out images for the report (default: the built-in set's held-out split when "
            + "it has one, e.g. emoji-test for emoji; 'none' skips the report).")
    String evalData;

    @Option(names = "--eval-images", defaultValue = "1000", description = "Held-out images evaluated (default: ${DEFAULT-VALUE}).")
    int evalImages;

    @Option(names = "--eval-classifier", description = "Classifier file whose features give the reconstruction FID (default: the "
            + "built-in one for 28x28 greyscale, else the run's perceptual network).")
    Path evalClassifier;

    @Option(names = "--steps", description = "Optimizer steps (default: 6000).")
    Integer steps;

    @Option(names = "--batch-size", description = "Images per step (default: 16).")
    Integer batchSize;

    @Option(names = "--lr", description = "Peak learning rate of the autoencoder and the critic (default: 2e-4).")
    Double lr;

    @Option(names = "--image-size", description = "Resize and centre-crop images to N x N (default: the data's own).")
    Integer imageSize;

    @Option(names = "--color", description = "gray or rgb (default: the data's own).")
    String color;

    @Option(names = "--channels", defaultValue = "32,64,128", split = ",", description = "block_out_channels, one per level; "
            + "n levels downsample by 2^(n-1) (default: ${DEFAULT-VALUE}, factor 4).")
    List<Integer> channels;

    @Option(names = "--layers-per-block", defaultValue = "1", description = "ResNet blocks per encoder level (the decoder has one "
            + "more) (default: ${DEFAULT-VALUE}).")
    int layersPerBlock;

    @Option(names = "--latent-channels", defaultValue = "4", description = "Channels of the latent (default: ${DEFAULT-VALUE}).")
    int latentChannels;

    @Option(names = "--norm-groups", defaultValue = "16", description = "GroupNorm groups; must divide every level's channels "
            + "(default: ${DEFAULT-VALUE}).")
    int normGroups;

    @Option(names = "--kl-weight", description = "Weight of the KL term (default: 1e-6).")
    Double klWeight;

    @Option(names = "--perceptual-weight", description = "Weight of the perceptual term; 0 drops it (default: 1).")
    Double perceptualWeight;

    @Option(names = "--perceptual", description = "Classifier file ('diffuse train-classifier') whose feature maps the perceptual "
            + "term compares (default: one trained first on the data's labels).")
    Path perceptual;

    @Option(names = "--perceptual-steps", description = "Steps of that first classifier training, batches of 128 (default: 500; on emoji 400 steps of 64 reach 76%% on the held-out categories).")
    Integer perceptualSteps;

    @Option(names = "--disc-weight", description = "Weight of the critic's term, times the adaptive balance; 0 trains without "
            + "a critic (default: 0.05; the original's 0.5 overpowers this small critic).")
    Double discWeight;

    @Option(names = "--disc-start", description = "Step from which the critic's term enters the loss (default: 3000).")
    Integer discStart;

    @Option(names = "--critic-warmup", description = "Steps the critic learns alone before --disc-start (default: 500, at most "
            + "--disc-start).")
    Integer criticWarmup;

    @Option(names = "--ema", description = "EMA decay of the weights; 0 disables it (default: 0.999).")
    Double ema;

    @Option(names = "--precision", description = "fp32 or bf16 forward passes (default: bf16 where this CPU runs it fast).")
    String precision;

    @Option(names = "--checkpoint-every", description = "Steps between checkpoints (default: 1000).")
    Integer checkpointEvery;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of every random stream of the run (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resume", description = "Continue the newest checkpoint in --out exactly. Its data, networks and seed are kept; "
            + "options given with it (--steps, --lr, --disc-start, --disc-weight, loss weights, ...) change the rest of the run and are "
            + "listed when it starts.")
    boolean resume;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        AutoencoderTrainer trainer = resume ? resumeTrainer(o) : newTrainer(o);
        ProgressBar[] bar = new ProgressBar[1];
        long t0 = System.nanoTime();
        long[] first = new long[1];
        Path ckpt = trainer.run(new TrainListener() {
            @Override
            public void onStart(long startStep, long totalSteps, long parameterCount) {
                first[0] = startStep;
                o.printf(Locale.ROOT, "%s the autoencoder (%,d parameters, downsampling factor %d) on %s at step %d of %d%n",
                        startStep > 0 ? "resuming" : "training", parameterCount, trainer.autoencoder().config().downsampleFactor(),
                        trainer.data().name(), startStep, totalSteps);
                o.flush();
                bar[0] = ProgressBar.console("train-vae", totalSteps);
            }

            @Override
            public void onStep(long step, long totalSteps, double loss, double lr) {
                bar[0].update(step, String.format(Locale.ROOT, "loss %.4f lr %.2e%s", loss, lr,
                        trainer.recipe().discriminatorActive(step - 1) ? " critic on"
                                : trainer.recipe().criticTraining(step - 1) ? " critic learning" : ""));
            }
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        bar[0].finish(String.format(Locale.ROOT, "done in %s", ProgressBar.formatDuration(seconds)));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("data", trainer.data().name());
        report.put("steps", trainer.step());
        report.put("seconds_this_run", seconds);
        report.put("steps_per_second", (trainer.step() - first[0]) / Math.max(1e-9, seconds));
        report.put("parameters", trainer.autoencoder().parameterCount());
        report.put("checkpoint", ckpt.toString());
        Path curve = out.resolve("loss.png");
        lossCurves(trainer.log(), curve, "autoencoder training, " + trainer.data().name());
        try (Scope s = Scope.open()) {
            Path folder = out.resolve("vae");
            AutoencoderKL vae = AutoencoderTrainer.exportFolder(ckpt, trainer.data(), folder);
            double scaling = vae.config().scalingFactor();
            report.put("scaling_factor", scaling);
            ImageDataset heldOut = heldOut(trainer);
            if (heldOut != null) {
                ImageClassifier features = evalClassifier != null ? ImageClassifier.load(evalClassifier)
                        : ImageClassifier.builtIn(heldOut.channels(), heldOut.height(), heldOut.width()).orElse(trainer.perceptualNetwork());
                if (features == null) {
                    o.println("no classifier for the reconstruction FID of " + heldOut.name() + ": pass --eval-classifier FILE");
                } else {
                    Reconstruction.Report r = Reconstruction.evaluate(vae, heldOut, evalImages, features);
                    report.put("held_out", r.toMap());
                    o.printf(Locale.ROOT, "held-out %s (%d images): PSNR %.2f dB, SSIM %.4f, rFID %.4f; area-down/bilinear-up by %d: "
                            + "PSNR %.2f dB, SSIM %.4f, rFID %.4f%n", heldOut.name(), r.images(), r.psnr(), r.ssim(), r.rfid(),
                            r.factor(), r.baselinePsnr(), r.baselineSsim(), r.baselineRfid());
                }
                Path grid = out.resolve("reconstructions.png");
                reconstructionGrid(vae, heldOut, grid);
                o.println("reconstructions: " + grid);
            }
            o.println("checkpoint: " + ckpt);
            o.println("diffusers folder: " + folder);
        }
        o.println("loss curves: " + curve);
        Json.write(out.resolve("report.json"), report);
        if (json) {
            JsonLine.print(o, report);
        }
        o.flush();
        return 0;
    }

    /** Options a resumed run reads: where it writes and reports, and those {@link #applyOptions} changes the recipe by. */
    private static final Set<String> RESUME_OPTIONS = Set.of("--out", "--resume", "--json", "--eval-data", "--eval-images",
            "--eval-classifier", "--steps", "--batch-size", "--lr", "--kl-weight", "--perceptual-weight", "--disc-weight", "--disc-start",
            "--critic-warmup", "--ema", "--precision", "--checkpoint-every");

    private AutoencoderTrainer resumeTrainer(PrintWriter o) {
        ResumeOptions.refuseUnread(spec, RESUME_OPTIONS, "continues the run's own data, networks and seed");
        AutoencoderTrainer trainer = AutoencoderTrainer.resume(out, this::applyOptions);
        if (!trainer.changedOnResume().isEmpty()) {
            o.println("changed on resume: " + String.join(", ", trainer.changedOnResume()));
        }
        return trainer;
    }

    private AutoencoderTrainer newTrainer(PrintWriter o) {
        if (data == null) {
            throw new DiffusionException("--data is required (a built-in image set or a folder), unless --resume");
        }
        if (Files.isDirectory(out) && CheckpointStore.latest(out).isPresent()) {
            throw new DiffusionException(out + " already holds a training run; pass --resume to continue it or choose another --out");
        }
        AutoencoderRecipe.Builder r = applyOptions(AutoencoderRecipe.builder(data).seed(seed));
        Integer colorChannels = ImageOptions.channelsOf(color);
        if (imageSize != null) {
            r.imageSize(imageSize);
        }
        if (colorChannels != null) {
            r.channels(colorChannels);
        }
        if (perceptual != null) {
            r.perceptualNetwork(perceptual.toAbsolutePath().toString());
        }
        if (perceptualSteps != null) {
            r.perceptualSteps(perceptualSteps);
        }
        AutoencoderRecipe recipe = r.build();
        ImageDataset images = AutoencoderTrainer.openData(recipe);
        AutoencoderKLConfig config = AutoencoderKLConfig.of(images.channels(), images.height(), channels, layersPerBlock, latentChannels,
                normGroups);
        ProgressBar[] bar = new ProgressBar[1];
        return AutoencoderTrainer.create(out, recipe, config, (step, total, loss) -> {
            if (bar[0] == null) {
                o.printf(Locale.ROOT, "training the perceptual network on %s's %d classes first%n", images.name(), images.numClasses());
                o.flush();
                bar[0] = ProgressBar.console("perceptual", total);
            }
            bar[0].update(step, String.format(Locale.ROOT, "loss %.4f", loss));
            if (step == total) {
                bar[0].finish("done");
            }
        });
    }

    /** The recipe options given on the command line, for a new run and a resumed one alike. */
    private AutoencoderRecipe.Builder applyOptions(AutoencoderRecipe.Builder r) {
        if (steps != null) {
            r.steps(steps);
        }
        if (batchSize != null) {
            r.batchSize(batchSize);
        }
        if (lr != null) {
            r.lr(lr);
        }
        if (klWeight != null) {
            r.klWeight(klWeight);
        }
        if (perceptualWeight != null) {
            r.perceptualWeight(perceptualWeight);
        }
        if (discWeight != null) {
            r.discWeight(discWeight);
        }
        if (discStart != null) {
            r.discStart(discStart);
        }
        if (criticWarmup != null) {
            r.criticWarmup(criticWarmup);
        }
        if (ema != null) {
            r.emaDecay(ema);
        }
        if (precision != null) {
            r.precision(Precision.parse(precision));
        }
        if (checkpointEvery != null) {
            r.checkpointEvery(checkpointEvery);
        }
        return r;
    }

    /** --eval-data, or the built-in held-out split of the run's data; null for none. */
    private ImageDataset heldOut(AutoencoderTrainer trainer) {
        String split = trainer.data().name() + "-test";
        String name = evalData != null ? evalData : ImageDatasets.isBuiltIn(split) ? split : null;
        if (name == null || name.equals("none")) {
            return null;
        }
        ImageDataset d = trainer.data();
        DataSource source = DataSources.open(name, new ImageOptions(d.height(), d.channels(), false));
        if (!(source instanceof ImageDataset images) || images.height() != d.height() || images.width() != d.width()) {
            throw new DiffusionException("--eval-data " + name + " must hold images of the training images' size, " + d.width() + "x"
                    + d.height());
        }
        return images;
    }

    /** 1 / std of the posterior means of the first training images: Stable Diffusion's way to unit-variance latents. */
    private static void reconstructionGrid(AutoencoderKL vae, ImageDataset heldOut, Path file) {
        int n = Math.min(SHOWN, heldOut.size());
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.inference()) {
            Tensor originals = ImageDataset.toModelRange(heldOut.pixels().narrow(0, 0, n));
            List<BufferedImage> tiles = new ArrayList<>(ImageTiles.fromTensor(originals));
            tiles.addAll(ImageTiles.fromTensor(vae.reconstruct(originals)));
            int scale = Math.max(1, 128 / heldOut.height());
            PngWriter.write(file, ImageTiles.scale(ImageTiles.grid(tiles, n, 2), scale), Map.of("software",
                    "diffusion4j " + dev.diffusion4j.Version.VERSION, "description", "held-out images (top) and their reconstructions"));
        }
    }

    /** Each loss term against step, smoothed, on a log axis. */
    private static void lossCurves(List<AutoencoderTrainer.LogEntry> log, Path file, String title) {
        LineChart.Builder chart = LineChart.builder().title(title).axisLabels("step", "loss").logY(true).smoothing(0.9);
        Map<String, ToDoubleFunction<AutoencoderTrainer.LogEntry>> terms = new LinkedHashMap<>();
        terms.put("total", AutoencoderTrainer.LogEntry::total);
        terms.put("L1", AutoencoderTrainer.LogEntry::l1);
        terms.put("perceptual", AutoencoderTrainer.LogEntry::perceptual);
        terms.put("KL per pixel", AutoencoderTrainer.LogEntry::kl);
        terms.put("critic (hinge)", AutoencoderTrainer.LogEntry::critic);
        terms.forEach((name, f) -> {
            // a term is drawn where it is positive: the critic from its start, the total while the adversarial part keeps it so
            List<AutoencoderTrainer.LogEntry> drawn = log.stream().filter(e -> f.applyAsDouble(e) > 0).toList();
            if (!drawn.isEmpty()) {
                chart.series(name, drawn.stream().mapToDouble(AutoencoderTrainer.LogEntry::step).toArray(),
                        drawn.stream().mapToDouble(f).toArray());
            }
        });
        PngWriter.write(file, chart.build().render(), Map.of("software", "diffusion4j " + dev.diffusion4j.Version.VERSION));
    }
}
