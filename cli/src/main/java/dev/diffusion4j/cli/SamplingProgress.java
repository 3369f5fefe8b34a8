package dev.diffusion4j.cli;

import dev.diffusion4j.model.Normalizer;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationListener;
import dev.diffusion4j.process.GaussianDiffusion;
import dev.diffusion4j.sampling.SamplingStep;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Follows a generation on the console: a progress bar over every step of every batch and, when an
 * animation is wanted, frames of the first batch's reverse process.
 */
final class SamplingProgress implements GenerationListener {
    /** Frames kept for an animation (plus the final state). */
    static final int FRAMES = 48;
    /** Points drawn per animation frame. */
    static final int FRAME_POINTS = 2000;
    /** Image samples shown in a denoising animation. */
    static final int FRAME_IMAGES = 8;

    /**
     * A recorded state with its caption: 2D points in data coordinates, or for image models the
     * noisy images x_t over their denoised estimates x̂₀ (in [−1, 1], the first {@link #FRAME_IMAGES}).
     */
    record Frame(float[] xy, Tensor images, Tensor denoised, String caption) {
        Frame(float[] xy, String caption) {
            this(xy, null, null, caption);
        }
    }

    private final DiffusionPipeline pipe;
    private final boolean recordFrames;
    private final List<Frame> frames = new ArrayList<>();
    private ProgressBar bar;

    SamplingProgress(DiffusionPipeline pipe, boolean recordFrames) {
        this.pipe = pipe;
        this.recordFrames = recordFrames;
    }

    @Override
    public void onStep(int batch, int batches, SamplingStep step) {
        long total = (long) batches * step.total();
        if (bar == null) {
            bar = ProgressBar.console("sample", total);
        }
        long done = (long) batch * step.total() + step.index() + 1;
        bar.update(done, batches > 1 ? String.format(Locale.ROOT, "batch %d/%d", batch + 1, batches) : "");
        if (recordFrames && batch == 0 && keepFrame(step.index(), step.total())) {
            record(step);
        }
        if (done == total) {
            bar.finish(String.format(Locale.ROOT, "%d steps", step.total()));
        }
    }

    private void record(SamplingStep step) {
        String caption = caption(pipe.spec().schedule(), step.sigma());
        try (Scope s = Scope.open()) {
            Tensor x = step.xVariancePreserving();
            if (pipe.spec().isImage()) {
                long k = Math.min(FRAME_IMAGES, x.size(0));
                frames.add(new Frame(null, Scope.escape(x.narrow(0, 0, k).clone()), Scope.escape(step.denoised().narrow(0, 0, k).clone()),
                        caption));
            } else {
                Tensor head = x.narrow(0, 0, Math.min(FRAME_POINTS, x.size(0)));
                frames.add(new Frame(Plots.firstTwo(pipe.spec().denormalize(head)), caption));
            }
        }
    }

    private static boolean keepFrame(int index, int total) {
        if (index == total - 1) {
            return true;
        }
        int stride = Math.max(1, total / FRAMES);
        // Denser at the end, where the structure appears: keep every step of the last few too.
        return index % stride == 0 || index >= total - Math.min(8, total / 10);
    }

    static String caption(NoiseSchedule schedule, double sigma) {
        if (sigma == 0) {
            return "REVERSE   t = 0   clean sample";
        }
        double alphaBar = 1 / (1 + sigma * sigma);
        double t;
        try (Scope s = Scope.open()) {
            t = schedule.sigmaToT(Tensor.full(sigma, 1)).item();
        }
        return String.format(Locale.ROOT, "REVERSE   t = %d / %d   ᾱ = %.3f", Math.round(t), schedule.numTimesteps(), alphaBar);
    }

    /** Writes the animation: optionally the forward noising of real data, then the recorded reverse process. */
    void writeAnimation(Path gif, boolean withForward) {
        if (pipe.spec().isImage()) {
            ImageOutputs.denoisingAnimation(frames, gif);
            return;
        }
        List<Frame> all = new ArrayList<>();
        Tensor reference = SampleCommand.reference(pipe, FRAME_POINTS);
        if (withForward && reference != null) {
            all.addAll(forwardFrames(reference));
        }
        all.addAll(frames);
        Plots.animation(all, reference, gif);
    }

    /** q(x_t | x₀) of real data at evenly spaced t, with one fixed noise draw so points move smoothly. */
    private List<Frame> forwardFrames(Tensor data) {
        NoiseSchedule schedule = pipe.spec().schedule();
        GaussianDiffusion diffusion = new GaussianDiffusion(schedule);
        Normalizer norm = pipe.spec().normalizer();
        int total = schedule.numTimesteps();
        List<Frame> out = new ArrayList<>();
        try (Scope s = Scope.open()) {
            Tensor x0 = norm.normalize(data);
            Tensor noise = Tensor.randn(new Generator(7), x0.shape());
            out.add(new Frame(Plots.firstTwo(data), "CLEAN DATA   t = 0"));
            for (int i = 1; i <= FRAMES / 2; i++) {
                int t = (int) Math.round((double) i / (FRAMES / 2) * (total - 1));
                Tensor xt = diffusion.qSample(x0, Tensor.full(DType.INT64, t, x0.size(0)), noise);
                out.add(new Frame(Plots.firstTwo(norm.denormalize(xt)), String.format(Locale.ROOT,
                        "FORWARD   t = %d / %d   ᾱ = %.3f", t, total, schedule.alphaBar(t))));
            }
        }
        return out;
    }
}
