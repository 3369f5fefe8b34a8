package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CsvDataset;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.eval.ClipScore;
import dev.diffusion4j.eval.ImageQuality;
import dev.diffusion4j.eval.SampleQuality;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.model.ClipVisionConfig;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.ClassCaptionBatches;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
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
                "Text-to-image samples ('diffuse sample --prompts FILE --images DIR'): --clip adds the CLIP score against each "
                + "sample's own prompt, next to real pairs of --data.",
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

    @Option(names = "--clip", description = "Images: also the CLIP score of each sample against the prompt its PNG records "
            + "('diffuse sample --prompts FILE --images DIR'), next to that of real pairs of --data, under this CLIP model "
            + "('diffuse train-clip').")
    Path clip;

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
            Tensor images = generated.all().orElseThrow();
            ImageQuality.Report r = ImageQuality.evaluate(images, reference, features, seed);
            print(out, r);
            Map<String, Object> m = new LinkedHashMap<>(r.toMap());
            if (clip != null) {
                m.putAll(clipScores(out, images, reference));
            }
            if (json) {
                JsonLine.print(out, m);
            }
        }
        return 0;
    }

    /** The samples' CLIP score against their recorded prompts, beside real pairs of {@code reference}. */
    private Map<String, Object> clipScores(PrintWriter out, Tensor images, ImageDataset reference) {
        List<String> prompts = recordedPrompts(images.size(0));
        ClipModel model = ClipModel.load(clip);
        ClipVisionConfig vision = model.config().visionConfig();
        if (images.size(1) != vision.numChannels() || images.size(2) != vision.imageSize() || images.size(3) != vision.imageSize()) {
            throw new DiffusionException("the CLIP model in " + clip + " reads " + vision.numChannels() + "x" + vision.imageSize() + "x"
                    + vision.imageSize() + " images, the samples are " + images.size(1) + "x" + images.size(2) + "x" + images.size(3));
        }
        ClipScore.Score samplesScore = ClipScore.score(model, images, prompts);
        ClipScore.Score realScore = ClipScore.realPairs(model, ClassCaptionBatches.of(reference), Math.min(prompts.size(),
                reference.size()), seed);
        out.printf(Locale.ROOT, "  %-22s %12.3f %12.3f   (%.0f%% of real pairs'; mean cosine %.3f vs %.3f)%n", "CLIP score",
                samplesScore.clipScore(), realScore.clipScore(), 100 * samplesScore.share(realScore), samplesScore.meanCosine(),
                realScore.meanCosine());
        out.flush();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("clip_score", samplesScore.clipScore());
        m.put("clip_score_real", realScore.clipScore());
        m.put("clip_score_share", samplesScore.share(realScore));
        m.put("clip_mean_cosine", samplesScore.meanCosine());
        m.put("clip_mean_cosine_real", realScore.meanCosine());
        m.put("clip_model", clip.toString());
        return m;
    }

    /** The prompt each sample PNG of the --samples folder records, in the order the folder's images are read (sorted by name). */
    private List<String> recordedPrompts(long count) {
        if (!Files.isDirectory(samples)) {
            throw new DiffusionException("--clip reads each sample's prompt from its own PNG: give --samples a folder from "
                    + "'diffuse sample --prompts FILE --images DIR'");
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(samples)) {
            files = list.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")).sorted().toList();
        } catch (IOException e) {
            throw new DiffusionException("cannot list " + samples + ": " + e.getMessage());
        }
        if (files.size() != count) {
            throw new DiffusionException("--clip needs the samples as PNG files directly in " + samples + "; found " + files.size()
                    + " of the " + count + " images read");
        }
        List<String> prompts = new ArrayList<>();
        for (Path f : files) {
            String prompt = PngWriter.readText(f).get("prompt");
            if (prompt == null || prompt.isEmpty()) {
                throw new DiffusionException(f + " records no prompt; --clip scores samples of a text-conditioned model written "
                        + "with 'diffuse sample --prompt/--prompts ... --images DIR'");
            }
            prompts.add(prompt);
        }
        return prompts;
    }

    /** The image metrics as a table: each figure, its real-vs-real floor and their ratio. */
    static void print(PrintWriter out, ImageQuality.Report r) {
        out.printf(Locale.ROOT, "%d samples vs '%s' (two disjoint real sets of %d for the floor; features: %s)%n", r.samples(),
                r.data(), r.samples(), r.classifier());
        out.printf(Locale.ROOT, "  %-22s %12s %12s%n", "metric", "samples", "real-vs-real");
        out.printf(Locale.ROOT, "  %-22s %12.3f %12.3f%n", "FID", r.fid(), r.fidFloor());
        out.printf(Locale.ROOT, "  %-22s %12.5f %12.5f   %s%n", "KID", r.kid(), r.kidFloor(), Double.isNaN(r.kidStd())
                ? "(one subset: every image of both sets)" : String.format(Locale.ROOT, "(± %.5f over subsets)", r.kidStd()));
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
