package dev.diffusion4j.cli;

import dev.diffusion4j.pipeline.GenerationResult;

import dev.diffusion4j.pipeline.GenerationRequest;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CsvDataset;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.eval.SampleQuality;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The main job: destroy a 2D distribution with noise, learn to rebuild it, and show the result. */
@Command(name = "quickstart", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a diffusion model on a built-in 2D data set, sample from it, evaluate the samples and write "
                + "a scatter plot, an animation of the forward and reverse process, the loss curve and a report.",
                "--images: train a U-Net on the built-in Fashion-MNIST for a fixed time budget (--minutes), then sample, "
                        + "evaluate (FID, KID, precision, recall, IS next to the real-vs-real floor) and write a grid and a denoising GIF."})
final class QuickstartCommand implements Callable<Integer> {
    static final String REPORT = "report.json";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", description = "Output directory (default: quickstart-out, or quickstart-images with --images).")
    Path out;

    @Option(names = "--images", description = "Image quickstart: a U-Net on Fashion-MNIST.")
    boolean images;

    @Option(names = "--minutes", defaultValue = "15", description = "--images: total time budget in minutes (default: ${DEFAULT-VALUE}).")
    double minutes;

    @Option(names = "--data", defaultValue = "swissroll", description = "Built-in 2D data set (default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--steps", description = "Training steps (default: the train command's default).")
    Integer steps;

    @Option(names = "--num", description = "Samples to draw (default: 2000 points, or 1000 images with --images).")
    Integer num;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter pw = spec.commandLine().getOut();
        if (out == null) {
            out = Path.of(images ? "quickstart-images" : "quickstart-out");
        }
        if (images) {
            if (!(minutes > 0.5) || minutes > 24 * 60) {
                throw new DiffusionException("--minutes must be between 0.5 and 1440, got " + minutes);
            }
            clearPreviousRun(out.resolve("run"));
            Map<String, Object> report = ImageQuickstart.run(out, minutes, num == null ? 1000 : num, seed, pw);
            if (json) {
                JsonLine.print(pw, report);
            }
            pw.flush();
            return 0;
        }
        int num = this.num == null ? 2000 : this.num;
        long t0 = System.nanoTime();
        DataSource source = DataSources.open(data);
        if (source.all().isPresent()) {
            throw new DiffusionException("quickstart uses a built-in data set; for your CSV use 'diffuse train --data FILE.csv'");
        }
        Path run = out.resolve("run");
        clearPreviousRun(run);
        pw.println("diffusion4j quickstart: learning to rebuild '" + data + "' from noise (" + Backend.describe() + ")");
        pw.flush();

        TrainingRecipe.Builder recipe = TrainingRecipe.forVectors(data).seed(seed);
        TrainingRecipe cfg = (steps == null ? recipe : recipe.steps(steps)).build();
        Trainer trainer = Trainer.create(run, cfg, MlpConfig.defaults(source.dim()), NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
        TrainingRun.Result trained = TrainingRun.execute(trainer, pw, false);

        DiffusionPipeline pipe = DiffusionPipeline.load(run);
        SamplingProgress progress = new SamplingProgress(pipe, true);
        GenerationResult gen;
        Path csv = out.resolve("samples.csv");
        Path png = out.resolve("samples.png");
        Path gif = out.resolve("diffusion.gif");
        Path loss = out.resolve("loss.png");
        Map<String, Object> report = new LinkedHashMap<>();
        try (Scope s = Scope.open()) {
            gen = pipe.generate(GenerationRequest.builder().model(run.toString()).sampler("ddpm").count(num).seed(seed).build(), progress);
            Tensor samples = gen.samples();
            CsvDataset.write(csv, samples, SampleCommand.header(pipe));
            Plots.scatter(samples, SampleCommand.reference(pipe, num), png, "diffusion4j: " + data + " — " + num + " samples (DDPM)",
                    gen.metadata().asText());
            progress.writeAnimation(gif, true);
            Files.copy(trained.lossCurve(), loss, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            SampleQuality.Report q = SampleQuality.evaluate(samples, source, 5, seed + 1);
            EvalCommand.print(pw, q, data);
            double total = (System.nanoTime() - t0) / 1e9;
            report.put("data", data);
            report.put("train", trained.figures());
            Map<String, Object> sampling = new LinkedHashMap<>(gen.metadata().asMap());
            sampling.put("seconds", gen.seconds());
            report.put("sampling", sampling);
            report.put("quality", q.toMap());
            report.put("total_seconds", total);
            Json.write(out.resolve(REPORT), report);
            AtomicFiles.writeString(out.resolve("report.md"), markdown(q, trained, gen, total));
        }
        pw.println();
        pw.println("Results in " + out.toAbsolutePath() + ":");
        pw.println("  samples.png     generated points over the data");
        pw.println("  diffusion.gif   the data dissolving into noise, then rebuilt by the model");
        pw.println("  loss.png        training loss");
        pw.println("  samples.csv     the generated points");
        pw.println("  report.md       figures of this run");
        pw.println("  run/            the checkpoint: try 'diffuse sample --model " + run + " --out more.png'");
        pw.printf(Locale.ROOT, "total time %.1f s%n", (System.nanoTime() - t0) / 1e9);
        if (json) {
            JsonLine.print(pw, report);
        }
        pw.flush();
        return 0;
    }

    /** Removes the run directory of an earlier quickstart in the same place; refuses to touch anything else. */
    private void clearPreviousRun(Path run) throws IOException {
        if (!Files.exists(run)) {
            return;
        }
        if (!Files.exists(out.resolve(REPORT))) {
            throw new DiffusionException(run + " exists but was not written by quickstart; choose another --out");
        }
        AtomicFiles.deleteTree(run);
    }

    private String markdown(SampleQuality.Report q, TrainingRun.Result trained, GenerationResult gen, double total) {
        StringBuilder sb = new StringBuilder();
        sb.append("# diffusion4j quickstart: ").append(data).append("\n\n");
        sb.append("![samples](samples.png)\n\n![process](diffusion.gif)\n\n![loss](loss.png)\n\n");
        sb.append("| figure | value |\n|---|---|\n");
        sb.append(String.format(Locale.ROOT, "| training | %s steps in %.1f s (%.0f steps/s) |%n", trained.figures().get("steps"),
                trained.seconds(), (double) trained.figures().get("steps_per_second")));
        sb.append(String.format(Locale.ROOT, "| sampling | %d samples, DDPM %d steps, %.1f s |%n", q.samples(), gen.metadata().steps(),
                gen.seconds()));
        sb.append(String.format(Locale.ROOT, "| energy distance² | %.5f (floor %.5f, ratio %.2f) |%n", q.energyDistance(), q.energyFloor(),
                q.energyRatio()));
        sb.append(String.format(Locale.ROOT, "| MMD² (RBF) | %.5f (floor %.5f) |%n", q.mmd(), q.mmdFloor()));
        sb.append(String.format(Locale.ROOT, "| sliced Wasserstein | %.4f (floor %.4f) |%n", q.slicedWasserstein(), q.slicedWassersteinFloor()));
        sb.append(String.format(Locale.ROOT, "| total | %.1f s |%n", total));
        return sb.toString();
    }
}
