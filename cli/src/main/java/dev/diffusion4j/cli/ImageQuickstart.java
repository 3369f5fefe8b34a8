package dev.diffusion4j.cli;

import dev.diffusion4j.bench.ImageBenchmark;

import dev.diffusion4j.pipeline.GenerationResult;

import dev.diffusion4j.pipeline.GenerationRequest;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.eval.ImageQuality;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.model.UNet2DConfig;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code quickstart --images}: trains the default U-Net on the built-in Fashion-MNIST for a fixed
 * time budget, then samples, evaluates and writes a grid, a denoising GIF and a report. Training,
 * sampling and evaluation share the budget: the training and sampling rates are measured on this
 * machine first, sampling gets the time its network evaluations need, training the rest.
 */
final class ImageQuickstart {
    static final String DATA = "fashion-mnist";
    /**
     * A stochastic sampler: its fresh noise corrects the errors of a model trained for minutes. On the
     * same 1,340-step checkpoint and 1,000 samples, FID / IS were 4.51 / 4.81 with dpmpp_2m (20 steps),
     * 5.65 / 4.61 with ddim (20), 2.36 / 5.58 with euler_ancestral (30), 2.01 / 5.70 with ddpm (100)
     * and 1.76 / 5.61 with dpmpp_2m_sde (20) at 1.25× dpmpp_2m's time.
     */
    static final String SAMPLER = "dpmpp_2m_sde";
    static final int SAMPLE_STEPS = 20;
    /**
     * In a fixed time, more steps of smaller batches learn more: the 15-minute quickstart reached FID 1.00 / IS 6.10 with
     * 2,808 steps of 32 where 1,302 steps of 64 reached 1.74 / 5.60 (dpmpp_2m_sde, 20 steps, 1,000 samples).
     */
    static final int BATCH = 32;
    /** Seconds set aside for measuring, loading, checkpoints, the GIF and the metrics (about 25 were used). */
    static final double OVERHEAD_SECONDS = 50;

    private ImageQuickstart() {
    }

    static Map<String, Object> run(Path out, double minutes, int num, long seed, PrintWriter pw) {
        long t0 = System.nanoTime();
        Path run = out.resolve("run");
        var data = ImageDatasets.fashionMnist();
        pw.println("diffusion4j quickstart --images: a U-Net learns Fashion-MNIST in " + fmt(minutes) + " minutes");
        pw.println("data: " + data.description());
        long[] shape = data.itemShape();
        UNet2DConfig arch = UNet2DConfig.defaults((int) shape[0], (int) shape[1]);
        TrainingRecipe defaults = TrainingRecipe.forImages(DATA).batchSize(BATCH).seed(seed).build();
        NoiseSchedule schedule = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);

        double[] rates = ImageBenchmark.rates(arch, defaults, schedule);
        double sampleSeconds = (double) num * (SAMPLE_STEPS + 1) / rates[1];
        double trainSeconds = minutes * 60 - sampleSeconds - OVERHEAD_SECONDS;
        if (trainSeconds < 30) {
            throw new DiffusionException(String.format(Locale.ROOT, "a %s-minute budget leaves no time to train after sampling %d "
                    + "images (~%.0f s); raise --minutes or lower --num", fmt(minutes), num, sampleSeconds));
        }
        int steps = Math.max(100, (int) (rates[0] * trainSeconds));
        pw.printf(Locale.ROOT, "measured %.2f training steps/s (batch %d) and %.0f image network evaluations/s: %d training steps "
                + "(%.0f s), then %d samples (~%.0f s)%n", rates[0], defaults.batchSize(), rates[1], steps, trainSeconds, num,
                sampleSeconds);
        pw.flush();
        TrainingRecipe cfg = defaults.toBuilder().steps(steps).checkpointEvery(Math.max(1, steps / 4)).sampleEvery(Math.max(1, steps / 6))
                .build();
        Trainer trainer = Trainer.create(run, cfg, arch, schedule);
        long deadline = System.nanoTime() + (long) (trainSeconds * 1e9);
        TrainingRun.Result trained = TrainingRun.execute(trainer, pw, false, deadline);

