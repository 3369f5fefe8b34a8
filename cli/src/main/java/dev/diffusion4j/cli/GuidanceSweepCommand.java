package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.GaussianMixture;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.model.ClassifierFreeGuidance;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.sampling.Sampler;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.ProgressBar;
import dev.diffusion4j.viz.LineChart;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "guidance-sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The fidelity/diversity trade-off of classifier-free guidance on a class-conditional model of a built-in "
                + "mixture (8gaussians, 25gaussians): for each guidance weight w, samples of every class, the share that lands in "
                + "the class's own component, the share within 3 standard deviations of its mean (on the data's manifold), and "
                + "their spread around the mean relative to the component's std (1 is the data's; below 1 collapsed towards "
                + "the mode, above 1 pushed past it). Also times one guided step (a batch of 2B through the network) against "
                + "an unguided one at several batch sizes."})
final class GuidanceSweepCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "Run or checkpoint directory of a model trained with --conditional.")
    String model;

    @Option(names = "--weights", split = ",", defaultValue = "0,1,2,3,5,7", description = "Guidance weights w (default: ${DEFAULT-VALUE}).")
    double[] weights;

    @Option(names = "--num", defaultValue = "500", description = "Samples per class and weight (default: ${DEFAULT-VALUE}).")
    int num;

    @Option(names = "--sampler", defaultValue = "dpmpp_2m", description = "Sampler (default: ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--steps", defaultValue = "30", description = "Sampling steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--cost-batches", split = ",", defaultValue = "16,64,256,1024",
            description = "Batch sizes at which a guided step is timed against an unguided one (default: ${DEFAULT-VALUE}).")
    int[] costBatches;

    @Option(names = "--out", description = "Also write the trade-off as a line chart (PNG).")
    Path out;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    /** Timed repetitions of one denoiser call; the median is reported. */
    private static final int COST_REPEATS = 15;

    @Override
    public Integer call() {
        if (num < 1 || weights.length == 0) {
            throw new DiffusionException("--num must be at least 1 and --weights must name at least one weight");
        }
        if (out != null && !out.toString().endsWith(".png")) {
            throw new DiffusionException("--out must end in .png, got " + out);
        }
        DiffusionPipeline pipe = DiffusionPipeline.open(model, true, true);
        int classes = pipe.numClasses();
        if (classes == 0) {
            throw new DiffusionException(pipe.name() + " is not class-conditional; train one with --conditional");
        }
        GaussianMixture mixture = mixtureOf(pipe);
        Sampler s = Samplers.create(sampler, SamplerOptions.DEFAULTS.withSteps(steps));
        PrintWriter pw = spec.commandLine().getOut();
        double[] fidelity = new double[weights.length];
        double[] onManifold = new double[weights.length];
        double[] spread = new double[weights.length];
        ProgressBar bar = ProgressBar.console("guidance sweep", (long) weights.length * classes);
        for (int i = 0; i < weights.length; i++) {
            double inComponent = 0;
            double within = 0;
            double spreadSum = 0;
            for (int k = 0; k < classes; k++) {
                try (Scope scope = Scope.open()) {
                    Tensor x = pipe.withGuidance(ClassifierFreeGuidance.Options.of(k, weights[i]), 0).sample(num, s, seed + k);
                    double[] m = classFit(x, mixture, k);
                    inComponent += m[0];
                    within += m[1];
                    spreadSum += m[2];
                }
                bar.update((long) i * classes + k + 1, String.format(Locale.ROOT, "w %.1f", weights[i]));
            }
            fidelity[i] = inComponent / classes;
            onManifold[i] = within / classes;
            spread[i] = spreadSum / classes;
        }
        bar.finish("");
        pw.printf(Locale.ROOT, "%-6s %14s %14s %14s%n", "w", "in component", "within 3 std", "spread / std");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            pw.printf(Locale.ROOT, "%-6.2f %14.3f %14.3f %14.3f%n", weights[i], fidelity[i], onManifold[i], spread[i]);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("w", weights[i]);
            row.put("in_component", fidelity[i]);
            row.put("within_3_std", onManifold[i]);
            row.put("spread_ratio", spread[i]);
            rows.add(row);
        }
        Map<String, Object> costs = new LinkedHashMap<>();
        for (int b : costBatches) {
            double ratio = guidedCostRatio(pipe, b);
            costs.put(Integer.toString(b), ratio);
            pw.printf(Locale.ROOT, "batch %5d: a guided step (2x%d through the network) costs %.2fx an unguided one (median of %d)%n",
                    b, b, ratio, COST_REPEATS);
        }
        if (out != null) {
            PngWriter.write(out, LineChart.builder().title("classifier-free guidance on " + pipe.name())
                    .axisLabels("guidance weight w", "share / ratio")
                    .series("in its component", weights, fidelity)
                    .series("within 3 std of its mean", weights, onManifold)
                    .series("spread / component std", weights, spread).build().render(),
                    Map.of("Software", "diffusion4j " + Version.VERSION, "model", pipe.name(), "sampler", sampler + " " + steps + " steps"));
            pw.println("plot: " + out);
        }
        pw.flush();
        if (json) {
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("model", pipe.name());
            figures.put("classes", classes);
            figures.put("weights", rows);
            figures.put("guided_step_cost_ratio_by_batch", costs);
            JsonLine.print(pw, figures);
        }
        return 0;
    }

    private static GaussianMixture mixtureOf(DiffusionPipeline pipe) {
        Object data = pipe.config().get("data");
        Object source = data instanceof Map<?, ?> m ? m.get("source") : null;
        if (source instanceof String name && DataSources.open(name) instanceof Toy2D toy && toy.mixture().isPresent()) {
            return toy.mixture().get();
        }
        throw new DiffusionException("guidance-sweep scores classes against the components of a built-in mixture (8gaussians, "
                + "25gaussians); " + pipe.name() + " was trained on " + source);
    }

    /**
     * {share of x [n, d] nearest to component k, share within 3σₖ of μₖ (per-coordinate RMS), RMS distance to μₖ per
     * coordinate / σₖ over the points nearest to k}.
     */
    private static double[] classFit(Tensor x, GaussianMixture gm, int k) {
        float[] p = x.toFloatArray();
        int d = gm.dim();
        double[][] means = gm.means();
        int hits = 0;
        int within = 0;
        double sq = 0;
        for (int i = 0; i < p.length / d; i++) {
            int best = 0;
            double bestSq = Double.POSITIVE_INFINITY;
            for (int j = 0; j < means.length; j++) {
                double dist = 0;
                for (int c = 0; c < d; c++) {
                    double diff = p[i * d + c] - means[j][c];
                    dist += diff * diff;
                }
                if (dist < bestSq) {
                    bestSq = dist;
                    best = j;
                }
            }
            if (best == k) {
                hits++;
                sq += bestSq;
                within += Math.sqrt(bestSq / d) <= 3 * gm.stds()[k] ? 1 : 0;
            }
        }
        double n = p.length / d;
        double spread = hits == 0 ? Double.NaN : Math.sqrt(sq / hits / d) / gm.stds()[k];
        return new double[] {hits / n, within / n, spread};
    }

    /** Median time of a guided denoiser call (2B through the network) over an unguided one (B), at a mid noise level. */
    private double guidedCostRatio(DiffusionPipeline pipe, int batch) {
        Denoiser plain = pipe.denoiser();
        Denoiser guided = pipe.withGuidance(ClassifierFreeGuidance.Options.of(0, 3.0), 0).denoiser();
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.inference()) {
            long[] shape = new long[pipe.spec().sampleShape().length + 1];
            shape[0] = batch;
            System.arraycopy(pipe.spec().sampleShape(), 0, shape, 1, shape.length - 1);
            Tensor x = Tensor.randn(new Generator(seed), shape);
            Tensor sigma = Tensor.of(new float[] {1.0f}, 1);
            double[] plainTimes = new double[COST_REPEATS];
            double[] guidedTimes = new double[COST_REPEATS];
            for (int r = -2; r < COST_REPEATS; r++) {   // two untimed warm-up rounds
                long t0 = System.nanoTime();
                plain.denoise(x, sigma).sum().item();
                long t1 = System.nanoTime();
                guided.denoise(x, sigma).sum().item();
                long t2 = System.nanoTime();
                if (r >= 0) {
                    plainTimes[r] = t1 - t0;
                    guidedTimes[r] = t2 - t1;
                }
            }
            return median(guidedTimes) / median(plainTimes);
        }
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
