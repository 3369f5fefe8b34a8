package dev.diffusion4j.cli;

import dev.diffusion4j.io.GifWriter;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.Bounds;
import dev.diffusion4j.viz.LineChart;
import dev.diffusion4j.viz.ScatterPlot;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The pictures the CLI writes: loss curves, scatter plots of samples, process animations. */
final class Plots {
    private Plots() {
    }

    /** Training loss against step on a log axis, raw and smoothed. */
    static void lossCurve(List<double[]> log, Path out, String title) {
        double[] x = new double[log.size()];
        double[] y = new double[log.size()];
        for (int i = 0; i < log.size(); i++) {
            x[i] = log.get(i)[0];
            y[i] = log.get(i)[1];
        }
        BufferedImage img = LineChart.builder().title(title).axisLabels("step", "loss").logY(true).smoothing(0.9)
                .series("loss", x, y).build().render();
        PngWriter.write(out, img, Map.of("software", "diffusion4j " + dev.diffusion4j.Version.VERSION));
    }

    /** Samples (first two dimensions) drawn over the reference data, if any, with square axes. */
    static void scatter(Tensor samples, Tensor reference, Path out, String title, Map<String, String> metadata) {
        try (Scope s = Scope.open()) {
            float[] xy = firstTwo(samples);
            ScatterPlot.Builder b = ScatterPlot.builder().title(title).label("samples");
            Bounds bounds = Bounds.of(xy);
            if (reference != null) {
                float[] ref = firstTwo(reference);
                b.background(ref, "data");
                bounds = Bounds.of(ref).union(bounds);
            }
            if (samples.size(1) > 2) {
                b.axisLabels("column 0", "column 1");
            }
            BufferedImage img = b.bounds(bounds.square()).build().render(xy);
            PngWriter.write(out, img, metadata);
        }
    }

    /** An animated GIF of recorded process states over the data, all frames on shared axes. */
    static void animation(List<SamplingProgress.Frame> frames, Tensor reference, Path gif) {
        List<float[]> points = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        Bounds bounds = null;
        for (SamplingProgress.Frame f : frames) {
            points.add(f.xy());
            captions.add(f.caption());
            Bounds fb = Bounds.of(f.xy());
            bounds = bounds == null ? fb : bounds.union(fb);
        }
        ScatterPlot.Builder b = ScatterPlot.builder().size(480, 480).title("diffusion4j").label("x_t");
        if (reference != null) {
            try (Scope s = Scope.open()) {
                float[] ref = firstTwo(reference);
                b.background(ref, "data");
                bounds = bounds == null ? Bounds.of(ref) : bounds.union(Bounds.of(ref));
            }
        }
        List<BufferedImage> images = b.bounds(bounds.square()).build().frames(points, captions);
        GifWriter.write(gif, images, 90, 2500);
    }

    /** The first two columns as interleaved x, y (a single column is paired with 0). */
    static float[] firstTwo(Tensor x) {
        if (x.size(1) == 1) {
            Tensor zeros = Tensor.zeros(x.size(0), 1);
            return Tensor.cat(List.of(x, zeros), 1).toFloatArray();
        }
        return x.size(1) == 2 ? x.toFloatArray() : x.narrow(1, 0, 2).contiguous().toFloatArray();
    }
}
