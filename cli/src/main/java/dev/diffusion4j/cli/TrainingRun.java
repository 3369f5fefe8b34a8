package dev.diffusion4j.cli;

import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.pipeline.GenerationResult;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.viz.ImageTiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Runs a {@link Trainer} with a console progress bar and writes the loss curve. */
final class TrainingRun {
    record Result(Path checkpoint, Path lossCurve, double seconds, Map<String, Object> figures) {
    }

    /** For {@link #execute(Trainer, PrintWriter, boolean, long)}: train to the configured step count. */
    static final long NO_DEADLINE = Long.MAX_VALUE;

    private TrainingRun() {
    }

    static Result execute(Trainer trainer, PrintWriter out, boolean quiet) {
        return execute(trainer, out, quiet, NO_DEADLINE);
    }

    /**
     * Trains to the configured step count, or until {@code System.nanoTime()} passes {@code deadline}:
     * then the run stops with a checkpoint of the step it reached (a time budget holds even when the
     * machine is slower than it was when the steps were planned).
     */
    static Result execute(Trainer trainer, PrintWriter out, boolean quiet, long deadline) {
        long t0 = System.nanoTime();
        ProgressListener progress = new ProgressListener(deadline, trainer.runDirectory());
        Path ckpt = trainer.run(progress);
        double seconds = (System.nanoTime() - t0) / 1e9;
        progress.finish(seconds);
        if (trainer.step() < trainer.config().steps()) {
            out.printf(Locale.ROOT, "the time budget for training ran out at step %d of %d%n", trainer.step(), trainer.config().steps());
        }
        Path runDir = ckpt.getParent();
        Path curve = runDir.resolve("loss.png");
        Plots.lossCurve(trainer.lossLog(), curve, "training loss — " + trainer.config().data());
        List<double[]> log = trainer.lossLog();
        double lastLoss = log.isEmpty() ? Double.NaN : log.get(log.size() - 1)[1];
        out.printf(Locale.ROOT, "trained %d steps in %.1f s; final loss %.4f%n", trainer.step(), seconds, lastLoss);
        out.println("checkpoint: " + ckpt);
        out.println("loss curve: " + curve);
        out.flush();
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("steps", trainer.step());
        figures.put("planned_steps", trainer.config().steps());
        figures.put("seconds", seconds);
        figures.put("steps_per_second", progress.stepsThisRun / Math.max(1e-9, seconds));
        figures.put("final_loss", lastLoss);
        figures.put("parameters", trainer.network().parameterCount());
        figures.put("checkpoint", ckpt.toString());
        figures.put("loss_curve", curve.toString());
        return new Result(ckpt, curve, seconds, figures);
    }

    /**
     * Drives a console progress bar with a smoothed loss, and writes an image model's previews: the same
     * {@value #PREVIEW_IMAGES} noise draws each time, through DDIM with {@value #PREVIEW_STEPS} steps, as
     * {@code samples/step-NNNNNNNN.png} in the run directory, so that successive grids show the model learning.
     */
    private static final class ProgressListener implements TrainListener {
        static final int PREVIEW_IMAGES = 16;
        static final int PREVIEW_STEPS = 50;
        private final long deadline;
        private final Path runDir;
        private ProgressBar bar;
        private double smoothLoss = Double.NaN;
        private long stepsThisRun;
        private long startStep;

        ProgressListener(long deadline, Path runDir) {
            this.deadline = deadline;
            this.runDir = runDir;
        }

        @Override
        public void onPreview(long step, ModelSpec spec, Map<String, Tensor> weights) {
            Path file = runDir.resolve("samples").resolve(String.format(Locale.ROOT, "step-%08d.png", step));
            try (Scope s = Scope.open()) {
                DiffusionPipeline now = DiffusionPipeline.of(runDir.getFileName().toString(), spec, weights);
                GenerationResult r = now.generate(GenerationRequest.builder().sampler("ddim").steps(PREVIEW_STEPS).count(PREVIEW_IMAGES)
                        .build());
                Map<String, String> meta = new LinkedHashMap<>(r.metadata().asText());
                meta.put("training_step", Long.toString(step));
                PngWriter.write(file, ImageTiles.grid(ImageTiles.fromTensor(r.samples()), 4, 2), meta);
            }
        }

        @Override
        public boolean stopRequested() {
            return deadline != NO_DEADLINE && System.nanoTime() - deadline > 0;
        }

        @Override
        public void onStart(long start, long total, long params) {
            startStep = start;
            bar = ProgressBar.console("train", total);
            if (start > 0) {
                System.err.printf(Locale.ROOT, "resuming at step %d of %d%n", start, total);
            }
        }

        @Override
        public void onStep(long step, long total, double loss, double lr) {
            stepsThisRun = step - startStep;
            smoothLoss = Double.isNaN(smoothLoss) ? loss : 0.98 * smoothLoss + 0.02 * loss;
            bar.update(step, String.format(Locale.ROOT, "loss %.4f lr %.2e", smoothLoss, lr));
        }

        void finish(double seconds) {
            if (bar != null) {
                bar.finish(String.format(Locale.ROOT, "done in %s", ProgressBar.formatDuration(seconds)));
            }
        }
    }
}
