package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.ClassifierTraining;
import java.io.PrintWriter;
import java.nio.file.Files;
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

/** Trains the image classifier whose features and probabilities the image metrics use. */
@Command(name = "train-classifier", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train an image classifier on labelled images (a built-in set, or a folder with one sub-folder per class). "
                + "'diffuse eval' uses its features for FID, KID and precision/recall and its predictions for the Inception-Score-style "
                + "score; the built-in Fashion-MNIST classifier was made with the defaults.",
                "Example: diffuse train-classifier --data fashion-mnist --out runs/classifier"})
final class TrainClassifierCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "Labelled image data (default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--out", required = true, description = "Output directory (classifier.safetensors, loss.png, report.json).")
    Path out;

    @Option(names = "--test-data", description = "Labelled images to measure accuracy on (default: fashion-mnist-test for the "
            + "60k Fashion-MNIST train split, else a held-out 10%% of --data).")
    String testData;

    @Option(names = "--steps", description = "Optimisation steps (default: 5000).")
    Integer steps;

    @Option(names = "--batch-size", description = "Images per step (default: 128).")
    Integer batchSize;

    @Option(names = "--image-size", description = "Resize images to N x N (default: the data's own; must be square).")
    Integer imageSize;

    @Option(names = "--color", description = "gray or rgb (default: the data's own).")
    String color;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialisation and batches (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--noisy", description = "Train on noisy images x0 + sigma*n (sigma log-uniform in [0.002, 160]) with sigma "
            + "as an input: the noise-aware classifier that classifier guidance needs ('diffuse sample --class K --classifier DIR "
            + "--classifier-scale S'). Its accuracy is reported per noise level.")
    boolean noisy;

    /** Noise levels at which a noisy classifier's accuracy is reported. */
    private static final double[] REPORTED_SIGMAS = {0.1, 0.5, 1, 2, 5};

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        ImageOptions options = new ImageOptions(imageSize, ImageOptions.channelsOf(color), true);
        ImageDataset train = images(data, options);
        ImageDataset test;
        if (testData != null) {
            test = images(testData, options.withFlip(false));
        } else if (data.equals("fashion-mnist") && train.size() == 60_000) {
            test = images("fashion-mnist-test", options.withFlip(false));
        } else {
            int[] order = shuffled(train.size(), seed);
            int held = Math.max(1, train.size() / 10);
            if (train.size() - held < 10) {
                throw new DiffusionException(train.name() + " has only " + train.size() + " images; a classifier needs more");
            }
            test = train.subset(Arrays.copyOfRange(order, 0, held), " (held-out 10%)").withFlip(false);
            train = train.subset(Arrays.copyOfRange(order, held, order.length), " (90%)");
        }
        if (test.channels() != train.channels() || test.height() != train.height() || test.width() != train.width()) {
            throw new DiffusionException("--test-data holds " + test.channels() + "x" + test.height() + "x" + test.width()
                    + " images but --data " + train.channels() + "x" + train.height() + "x" + train.width());
        }
        ClassifierTraining.Options opts = ClassifierTraining.Options.defaults().withSeed(seed).withNoisy(noisy);
        if (steps != null) {
            opts = opts.withSteps(steps);
        }
        if (batchSize != null) {
            opts = opts.withBatchSize(batchSize);
        }
        o.printf(Locale.ROOT, "training a classifier on %s (%d images, %d classes), testing on %s (%d images)%n",
                train.name(), train.size(), train.numClasses(), test.name(), test.size());
        o.flush();
        List<double[]> log = new ArrayList<>();
        ProgressBar bar = ProgressBar.console("train", opts.steps());
        long start = System.nanoTime();
        ImageClassifier classifier = ClassifierTraining.train(train, opts, (step, total, loss) -> {
            log.add(new double[] {step, loss});
            bar.update(step, String.format(Locale.ROOT, "loss %.4f", loss));
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        bar.finish(String.format(Locale.ROOT, "trained %d steps in %.1f s", opts.steps(), seconds));
        double accuracy;
        Map<String, Object> byNoise = new LinkedHashMap<>();
        try (Scope s = Scope.open()) {
            accuracy = classifier.accuracy(test.all().orElseThrow(), test.labels());
            if (noisy) {
                Generator g = new Generator(seed);
                for (double sigma : REPORTED_SIGMAS) {
                    byNoise.put(Double.toString(sigma), classifier.noisyAccuracy(test.all().orElseThrow(), test.labels(), sigma, g));
                }
            }
        }
        Path file = out.resolve(ImageClassifier.FILE);
        classifier.save(file);
        Plots.lossCurve(log, out.resolve("loss.png"), "classifier training loss, " + train.name());
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("data", train.name());
        report.put("test_data", test.name());
        report.put("test_images", test.size());
        report.put("accuracy", accuracy);
        if (noisy) {
            report.put("noisy", true);
            report.put("accuracy_by_sigma", byNoise);
        }
        report.put("steps", opts.steps());
        report.put("batch_size", opts.batchSize());
        report.put("seconds", seconds);
        report.put("parameters", classifier.parameterCount());
        Json.write(out.resolve("report.json"), report);
        o.printf(Locale.ROOT, "test accuracy %.2f%% on %s (%d images)%n", 100 * accuracy, test.name(), test.size());
        byNoise.forEach((sigma, acc) -> o.printf(Locale.ROOT, "  at noise level sigma = %s: %.2f%%%n", sigma, 100 * (double) acc));
        o.println("classifier: " + file);
        if (json) {
            JsonLine.print(o, report);
        }
        o.flush();
        return 0;
    }

    private static ImageDataset images(String nameOrPath, ImageOptions options) {
        String source = Files.exists(Path.of(nameOrPath)) ? Path.of(nameOrPath).toAbsolutePath().normalize().toString() : nameOrPath;
        DataSource d = DataSources.open(source, options);
        if (!(d instanceof ImageDataset images)) {
            throw new DiffusionException(nameOrPath + " is not image data; a classifier trains on labelled images");
        }
        return images;
    }

    private static int[] shuffled(int n, long seed) {
        try (Scope s = Scope.open()) {
            return Arrays.stream(Tensor.randperm(new Generator(seed), n).toLongArray()).mapToInt(i -> (int) i).toArray();
        }
    }
}
