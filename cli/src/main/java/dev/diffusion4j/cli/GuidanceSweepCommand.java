package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.bench.GuidanceCost;
import dev.diffusion4j.eval.GuidanceSweep;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.viz.LineChart;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "guidance-sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The fidelity/diversity trade-off of classifier-free guidance. Image models: for each guidance weight w, "
                + "samples of every class (text-conditioned models: of a prompt naming it), the share the feature classifier assigns to the class asked for, and FID and the "
                + "Inception-Score-style score of all of them against the training data (next to the real-vs-real floor), plus a "
                + "grid per weight with one row per class. 2D models of a built-in mixture (8gaussians, 25gaussians): for each "
                + "w, samples of every class, the share that lands in "
                + "the class's own component, the share within 3 standard deviations of its mean (on the data's manifold), and "
                + "their spread around the mean relative to the component's std (1 is the data's; below 1 collapsed towards "
                + "the mode, above 1 pushed past it). Also times one guided step (a batch of 2B through the network) against "
                + "an unguided one at several batch sizes."})
final class GuidanceSweepCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "Run or checkpoint directory of a model trained with --conditional "
            + "or --text.")
    String model;

    @Option(names = "--prompt-template", defaultValue = "a photo of a {name}", description = "Text-conditioned models: the prompt "
            + "asking for each class, {name} being the class name (default: '${DEFAULT-VALUE}').")
    String promptTemplate;

    @Option(names = "--weights", split = ",", defaultValue = "0,1,2,3,5,7", description = "Guidance weights w (default: ${DEFAULT-VALUE}).")
    double[] weights;

    @Option(names = "--num", description = "Samples per class and weight (default: 500 for 2D models, 100 for image models).")
    Integer num;

    @Option(names = "--classifier", description = "Image models: the feature classifier (directory or .safetensors from 'diffuse "
            + "train-classifier'; default: the built-in one for 1x28x28 images).")
    Path classifier;

    @Option(names = "--guide-classifier", description = "Image models: sweep classifier guidance instead, the --weights being "
            + "its scale s, with this classifier of noisy images ('diffuse train-classifier --noisy'); the model may then be "
            + "unconditional (a class-conditional one is guided from its unconditional half).")
    Path guideClassifier;

    @Option(names = "--sampler", defaultValue = "dpmpp_2m", description = "Sampler (default: ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--steps", defaultValue = "30", description = "Sampling steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--cost-batches", split = ",", defaultValue = "16,64,256,1024",
            description = "Batch sizes at which a guided step is timed against an unguided one (default: ${DEFAULT-VALUE}).")
    int[] costBatches;

    @Option(names = "--out", description = "Also write the trade-off as a line chart (PNG); image models also write a grid per "
            + "weight next to it (NAME-w3.png: one row per class).")
    Path out;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        if (out != null && !out.toString().endsWith(".png")) {
            throw new DiffusionException("--out must end in .png, got " + out);
        }
        DiffusionPipeline pipe = DiffusionPipeline.open(model);
        GuidanceSweep sweep = new GuidanceSweep(pipe, new GuidanceSweep.Settings(weights, num == null ? 0 : num, sampler, steps, seed,
                promptTemplate, guideClassifier, classifier));
        String symbol = guideClassifier != null ? "s" : "w";
        ProgressBar bar = ProgressBar.console("guidance sweep", (long) weights.length * sweep.classes());
        List<GuidanceSweep.Row> rows = sweep.run((done, total, w) -> bar.update(done, String.format(Locale.ROOT, "%s %.1f", symbol, w)));
        bar.finish("");
        PrintWriter pw = spec.commandLine().getOut();
        if (pipe.spec().isImage()) {
            pw.printf(Locale.ROOT, "%-6s %10s %10s %10s %8s%n", symbol, "accuracy", "FID", "FID floor", "IS");
            for (GuidanceSweep.Row row : rows) {
                Map<String, Object> m = row.figures();
                pw.printf(Locale.ROOT, "%-6.2f %10.3f %10.3f %10.3f %8.2f%n", row.weight(), m.get("accuracy"), m.get("fid"), m.get("fid_floor"),
                        m.get("inception_score"));
            }
            Map<String, Object> first = rows.get(0).figures();
            pw.printf(Locale.ROOT, "%s samples per weight under %s%n", first.get("samples"), first.get("classifier"));
            if (guideClassifier != null) {
                pw.println("classifier guidance by " + guideClassifier + " (s = the scale); accuracy under the feature classifier");
            } else if (sweep.byPrompt()) {
                pw.println("prompts: '" + sweep.prompt(0) + "', '" + sweep.prompt(1) + "', ... (--prompt-template '" + promptTemplate + "')");
            }
        } else {
            pw.printf(Locale.ROOT, "%-6s %14s %14s %14s%n", symbol, "in component", "within 3 std", "spread / std");
            for (GuidanceSweep.Row row : rows) {
                Map<String, Object> m = row.figures();
                pw.printf(Locale.ROOT, "%-6.2f %14.3f %14.3f %14.3f%n", row.weight(), m.get("in_component"), m.get("within_3_std"),
                        m.get("spread_ratio"));
            }
        }
        Map<String, Object> costs = new LinkedHashMap<>();
        for (int b : costBatches) {
            double ratio = GuidanceCost.ratio(pipe, sweep.request(0, 3.0, b), b, seed);
            costs.put(Integer.toString(b), ratio);
            pw.printf(Locale.ROOT, "batch %5d: a guided step (%s) costs %.2fx an unguided one (median of %d)%n", b,
                    guideClassifier != null ? "the network, then the classifier's gradient" : "2x" + b + " through the network", ratio,
                    GuidanceCost.REPEATS);
            pw.flush();
        }
        if (out != null) {
            writeCharts(pipe, sweep, rows);
        }
        pw.flush();
        if (json) {
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("model", pipe.name());
            figures.put("classes", sweep.classes());
            if (sweep.byPrompt()) {
                figures.put("prompt_template", promptTemplate);
            }
            figures.put("weights", rows.stream().map(GuidanceSweep.Row::figures).toList());
            figures.put("guided_step_cost_ratio_by_batch", costs);
            JsonLine.print(pw, figures);
        }
        return 0;
    }

    /** The trade-off as a line chart at --out, and for image models a grid per weight beside it (one row per class). */
    private void writeCharts(DiffusionPipeline pipe, GuidanceSweep sweep, List<GuidanceSweep.Row> rows) {
        double[] w = rows.stream().mapToDouble(GuidanceSweep.Row::weight).toArray();
        LineChart.Builder chart = LineChart.builder().title((guideClassifier != null ? "classifier" : "classifier-free") + " guidance on "
                + pipe.name()).axisLabels(guideClassifier != null ? "classifier scale s" : "guidance weight w",
                pipe.spec().isImage() ? "classifier accuracy" : "share / ratio");
        if (pipe.spec().isImage()) {
            chart.series("accuracy on the class asked for", w, column(rows, "accuracy"));
            for (GuidanceSweep.Row row : rows) {
                ImageOutputs.grid(row.shown(), (int) (row.shown().size(0) / sweep.classes()), gridPath(row.weight()),
                        Map.of("model", pipe.name(), "guidance", Double.toString(row.weight()), "sampler", sampler + " " + steps + " steps"));
            }
        } else {
            chart.series("in its component", w, column(rows, "in_component"))
                    .series("within 3 std of its mean", w, column(rows, "within_3_std"))
                    .series("spread / component std", w, column(rows, "spread_ratio"));
        }
        PngWriter.write(out, chart.build().render(), Map.of("software", "diffusion4j " + dev.diffusion4j.Version.VERSION,
                "model", pipe.name(), "sampler", sampler + " " + steps + " steps"));
        spec.commandLine().getOut().println("plot: " + out + (pipe.spec().isImage() ? "; grids: " + gridPath(w[0]).getFileName() + " ..." : ""));
    }

    private static double[] column(List<GuidanceSweep.Row> rows, String key) {
        return rows.stream().mapToDouble(r -> ((Number) r.figures().get(key)).doubleValue()).toArray();
    }

    /** NAME-wW.png next to --out. */
    private Path gridPath(double w) {
        String name = out.getFileName().toString();
        String stem = name.substring(0, name.length() - ".png".length());
        String weight = w == Math.rint(w) ? Long.toString((long) w) : Double.toString(w);
        return out.resolveSibling(stem + "-w" + weight + ".png");
    }
}
