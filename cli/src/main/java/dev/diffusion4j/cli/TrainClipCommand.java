package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CaptionedBatches;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.eval.ClipScore;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.model.ClipConfig;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.train.ClassCaptionBatches;
import dev.diffusion4j.train.ClipTraining;
import dev.diffusion4j.train.TrainListener;
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

/** Trains the CLIP-style text/image model that scores how well images match their prompts. */
@Command(name = "train-clip", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a CLIP-style model — the project's text encoder and a small convolutional image encoder — "
                + "contrastively on image-caption pairs: a captioned set (emoji, a folder with metadata.jsonl or .txt captions) or "
                + "labelled images captioned from their class names. It measures CLIP scores and gives text features that know images.",
                "Writes config.json and model.safetensors (a model folder), loss.png and report.json into --out: caption retrieval and "
                        + "CLIP score of held-out real pairs next to the same pairs shuffled.",
                "Example: diffuse train-clip --data emoji --out runs/clip"})
final class TrainClipCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", required = true, description = "Captioned or labelled images: a built-in set or a folder.")
    String data;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--test-data", description = "Held-out images for the report (default: the built-in set's -test split, "
            + "e.g. emoji-test; 'none' skips the report).")
    String testData;

    @Option(names = "--test-pairs", defaultValue = "500", description = "Held-out pairs evaluated (default: ${DEFAULT-VALUE}).")
    int testPairs;

    @Option(names = "--steps", description = "Optimizer steps (default: 3000).")
    Integer steps;

    @Option(names = "--batch-size", description = "Pairs per step; each pair's negatives are the others (default: 128).")
    Integer batchSize;

    @Option(names = "--image-size", description = "Resize and centre-crop images to N x N (default: the data's own).")
    Integer imageSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialisation and batches (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        ImageOptions options = new ImageOptions(imageSize, null, false);
        ImageDataset train = images(data, options);
        if (train.height() != train.width()) {
            throw new DiffusionException("the image encoder reads square images; set --image-size to resize and crop " + train.name());
        }
        ClipTraining.Options opts = ClipTraining.Options.defaults().withSeed(seed);
        if (steps != null) {
            opts = opts.withSteps(steps).withWarmupSteps(Math.min(opts.warmupSteps(), steps / 10));
        }
        if (batchSize != null) {
            opts = opts.withBatchSize(batchSize);
        }
        CaptionedBatches pairs = ClassCaptionBatches.of(train);
        o.printf(Locale.ROOT, "training a CLIP-style model on %s (%d images, %s)%n", train.name(), train.size(),
                train.hasCaptions() ? "their own captions" : "captions from class names");
        o.flush();
        List<double[]> log = new ArrayList<>();
        ProgressBar bar = ProgressBar.console("train-clip", opts.steps());
        long start = System.nanoTime();
        ClipModel model = ClipTraining.train(ClipConfig.of(train.channels(), train.height()), pairs, opts, new TrainListener() {
            @Override
            public void onStep(long step, long total, double loss, double lr) {
                log.add(new double[] {step, loss});
                bar.update(step, String.format(Locale.ROOT, "loss %.4f lr %.2e", loss, lr));
            }
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        bar.finish(String.format(Locale.ROOT, "done in %s", ProgressBar.formatDuration(seconds)));
        model.save(out);
        Plots.lossCurve(log, out.resolve("loss.png"), "CLIP training loss (symmetric InfoNCE), " + train.name());
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("data", train.name());
        report.put("steps", opts.steps());
        report.put("batch_size", opts.batchSize());
        report.put("seconds", seconds);
        report.put("parameters", model.parameterCount());
        report.put("final_loss", log.get(log.size() - 1)[1]);
        report.put("inverse_temperature", model.logitScale().item());   // 1/τ = exp(logit_scale), learnt
        ImageDataset test = heldOut(train, options);
        if (test != null) {
            report.put("held_out", heldOutFigures(model, test, o));
        }
        Json.write(out.resolve("report.json"), report);
        o.println("model: " + out);
        if (json) {
            JsonLine.print(o, report);
        }
        o.flush();
        return 0;
    }

    /** Retrieval among the held-out captions, and CLIP scores of real pairs against the same pairs shuffled. */
    private Map<String, Object> heldOutFigures(ClipModel model, ImageDataset test, PrintWriter o) {
        try (Scope s = Scope.open()) {
            int n = Math.min(testPairs, test.size());
            CaptionedBatches.Batch real = ClassCaptionBatches.of(test).next(n, new Generator(seed + 1));
            List<String> shuffled = new ArrayList<>(real.captions());
            java.util.Collections.rotate(shuffled, 1);
            ClipScore.Score matched = ClipScore.score(model, real.images(), real.captions());
            ClipScore.Score mismatched = ClipScore.score(model, real.images(), shuffled);
            double retrieval = ClipScore.retrievalAccuracy(model, real.images(), real.captions());
            long distinct = real.captions().stream().distinct().count();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("data", test.name());
            m.put("pairs", n);
            m.put("distinct_captions", distinct);
            m.put("retrieval_top1", retrieval);
            m.put("clip_score_real", matched.clipScore());
            m.put("mean_cosine_real", matched.meanCosine());
            m.put("clip_score_shuffled", mismatched.clipScore());
            m.put("mean_cosine_shuffled", mismatched.meanCosine());
            o.printf(Locale.ROOT, "held-out %s, %d pairs: caption retrieval %.1f%% among %d captions (chance %.1f%%); CLIP score %.2f "
                    + "for real pairs, %.2f shuffled%n", test.name(), n, 100 * retrieval, distinct, 100.0 / distinct,
                    matched.clipScore(), mismatched.clipScore());
            return m;
        }
    }

    private ImageDataset heldOut(ImageDataset train, ImageOptions options) {
        String split = train.name() + "-test";
        String name = testData != null ? testData : ImageDatasets.isBuiltIn(split) ? split : null;
        if (name == null || name.equals("none")) {
            return null;
        }
        ImageDataset test = images(name, options);
        if (test.channels() != train.channels() || test.height() != train.height()) {
            throw new DiffusionException("--test-data " + name + " holds " + test.channels() + "x" + test.height() + "x" + test.width()
                    + " images but --data " + train.channels() + "x" + train.height() + "x" + train.width());
        }
        return test;
    }

    private static ImageDataset images(String nameOrPath, ImageOptions options) {
        DataSource d = DataSources.open(nameOrPath, options);
        if (!(d instanceof ImageDataset images)) {
            throw new DiffusionException(nameOrPath + " is not image data; a CLIP model trains on captioned or labelled images");
        }
        return images;
    }
}
