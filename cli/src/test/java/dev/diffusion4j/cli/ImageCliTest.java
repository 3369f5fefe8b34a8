package dev.diffusion4j.cli;

import static dev.diffusion4j.cli.CliTest.diffuse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image models through the CLI: training on the shipped Fashion-MNIST split, grids, per-sample PNGs, the GIF, resume, errors. */
class ImageCliTest {
    @TempDir
    static Path shared;
    static Path run;

    static String[] tinyTrain(Path out, int steps, String... extra) {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("train", "--data", "fashion-mnist-test", "--out",
                out.toString(), "--image-size", "16", "--channels", "16,32", "--steps", Integer.toString(steps), "--batch-size", "4",
                "--timesteps", "100", "--checkpoint-every", "4", "--sample-every", "4", "--warmup", "2"));
        a.addAll(java.util.List.of(extra));
        return a.toArray(new String[0]);
    }

    /** {@code --text} on users' own captioned folder without class sub-folders learns the captions; with neither it is refused. */
    @Test
    void textModelOnAFlatCaptionedFolder(@TempDir Path tmp) throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("captioned"));
        StringBuilder metadata = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            BufferedImage image = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
            image.setRGB(0, 0, 16, 16, java.util.Collections.nCopies(256, 0x3F << (8 * (i % 3))).stream().mapToInt(Integer::intValue)
                    .toArray(), 0, 16);
            PngWriter.write(folder.resolve("square" + i + ".png"), image, Map.of());
            metadata.append("{\"file_name\": \"square").append(i).append(".png\", \"text\": \"a square of colour ").append(i % 3)
                    .append("\"}\n");
        }
        Path jsonl = Files.writeString(folder.resolve("metadata.jsonl"), metadata);
        String[] train = {"train", "--data", folder.toString(), "--text", "--channels", "16,32", "--steps", "2", "--batch-size", "2",
                "--timesteps", "100", "--sample-every", "0", "--out", tmp.resolve("run").toString()};
        CliTest.Run t = diffuse(train);
        assertEquals(0, t.code(), t.err());
        assertTrue(Files.readString(CheckpointStore.latest(tmp.resolve("run")).orElseThrow().resolve("config.json")).contains("text_unet_2d"));
        Files.delete(jsonl);
        train[train.length - 1] = tmp.resolve("run2").toString();
        CliTest.assertUserError(diffuse(train), "has neither");
        assertFalse(Files.exists(tmp.resolve("run2")), "nothing half-written");
    }

    @BeforeAll
    static void trainTinyUNet() {
        run = shared.resolve("fm");
        CliTest.Run r = diffuse(tinyTrain(run, 8, "--json"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("fashion-mnist"), r.err());
    }

    @Test
    void trainingWritesCheckpointsAndSampleGrids() throws Exception {
        assertTrue(Files.exists(run.resolve("samples/step-00000004.png")));
        assertTrue(Files.exists(run.resolve("samples/step-00000008.png")));
        BufferedImage grid = ImageIO.read(run.resolve("samples/step-00000008.png").toFile());
        assertTrue(grid.getWidth() > 4 * 16, "a 4x4 grid of 16 px samples");
        CliTest.Run info = diffuse("info", run.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("1x16x16 images"), info.out());
        assertTrue(info.out().contains("unet_2d"), info.out());
    }

    @Test
    void sampleWritesGridImagesAndDenoisingGif() throws Exception {
        Path grid = shared.resolve("grid.png");
        Path dir = shared.resolve("imgs");
        Path gif = shared.resolve("denoise.gif");
        CliTest.Run r = diffuse("sample", "--model", run.toString(), "--num", "6", "--sampler", "ddim", "--steps", "5",
                "--out", grid.toString(), "--images", dir.toString(), "--trajectory", gif.toString(), "--seed", "3");
        assertEquals(0, r.code(), r.err());
        Map<String, String> meta = PngWriter.readText(grid);
        assertEquals("ddim", meta.get("sampler"));
        assertEquals("3", meta.get("seed"));
        // --json prints the same metadata the PNG carries, plus where the files went
        com.fasterxml.jackson.databind.JsonNode json = diffuse("sample", "--model", run.toString(), "--num", "6", "--sampler", "ddim",
                "--steps", "5", "--out", shared.resolve("g3.png").toString(), "--seed", "3", "--json").json();
        Map<String, String> text = PngWriter.readText(shared.resolve("g3.png"));
        for (Map.Entry<String, String> e : text.entrySet()) {
            if (!e.getKey().equals(dev.diffusion4j.io.GridLayout.KEY)) {
                assertEquals(e.getValue(), json.get(e.getKey()).asText(), e.getKey());
            }
        }
        assertEquals(5, json.get("steps").asInt());
        // --from generates again what a PNG records: the same images, with a flag on top changing only that
        Path from = shared.resolve("from");
        assertEquals(0, diffuse("sample", "--model", run.toString(), "--from", shared.resolve("g3.png").toString(),
                "--out", shared.resolve("g4.png").toString(), "--images", from.toString()).code());
        assertArrayEquals(Files.readAllBytes(dir.resolve("sample-00005.png")), Files.readAllBytes(from.resolve("sample-00005.png")));
        Map<String, String> other = PngWriter.readText(shared.resolve("g4.png"));
        assertEquals("6", other.get("num"));
        CliTest.Run seeded = diffuse("sample", "--model", run.toString(), "--from", shared.resolve("g3.png").toString(), "--seed", "4",
                "--out", shared.resolve("g5.png").toString(), "--json");
        assertEquals(4, seeded.json().get("seed").asInt());
        assertEquals("ddim", seeded.json().get("sampler").asText());
        CliTest.assertUserError(diffuse("sample", "--model", run.toString(), "--from", run.resolve("loss.png").toString(), "--out",
                shared.resolve("g6.png").toString()), "records no generation");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(6, files.filter(p -> p.toString().endsWith(".png")).count());
        }
        BufferedImage one = ImageIO.read(dir.resolve("sample-00000.png").toFile());
        assertEquals(16, one.getWidth());
        assertEquals("0", PngWriter.readText(dir.resolve("sample-00000.png")).get("index"));
        assertTrue(Files.size(gif) > 1000);
        // the same seed gives the same images
        Path again = shared.resolve("again");
        assertEquals(0, diffuse("sample", "--model", run.toString(), "--num", "6", "--sampler", "ddim", "--steps", "5",
                "--out", shared.resolve("g2.png").toString(), "--images", again.toString(), "--seed", "3").code());
        assertArrayEquals(Files.readAllBytes(dir.resolve("sample-00005.png")), Files.readAllBytes(again.resolve("sample-00005.png")));
    }

    /** A U-Net is fully convolutional: it generates at any multiple of its downsampling factor, and says which sizes it takes. */
    @Test
    void sampleAtAnotherSize() throws Exception {
        Path dir = shared.resolve("big");
        CliTest.Run r = diffuse("sample", "--model", run.toString(), "--num", "2", "--sampler", "ddim", "--steps", "3", "--size", "24x32",
                "--out", shared.resolve("big.png").toString(), "--images", dir.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        BufferedImage one = ImageIO.read(dir.resolve("sample-00000.png").toFile());
        assertEquals(32, one.getWidth());
        assertEquals(24, one.getHeight());
        assertEquals("24x32", r.json().get("size").asText());
        CliTest.assertUserError(diffuse("sample", "--model", run.toString(), "--size", "25x32", "--out", shared.resolve("odd.png").toString()),
                "multiples of 2");
        CliTest.assertUserError(diffuse("sample", "--model", run.toString(), "--size", "big", "--out", shared.resolve("odd.png").toString()),
                "HEIGHTxWIDTH");
    }

    @Test
    void resumedImageRunEndsWithTheSameWeights() throws Exception {
        Path straight = shared.resolve("straight");
        Path split = shared.resolve("split");
        assertEquals(0, diffuse(tinyTrain(straight, 8)).code());
        assertEquals(0, diffuse(tinyTrain(split, 8)).code());
        // as if killed after the step-4 checkpoint: drop the last one and resume
        dev.diffusion4j.io.AtomicFiles.deleteTree(CheckpointStore.latest(split).orElseThrow());
        assertTrue(CheckpointStore.latest(split).orElseThrow().getFileName().toString().endsWith("4"));
        CliTest.Run r = diffuse("train", "--out", split.toString(), "--resume");
        assertEquals(0, r.code(), r.err());
        try (Scope s = Scope.open();
             SafetensorsFile a = Safetensors.open(CheckpointStore.latest(straight).orElseThrow().resolve("model.safetensors"));
             SafetensorsFile b = Safetensors.open(CheckpointStore.latest(split).orElseThrow().resolve("model.safetensors"))) {
            Map<String, Tensor> wa = a.readAll();
            Map<String, Tensor> wb = b.readAll();
            assertEquals(wa.keySet(), wb.keySet());
            for (String k : wa.keySet()) {
                assertTrue(wa.get(k).equal(wb.get(k)), "weight " + k + " differs after resume");
            }
        }
    }

    @Test
    void badImageInputsGiveOneLineErrors() throws Exception {
        CliTest.Run csvOut = diffuse("sample", "--model", run.toString(), "--num", "2", "--out", shared.resolve("x.csv").toString());
        assertEquals(2, csvOut.code());
        assertTrue(csvOut.err().contains("image model"), csvOut.err());
        CliTest.Run mlp = diffuse("train", "--data", "fashion-mnist-test", "--model", "mlp", "--out", shared.resolve("m").toString());
        assertEquals(2, mlp.code());
        assertTrue(mlp.err().contains("--model unet"), mlp.err());
        Path empty = Files.createDirectories(shared.resolve("empty"));
        CliTest.Run none = diffuse("train", "--data", empty.toString(), "--out", shared.resolve("e").toString());
        assertEquals(2, none.code());
        assertFalse(none.err().contains("\tat "), "no stack trace: " + none.err());
        CliTest.Run resumeOpts = diffuse("train", "--out", run.toString(), "--resume", "--image-size", "32");
        assertEquals(2, resumeOpts.code());
        assertTrue(resumeOpts.err().contains("--image-size"), resumeOpts.err());
        // weights of another channel count do not load silently
        Path rgb = shared.resolve("rgb");
        assertEquals(0, diffuse(tinyTrain(rgb, 4, "--color", "rgb")).code());
        Path broken = shared.resolve("broken");
        Path ckpt = broken.resolve(CheckpointStore.latest(run).orElseThrow().getFileName());
        try (Stream<Path> files = Files.walk(CheckpointStore.latest(run).orElseThrow())) {
            Files.createDirectories(ckpt);
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, ckpt.resolve(f.getFileName()));
            }
        }
        Path rgbCkpt = CheckpointStore.latest(rgb).orElseThrow();
        Files.copy(rgbCkpt.resolve("ema.safetensors"), ckpt.resolve("ema.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CliTest.Run wrong = diffuse("sample", "--model", ckpt.toString(), "--num", "2", "--out", shared.resolve("w.png").toString());
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("conv_in.weight") || wrong.err().contains("checksum") || wrong.err().contains("corrupt"),
                wrong.err());
    }

    @Test
    void classifierTrainingAndImageMetricsThroughTheCli() throws Exception {
        Path clf = shared.resolve("clf");
        CliTest.Run t = diffuse("train-classifier", "--data", "fashion-mnist-test", "--image-size", "16", "--steps", "120",
                "--batch-size", "32", "--out", clf.toString(), "--json");
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("held-out 10%"), t.out());
        assertTrue(t.json().get("accuracy").asDouble() > 0.3, "120 steps beat chance (0.1) by far: " + t.out());
        assertTrue(Files.exists(clf.resolve("classifier.safetensors")) && Files.exists(clf.resolve("loss.png")));

        Path grid = shared.resolve("eval-grid.png");
        Path dir = shared.resolve("eval-imgs");
        assertEquals(0, diffuse("sample", "--model", run.toString(), "--num", "40", "--sampler", "ddim", "--steps", "3",
                "--out", grid.toString(), "--images", dir.toString(), "--grid-cols", "7").code());
        CliTest.Run fromGrid = diffuse("eval", "--samples", grid.toString(), "--data", "fashion-mnist-test", "--image-size", "16",
                "--classifier", clf.toString(), "--json");
        assertEquals(0, fromGrid.code(), fromGrid.err());
        CliTest.Run fromDir = diffuse("eval", "--samples", dir.toString(), "--data", "fashion-mnist-test", "--image-size", "16",
                "--classifier", clf.toString(), "--json");
        assertEquals(0, fromDir.code(), fromDir.err());
        assertTrue(fromDir.out().contains("FID") && fromDir.out().contains("real-vs-real"), fromDir.out());
        // The grid's tiles are the very samples written one by one: every figure agrees.
        for (String key : new String[] {"fid", "fid_floor", "kid", "precision", "recall", "inception_score"}) {
            assertEquals(fromDir.json().get(key).asDouble(), fromGrid.json().get(key).asDouble(), 1e-9, key);
        }
        assertEquals(40, fromDir.json().get("samples").asInt());
        // An 8-step model's samples are far from the data: FID well above the real-vs-real floor.
        assertTrue(fromDir.json().get("fid").asDouble() > 3 * fromDir.json().get("fid_floor").asDouble(), fromDir.out());

        CliTest.assertUserError(diffuse("eval", "--samples", dir.toString(), "--data", "fashion-mnist-test"), "16x16");
        CliTest.assertUserError(diffuse("eval", "--samples", dir.toString(), "--data", "fashion-mnist-test", "--image-size", "16"),
                "no built-in classifier");
        CliTest.assertUserError(diffuse("eval", "--samples", shared.resolve("nothing").toString(), "--data", "fashion-mnist-test"),
                "no file or folder");
        Path plain = shared.resolve("plain.png");
        PngWriter.write(plain, new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB), Map.of());
        CliTest.assertUserError(diffuse("eval", "--samples", plain.toString(), "--data", "fashion-mnist-test"), "not a diffusion4j sample grid");

        // A class-conditional U-Net: guided sampling with dynamic thresholding, and the guidance sweep under this classifier.
        Path cond = shared.resolve("fm-cond");
        CliTest.Run c = diffuse(tinyTrain(cond, 4, "--conditional"));
        assertEquals(0, c.code(), c.err());
        Path sneakers = shared.resolve("class7.png");
        CliTest.Run guided = diffuse("sample", "--model", cond.toString(), "--class", "7", "--guidance", "3", "--threshold", "dynamic",
                "--num", "4", "--sampler", "ddim", "--steps", "3", "--out", sneakers.toString());
        assertEquals(0, guided.code(), guided.err());
        assertTrue(Files.size(sneakers) > 0);
        Path sweepPlot = shared.resolve("sweep.png");
        CliTest.Run sweep = diffuse("guidance-sweep", "--model", cond.toString(), "--classifier", clf.toString(), "--weights", "0,2",
                "--num", "2", "--steps", "2", "--cost-batches", "2", "--out", sweepPlot.toString(), "--json");
        assertEquals(0, sweep.code(), sweep.err());
        assertEquals(2, sweep.json().get("weights").size());
        for (com.fasterxml.jackson.databind.JsonNode row : sweep.json().get("weights")) {
            assertTrue(row.get("accuracy").asDouble() >= 0 && row.get("accuracy").asDouble() <= 1, row.toString());
            assertEquals(20, row.get("samples").asInt(), "2 per class, 10 classes");
            assertTrue(row.get("fid").asDouble() > 0, row.toString());
        }
        assertTrue(Files.exists(shared.resolve("sweep-w0.png")) && Files.exists(shared.resolve("sweep-w2.png")) && Files.exists(sweepPlot));
        CliTest.assertUserError(diffuse("sample", "--model", run.toString(), "--class", "1", "--out", sneakers.toString()),
                "not class-conditional");

        // A text-conditioned U-Net: a prompt and a negative prompt, a cut-off long prompt, the sweep over prompts, misuse.
        Path text = shared.resolve("fm-text");
        CliTest.Run tt = diffuse(tinyTrain(text, 4, "--text"));
        assertEquals(0, tt.code(), tt.err());
        assertTrue(Files.readString(CheckpointStore.latest(text).orElseThrow().resolve("config.json")).contains("text_unet_2d"));
        Path prompted = shared.resolve("prompt.png");
        CliTest.Run p = diffuse("sample", "--model", text.toString(), "--prompt", "a photo of a dark sneaker", "--negative", "sandal",
                "--guidance", "4", "--num", "2", "--sampler", "ddim", "--steps", "3", "--out", prompted.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(PngWriter.readText(prompted).get("prompt").equals("a photo of a dark sneaker"), "the prompt is in the PNG");
        Path promptList = Files.writeString(shared.resolve("prompts.txt"), "# garments\na photo of a bag\n\na photo of a small sandal\n");
        Path perPrompt = shared.resolve("per-prompt");
        CliTest.Run pp = diffuse("sample", "--model", text.toString(), "--prompts", promptList.toString(), "--num", "2", "--seed", "5",
                "--guidance", "2", "--sampler", "ddim", "--steps", "2", "--out", shared.resolve("prompts.png").toString(), "--images", perPrompt.toString(),
                "--json");
        assertEquals(0, pp.code(), pp.err());
        assertEquals(4, pp.json().get("num").asInt(), "two images of each of the two prompts");
        Map<String, String> third = PngWriter.readText(perPrompt.resolve("sample-00002.png"));
        assertEquals("a photo of a small sandal", third.get("prompt"));
        assertEquals("6", third.get("seed"), "the second prompt runs with seed + 1");
        assertEquals("2.0", third.get("guidance"), "the guidance weight applies to every prompt of the list");
        CliTest.assertUserError(diffuse("sample", "--model", text.toString(), "--prompts", promptList.toString(), "--prompt", "a bag",
                "--out", prompted.toString()), "not both");
        assertEquals("a photo of a bag", PngWriter.readText(perPrompt.resolve("sample-00001.png")).get("prompt"));
        CliTest.Run again = diffuse("sample", "--model", text.toString(), "--from", perPrompt.resolve("sample-00002.png").toString(),
                "--out", shared.resolve("again.png").toString(), "--images", shared.resolve("again").toString());
        assertEquals(0, again.code(), again.err());
        assertArrayEquals(pixels(perPrompt.resolve("sample-00002.png")), pixels(shared.resolve("again/sample-00000.png")),
                "--from one sample of a prompt list generates it again");
        CliTest.assertUserError(diffuse("sample", "--model", text.toString(), "--prompts", shared.resolve("none.txt").toString(),
                "--out", prompted.toString()), "cannot read --prompts");
        CliTest.Run longPrompt = diffuse("sample", "--model", text.toString(), "--prompt", "a sneaker ".repeat(60), "--num", "1",
                "--sampler", "ddim", "--steps", "2", "--out", shared.resolve("long.png").toString());
        assertEquals(0, longPrompt.code(), longPrompt.err());
        assertTrue(longPrompt.err().contains("warning: the prompt is longer than the model's context of 77 tokens"), longPrompt.err());
        CliTest.Run textSweep = diffuse("guidance-sweep", "--model", text.toString(), "--classifier", clf.toString(), "--weights", "3",
                "--num", "1", "--steps", "2", "--cost-batches", "2", "--json");
        assertEquals(0, textSweep.code(), textSweep.err());
        assertEquals(10, textSweep.json().get("weights").get(0).get("samples").asInt(), "a prompt per class, 10 classes");
        assertTrue(textSweep.out().contains("'a photo of a t-shirt/top'"), textSweep.out());
        CliTest.assertUserError(diffuse("sample", "--model", text.toString(), "--class", "1", "--out", prompted.toString()),
                "give a prompt");
        CliTest.assertUserError(diffuse("sample", "--model", cond.toString(), "--prompt", "a bag", "--out", prompted.toString()),
                "not text-conditioned");
        CliTest.assertUserError(diffuse("sample", "--model", text.toString(), "--prompt", "a bag", "--class", "1", "--out",
                prompted.toString()), "not both");
        CliTest.assertUserError(diffuse(tinyTrain(shared.resolve("both"), 2, "--text", "--conditional")), "not both");

        // Classifier guidance of the unconditional model with a noise-aware classifier.
        Path noisy = shared.resolve("noisy-clf");
        CliTest.Run nt = diffuse("train-classifier", "--data", "fashion-mnist-test", "--image-size", "16", "--steps", "20",
                "--batch-size", "16", "--noisy", "--out", noisy.toString(), "--json");
        assertEquals(0, nt.code(), nt.err());
        assertEquals(5, nt.json().get("accuracy_by_sigma").size(), nt.out());
        assertTrue(nt.out().contains("at noise level sigma = 0.5"), nt.out());
        CliTest.Run steered = diffuse("sample", "--model", run.toString(), "--class", "Sneaker", "--classifier", noisy.toString(),
                "--classifier-scale", "3", "--num", "2", "--sampler", "ddim", "--steps", "3", "--out", shared.resolve("cg.png").toString());
        assertEquals(0, steered.code(), steered.err());
        assertEquals("3.0", PngWriter.readText(shared.resolve("cg.png")).get("classifier_scale"));
        CliTest.Run cgSweep = diffuse("guidance-sweep", "--model", run.toString(), "--guide-classifier", noisy.toString(),
                "--classifier", clf.toString(), "--weights", "0,3", "--num", "1", "--steps", "2", "--cost-batches", "2", "--json");
        assertEquals(0, cgSweep.code(), cgSweep.err());
        assertEquals(2, cgSweep.json().get("weights").size(), "an unconditional model swept over the classifier scale");
        assertTrue(cgSweep.out().contains("the classifier's gradient"), cgSweep.out());
        CliTest.assertUserError(diffuse("sample", "--model", run.toString(), "--class", "1", "--classifier-scale", "3", "--out",
                sneakers.toString()), "needs a classifier of noisy samples");
        CliTest.assertUserError(diffuse("sample", "--model", run.toString(), "--class", "1", "--classifier", clf.toString(),
                "--classifier-scale", "3", "--out", sneakers.toString()), "trained on clean images");
        CliTest.assertUserError(diffuse("sample", "--model", run.toString(), "--class", "1", "--classifier", noisy.toString(), "--out",
                sneakers.toString()), "give classifier_scale too");
        CliTest.assertUserError(diffuse("sample", "--model", run.toString(), "--class", "Boot", "--classifier", noisy.toString(),
                "--classifier-scale", "3", "--out", sneakers.toString()), "the classifier knows");
    }

    @Test
    void seedPresetTrainsTheSeedUNetWithItsRecipe() throws Exception {
        Path seedRun = shared.resolve("seed");
        CliTest.Run r = diffuse("train", "--data", "fashion-mnist-test", "--preset", "seed-unet", "--steps", "2", "--batch-size", "4",
                "--out", seedRun.toString(), "--sample-every", "100");
        assertEquals(0, r.code(), r.err());
        CliTest.Run info = diffuse("info", seedRun.toString(), "--json");
        assertTrue(info.out().contains("seed_unet"), info.out());
        String config = Files.readString(seedRun.resolve("checkpoint-00000002/config.json"));
        assertTrue(config.contains("\"num_train_timesteps\" : 200") || config.contains("\"num_train_timesteps\":200"), config);
        assertTrue(config.toLowerCase(java.util.Locale.ROOT).contains("huber"), config);
        assertEquals(0, diffuse("sample", "--model", seedRun.toString(), "--num", "2", "--steps", "3", "--sampler", "ddim",
                "--out", shared.resolve("seed.png").toString()).code());
        CliTest.assertUserError(diffuse("train", "--data", "8gaussians", "--preset", "seed-unet", "--out", shared.resolve("x").toString()),
                "holds vectors");
        CliTest.assertUserError(diffuse("train", "--data", "fashion-mnist-test", "--preset", "nope", "--out", shared.resolve("y").toString()),
                "unknown preset");
    }

    private static int[] pixels(Path png) throws java.io.IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