        DiffusionPipeline pipe = DiffusionPipeline.load(run);
        SamplingProgress progress = new SamplingProgress(pipe, true);
        Map<String, Object> report = new LinkedHashMap<>();
        ImageQuality.Report quality;
        try (Scope s = Scope.open()) {
            GenerationResult gen = pipe.generate(GenerationRequest.builder().model(run.toString()).sampler(SAMPLER).steps(SAMPLE_STEPS)
                    .count(num).seed(seed).build(), progress);
            Tensor samples = gen.samples();
            Map<String, String> params = gen.metadata().asText();
            ImageOutputs.grid(samples.narrow(0, 0, Math.min(64, num)), 8, out.resolve("samples.png"), params);
            pw.println("wrote the grid, the samples and the denoising GIF; rendering...");
            ImageOutputs.individual(samples, out.resolve("samples"), params);
            progress.writeAnimation(out.resolve("denoising.gif"), false);
            copy(trained.lossCurve(), out.resolve("loss.png"));
            report.put("data", data.description());
            report.put("train", trained.figures());
            Map<String, Object> sampling = new LinkedHashMap<>(gen.metadata().asMap());
            sampling.put("seconds", gen.seconds());
            report.put("sampling", sampling);
            pw.println("evaluating the samples with the built-in Fashion-MNIST classifier...");
            pw.flush();
            quality = ImageQuality.evaluate(samples, data, ImageClassifier.fashionMnist(), seed);
            EvalCommand.print(pw, quality);
            report.put("quality", quality.toMap());
        }
        double total = (System.nanoTime() - t0) / 1e9;
        report.put("total_seconds", total);
        Json.write(out.resolve(QuickstartCommand.REPORT), report);
        AtomicFiles.writeString(out.resolve("report.md"), markdown(report, quality));
        pw.println();
        pw.println("Results in " + out.toAbsolutePath() + ":");
        pw.println("  samples.png     64 generated garments (grid)");
        pw.println("  denoising.gif   the reverse process of 8 samples: x_t above the model's estimate of x_0");
        pw.println("  loss.png        training loss");
        pw.println("  samples/        every sample as a PNG (try 'diffuse eval --samples " + out.resolve("samples") + " --data fashion-mnist')");
        pw.println("  run/            checkpoint and the training's sample grids (run/samples/)");
        pw.printf(Locale.ROOT, "total time %.1f s%n", total);
        pw.flush();
        return report;
    }

    private static void copy(Path from, Path to) {
        try {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new DiffusionException("cannot write " + to + ": " + e.getMessage());
        }
    }

    private static String fmt(double minutes) {
        return minutes == Math.rint(minutes) ? Long.toString((long) minutes) : Double.toString(minutes);
    }

    @SuppressWarnings("unchecked")
    private static String markdown(Map<String, Object> report, ImageQuality.Report q) {
        StringBuilder sb = new StringBuilder("# diffusion4j quickstart --images: Fashion-MNIST\n\n");
        sb.append("![samples](samples.png)\n\n![denoising](denoising.gif)\n\n![loss](loss.png)\n\n");
        Map<String, Object> train = (Map<String, Object>) report.get("train");
        sb.append(String.format(Locale.ROOT, "Training: %s steps in %.0f s. Data: %s.%n%n", train.get("steps"), train.get("seconds"),
                report.get("data")));
        sb.append(String.format(Locale.ROOT, "%d samples (%s, %d steps) against %d real images, features of the %s:%n%n",
                q.samples(), SAMPLER, SAMPLE_STEPS, q.samples(), q.classifier()));
        sb.append("| metric | samples | real vs real |\n|---|---|---|\n");
        sb.append(String.format(Locale.ROOT, "| FID | %.3f | %.3f |%n", q.fid(), q.fidFloor()));
        sb.append(String.format(Locale.ROOT, "| KID | %.5f | %.5f |%n", q.kid(), q.kidFloor()));
        sb.append(String.format(Locale.ROOT, "| precision | %.3f | %.3f |%n", q.precision(), q.precisionFloor()));
        sb.append(String.format(Locale.ROOT, "| recall | %.3f | %.3f |%n", q.recall(), q.recallFloor()));
        sb.append(String.format(Locale.ROOT, "| density | %.3f | %.3f |%n", q.density(), q.densityFloor()));
        sb.append(String.format(Locale.ROOT, "| coverage | %.3f | %.3f |%n", q.coverage(), q.coverageFloor()));
        sb.append(String.format(Locale.ROOT, "| Inception-style score | %.2f ± %.2f | %.2f |%n", q.inceptionScore(),
                q.inceptionScoreStd(), q.inceptionScoreReal()));
        sb.append(String.format(Locale.ROOT, "%nTotal: %.0f s.%n", (double) report.get("total_seconds")));
        return sb.toString();
    }
}
