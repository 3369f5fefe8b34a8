package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CsvDataset;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.eval.ImageQuality;
import dev.diffusion4j.eval.SampleQuality;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Compares samples with a data set, next to the data-vs-data floor. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure how close samples are to a data set, each figure next to its floor (the same metric for two "
                + "independent data sets of the sample count).",
                "Points (CSV): energy distance, MMD (RBF, median bandwidth) and sliced Wasserstein.",
                "Images (a folder of PNGs or a sample grid PNG from 'diffuse sample'): FID, KID, precision and recall (k = 3) over a "
                + "classifier's features, and the Inception-Score-style score of its predictions. Fashion-MNIST-shaped images "
                + "(1x28x28) use the built-in classifier; other images need --classifier from 'diffuse train-classifier'.",
                "Example: diffuse eval --samples samples/ --data fashion-mnist"})
final class EvalCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--samples", required = true, description = "CSV file of points (from 'diffuse sample --out FILE.csv'), or "
            + "images: a folder of PNGs ('diffuse sample --images DIR') or a grid PNG ('diffuse sample --out FILE.png').")
    Path samples;

    @Option(names = "--data", required = true, description = "Built-in data set name, CSV file or image data to compare against.")
    String data;

    @Option(names = "--repeats", defaultValue = "5", description = "Points: reference draws averaged (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--classifier", description = "Images: feature classifier (directory or .safetensors from 'diffuse "
            + "train-classifier'; default: the built-in one for 1x28x28 images).")
    Path classifier;

    @Option(names = "--image-size", description = "Images: resize the --data images to N x N, the samples' size (default: as stored).")
    Integer imageSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for reference draws and projections (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!Files.exists(samples)) {
            throw new DiffusionException("no file or folder " + samples);
        }
        if (Files.isDirectory(samples) || samples.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            return evaluateImages(out);
        }
        DataSource source = DataSources.open(data);
        try (Scope s = Scope.open()) {
            Tensor x = CsvDataset.read(samples).tensor();
            SampleQuality.Report r = SampleQuality.evaluate(x, source, repeats, seed);
            print(out, r, source.name());
            if (json) {
                JsonLine.print(out, r.toMap());
            }
        }
        return 0;
    }

    private int evaluateImages(PrintWriter out) {
        String dataSource = Files.exists(Path.of(data)) ? Path.of(data).toAbsolutePath().normalize().toString() : data;
        if (!(DataSources.open(dataSource, new ImageOptions(imageSize, null, false)) instanceof ImageDataset reference)) {
            throw new DiffusionException("--samples holds images but --data " + data + " is not image data");
        }
        ImageDataset generated = ImageDatasets.open(samples, new ImageOptions(null, reference.channels(), false));
        ImageClassifier features = ImageClassifier.features(classifier, reference.channels(), reference.height(), reference.width());
        try (Scope s = Scope.open()) {
            ImageQuality.Report r = ImageQuality.evaluate(generated.all().orElseThrow(), reference, features, seed);
            print(out, r);
            if (json) {
                JsonLine.print(out, r.toMap());
            }
        }
        return 0;
    }

    /** The image metrics as a table: each figure, its real-vs-real floor and their ratio. */
    static void print(PrintWriter out, ImageQuality.Report r) {
        out.printf(Locale.ROOT, "%d samples vs '%s' (two disjoint real sets of %d for the floor; features: %s)%n", r.samples(),
                r.data(), r.samples(), r.classifier());
        out.printf(Locale.ROOT, "  %-22s %12s %12s%n", "metric", "samples", "real-vs-real");
        out.printf(Locale.ROOT, "  %-22s %12.3f %12.3f%n", "FID", r.fid(), r.fidFloor());
        out.printf(Locale.ROOT, "  %-22s %12.5f %12.5f   (± %.5f over subsets)%n", "KID", r.kid(), r.kidFloor(), r.kidStd());
        out.printf(Locale.ROOT, "  %-22s %12.3f %12.3f%n", "precision", r.precision(), r.precisionFloor());
        out.printf(Locale.ROOT, "  %-22s %12.3f %12.3f%n", "recall", r.recall(), r.recallFloor());
        out.printf(Locale.ROOT, "  %-22s %12.3f %12.3f%n", "density", r.density(), r.densityFloor());
        out.printf(Locale.ROOT, "  %-22s %12.3f %12.3f%n", "coverage", r.coverage(), r.coverageFloor());
        out.printf(Locale.ROOT, "  %-22s %12.3f %12.3f   (± %.3f over %d splits)%n", "Inception-style score", r.inceptionScore(),
                r.inceptionScoreReal(), r.inceptionScoreStd(), Math.min(ImageQuality.IS_SPLITS, r.samples() / 5));
        out.flush();
    }

    static void print(PrintWriter out, SampleQuality.Report r, String dataName) {
        out.printf(Locale.ROOT, "%d samples vs '%s' (reference sets of %d, %d draws)%n", r.samples(), dataName, r.referenceSize(), r.repeats());
        out.printf(Locale.ROOT, "  %-20s %12s %12s %8s%n", "metric", "samples", "floor", "ratio");
        row(out, "energy distance²", r.energyDistance(), r.energyFloor());
        row(out, "MMD² (RBF)", r.mmd(), r.mmdFloor());
        row(out, "sliced Wasserstein", r.slicedWasserstein(), r.slicedWassersteinFloor());
        out.printf(Locale.ROOT, "  energy distance is %.2f× the data-vs-data floor (%s)%n", r.energyRatio(),
                r.energyRatio() <= 3 ? "within the 3× quality bar" : "above the 3× quality bar");
        out.flush();
    }

    private static void row(PrintWriter out, String name, double v, double floor) {
        out.printf(Locale.ROOT, "  %-20s %12.6f %12.6f %8.2f%n", name, v, floor, v / floor);
    }
}
