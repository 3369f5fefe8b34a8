package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.GaussianMixture;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.eval.ImageQuality;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.guidance.ClassifierFreeGuidance;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.sampling.Sampler;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.LineChart;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
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

    private List<String> names;
    /** The classifier of noisy images that --guide-classifier names, else null. */
    private ImageClassifier guide;

    /** Timed repetitions of one denoiser call; the median is reported. */
    private static final int COST_REPEATS = 15;

    @Override
    public Integer call() {
        if ((num != null && num < 1) || weights.length == 0) {
            throw new DiffusionException("--num must be at least 1 and --weights must name at least one weight");
        }
        if (out != null && !out.toString().endsWith(".png")) {
            throw new DiffusionException("--out must end in .png, got " + out);
        }
        DiffusionPipeline pipe = DiffusionPipeline.open(model, true, true);
        if (guideClassifier != null) {
            guide = ImageClassifier.load(guideClassifier);
            if (!guide.config().noisy() || !pipe.spec().isImage()) {
                throw new DiffusionException(!pipe.spec().isImage() ? "--guide-classifier guides image models"
                        : guideClassifier + " was trained on clean images; train one with 'diffuse train-classifier --noisy'");
            }
        }
        int classes = classCount(pipe);
        if (classes == 0) {
            throw new DiffusionException(pipe.name() + " is not conditional; train one with --conditional or --text, or sweep "
                    + "classifier guidance with --guide-classifier DIR");
        }
        Sampler s = Samplers.create(sampler, SamplerOptions.DEFAULTS.withSteps(steps));
        PrintWriter pw = spec.commandLine().getOut();
        if (pipe.spec().isImage()) {
            return imageSweep(pipe, s, pw, num == null ? 100 : num);
        }
        int num = this.num == null ? 500 : this.num;
        GaussianMixture mixture = mixtureOf(pipe);
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
                    Tensor x = steered(pipe, k, weights[i]).sample(num, s, seed + k);
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
        Map<String, Object> costs = costs(pipe, pw);
        if (out != null) {
            PngWriter.write(out, LineChart.builder().title("classifier-free guidance on " + pipe.name())
                    .axisLabels("guidance weight w", "share / ratio")
                    .series("in its component", weights, fidelity)
                    .series("within 3 std of its mean", weights, onManifold)
                    .series("spread / component std", weights, spread).build().render(),
                    Map.of("Software", "diffusion4j " + Version.VERSION, "model", pipe.name(), "sampler", sampler + " " + steps + " steps"));
            pw.println("plot: " + out);
        }
        return finish(pw, pipe, rows, costs);
    }

    /** Flushes the report and, with --json, prints its figures as the last line. */
    private int finish(PrintWriter pw, DiffusionPipeline pipe, List<Map<String, Object>> rows, Map<String, Object> costs) {
        pw.flush();
        if (json) {
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("model", pipe.name());
            figures.put("classes", classCount(pipe));
            if (pipe.contextLength() > 0) {
                figures.put("prompt_template", promptTemplate);
            }
            figures.put("weights", rows);
            figures.put("guided_step_cost_ratio_by_batch", costs);
            JsonLine.print(pw, figures);
        }
        return 0;
    }

    /** Times a guided step against an unguided one at each of {@link #costBatches}, printing each ratio. */
    private Map<String, Object> costs(DiffusionPipeline pipe, PrintWriter pw) {
        Map<String, Object> costs = new LinkedHashMap<>();
        for (int b : costBatches) {
            double ratio = guidedCostRatio(pipe, b);
            costs.put(Integer.toString(b), ratio);
            pw.printf(Locale.ROOT, "batch %5d: a guided step (%s) costs %.2fx an unguided one (median of %d)%n",
                    b, guide != null ? "the network, then the classifier's gradient" : "2x" + b + " through the network", ratio, COST_REPEATS);
            pw.flush();
        }
        return costs;
    }

    /**
     * Classes to ask for: the guiding classifier's, a class-conditional model's, or the class names a
     * text-conditioned model's captions were built from.
     */
    private int classCount(DiffusionPipeline pipe) {
        if (guide != null) {
            return guide.config().numClasses();
        }
        return pipe.contextLength() > 0 ? classNames(pipe).size() : pipe.numClasses();
    }

    /** The model steered towards class k at weight w: classifier-free guidance, or classifier guidance with --guide-classifier. */
    private DiffusionPipeline steered(DiffusionPipeline pipe, int k, double w) {
        return guide != null ? pipe.withClassifierGuidance(guide, k, w, 0)
                : pipe.withGuidance(ClassifierFreeGuidance.Options.of(condition(pipe, k), w), 0);
    }

    /** The class names of the model's config, else (for runs that did not record them) of its training data. */
    private List<String> classNames(DiffusionPipeline pipe) {
        if (names == null) {
            names = !pipe.classNames().isEmpty() ? pipe.classNames()
                    : Generation.trainingData(pipe).map(DataSource::classNames).orElse(List.of());
        }
        return names;
    }

    /** The condition asking for class k: its label, or for a text-conditioned model the prompt of --prompt-template. */
    private Condition condition(DiffusionPipeline pipe, int k) {
        if (pipe.contextLength() == 0) {
            return Condition.ofClass(k);
        }
        return Condition.ofTokens(pipe.encodePrompt(prompt(pipe, k)).ids());
    }

    private String prompt(DiffusionPipeline pipe, int k) {
        return promptTemplate.replace("{name}", classNames(pipe).get(k).toLowerCase(Locale.ROOT));
    }

    private int imageSweep(DiffusionPipeline pipe, Sampler s, PrintWriter pw, int perClass) {
        int classes = classCount(pipe);
        long[] shape = pipe.spec().sampleShape();
        String source = dataSource(pipe);
        if (!(DataSources.open(source, new ImageOptions((int) shape[1], (int) shape[0], false)) instanceof ImageDataset data)) {
            throw new DiffusionException(pipe.name() + " is an image model but its data set " + source + " does not open as images");
        }
        ImageClassifier features = classifier != null ? ImageClassifier.load(classifier)
                : ImageClassifier.builtIn(shape[0], shape[1], shape[2]).orElseThrow(() -> new DiffusionException(
                        "there is no built-in classifier for " + shape[0] + "x" + shape[1] + "x" + shape[2]
                                + " images; pass --classifier DIR from 'diffuse train-classifier'"));
        if (features.config().numClasses() != classes) {
            throw new DiffusionException("the classifier knows " + features.config().numClasses() + " classes but " + pipe.name()
                    + " is conditioned on " + classes);
        }
        ProgressBar bar = ProgressBar.console("guidance sweep", (long) weights.length * classes);
        List<Map<String, Object>> rows = new ArrayList<>();
        double[] accuracy = new double[weights.length];
        for (int i = 0; i < weights.length; i++) {
            try (Scope scope = Scope.open()) {
                List<Tensor> parts = new ArrayList<>();
                long[] labels = new long[classes * perClass];
                for (int k = 0; k < classes; k++) {
                    parts.add(steered(pipe, k, weights[i]).sample(perClass, s, seed + k));
                    java.util.Arrays.fill(labels, k * perClass, (k + 1) * perClass, k);
                    bar.update((long) i * classes + k + 1, String.format(Locale.ROOT, "w %.1f", weights[i]));
                }
                Tensor all = Tensor.cat(parts, 0);
                accuracy[i] = features.accuracy(all, Tensor.of(labels, labels.length));
                ImageQuality.Report r = ImageQuality.evaluate(all, data, features, seed);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("w", weights[i]);
                row.put("accuracy", accuracy[i]);
                row.putAll(r.toMap());
                rows.add(row);
                if (out != null) {
                    Tensor shown = Tensor.cat(parts.stream().map(p -> p.narrow(0, 0, Math.min(10, perClass))).toList(), 0);
                    ImageOutputs.grid(shown, Math.min(10, perClass), gridPath(weights[i]),
                            Map.of("model", pipe.name(), "guidance", Double.toString(weights[i]), "sampler", sampler + " " + steps + " steps"));
                }
            }
        }
        bar.finish("");
        pw.printf(Locale.ROOT, "%-6s %10s %10s %10s %8s%n", guide != null ? "s" : "w", "accuracy", "FID", "FID floor", "IS");
        for (Map<String, Object> row : rows) {
            pw.printf(Locale.ROOT, "%-6.2f %10.3f %10.3f %10.3f %8.2f%n", row.get("w"), row.get("accuracy"), row.get("fid"),
                    row.get("fid_floor"), row.get("inception_score"));
        }
        pw.printf(Locale.ROOT, "%d samples per weight (%d per class) under %s%n", classes * perClass, perClass, rows.get(0).get("classifier"));
        if (guide != null) {
            pw.println("classifier guidance by " + guideClassifier + " (s = the scale); accuracy under the feature classifier");
        } else if (pipe.contextLength() > 0) {
            pw.println("prompts: '" + prompt(pipe, 0) + "', '" + prompt(pipe, 1) + "', ... (--prompt-template '" + promptTemplate + "')");
        }
        Map<String, Object> costs = costs(pipe, pw);
        if (out != null) {
            PngWriter.write(out, LineChart.builder().title((guide != null ? "classifier" : "classifier-free") + " guidance on " + pipe.name())
                    .axisLabels(guide != null ? "classifier scale s" : "guidance weight w", "classifier accuracy").series("accuracy on the class asked for", weights, accuracy)
                    .build().render(), Map.of("Software", "diffusion4j " + Version.VERSION, "model", pipe.name()));
            pw.println("plot: " + out + "; grids: " + gridPath(weights[0]).getFileName() + " ...");
        }
        return finish(pw, pipe, rows, costs);
    }

    /** NAME-wW.png next to --out. */
    private Path gridPath(double w) {
        String name = out.getFileName().toString();
        String stem = name.substring(0, name.length() - ".png".length());
        String weight = w == Math.rint(w) ? Long.toString((long) w) : Double.toString(w);
        return out.resolveSibling(stem + "-w" + weight + ".png");
    }

    private static String dataSource(DiffusionPipeline pipe) {
        Object data = pipe.config().get("data");
        Object source = data instanceof Map<?, ?> m ? m.get("source") : null;
        if (!(source instanceof String name)) {
            throw new DiffusionException(pipe.name() + "'s config names no training data");
        }
        return name;
    }

    private static GaussianMixture mixtureOf(DiffusionPipeline pipe) {
        String source = dataSource(pipe);
        if (DataSources.open(source) instanceof Toy2D toy && toy.mixture().isPresent()) {
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
        if (batch < 1) {
            throw new DiffusionException("--cost-batches must be at least 1, got " + batch);
        }
        Denoiser plain = pipe.denoiser();
        Denoiser guided = steered(pipe, 0, 3.0).denoiser();
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.inference()) {
            long[] shape = new long[pipe.spec().sampleShape().length + 1];
            shape[0] = batch;
            System.arraycopy(pipe.spec().sampleShape(), 0, shape, 1, shape.length - 1);
            Tensor x = Tensor.randn(new Generator(seed), shape);
            Tensor sigma = Tensor.of(new float[] {1.0f}, 1);
            List<Double> plainTimes = new ArrayList<>();
            List<Double> guidedTimes = new ArrayList<>();
            for (int r = -2; r < COST_REPEATS; r++) {   // two untimed warm-up rounds
                long t0 = System.nanoTime();
                plain.denoise(x, sigma).sum().item();
                long t1 = System.nanoTime();
                guided.denoise(x, sigma).sum().item();
                long t2 = System.nanoTime();
                if (r >= 0) {
                    plainTimes.add((double) (t1 - t0));
                    guidedTimes.add((double) (t2 - t1));
                }
            }
            return BenchImagesCommand.median(guidedTimes) / BenchImagesCommand.median(plainTimes);
        }
    }
}
