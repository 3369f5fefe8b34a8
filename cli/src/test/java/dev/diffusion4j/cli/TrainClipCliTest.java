package dev.diffusion4j.cli;

import static dev.diffusion4j.cli.CliTest.diffuse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.data.CaptionedBatches;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.ClassCaptionBatches;
import dev.diffusion4j.viz.ImageTiles;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code diffuse train-clip}: a short run on class-name captions, its held-out report and model folder, errors. */
class TrainClipCliTest {
    @TempDir
    static Path shared;
    /** A CLIP model of 40 steps on 28x28 Fashion-MNIST, class-name captions. */
    private static Path clip;

    @BeforeAll
    static void trainClip() {
        clip = shared.resolve("clip");
        CliTest.Run r = diffuse("train-clip", "--data", "fashion-mnist-test", "--steps", "40", "--batch-size", "32", "--test-data", "none",
                "--out", clip.toString());
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void trainsAndReportsHeldOutPairs(@TempDir Path tmp) {
        Path out = tmp.resolve("clip");
        CliTest.Run r = diffuse("train-clip", "--data", "fashion-mnist-test", "--image-size", "16", "--steps", "40", "--batch-size",
                "32", "--test-data", "fashion-mnist-test", "--test-pairs", "200", "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("captions from class names"), r.out());
        JsonNode held = r.json().get("held_out");
        assertEquals(200, held.get("pairs").asInt());
        assertTrue(held.get("clip_score_real").asDouble() > held.get("clip_score_shuffled").asDouble(),
                "40 steps already tell matching pairs from shuffled ones: " + held);
        assertTrue(held.get("retrieval_top1").asDouble() > 2.0 / held.get("distinct_captions").asDouble(),
                "retrieval beats twice chance: " + held);
        double inverseTemperature = r.json().get("inverse_temperature").asDouble();
        assertTrue(inverseTemperature > 1 && inverseTemperature <= 100 && Math.abs(inverseTemperature - Math.exp(2.659260036932778)) > 1e-3,
                "the learnt 1/τ, moved from CLIP's initial 1/0.07: " + r.json());
        assertTrue(Files.isRegularFile(out.resolve("loss.png")) && Files.isRegularFile(out.resolve("report.json")));
        try (Scope s = Scope.open()) {
            assertEquals(16, ClipModel.load(out).config().visionConfig().imageSize());
        }
    }

    /**
     * {@code diffuse eval --clip}: real held-out images written as samples with their own captions score
     * about as real pairs do; the same images with each other's captions score clearly less.
     */
    @Test
    void evalScoresSamplesAgainstTheirRecordedPrompts(@TempDir Path tmp) throws Exception {
        Path matched = tmp.resolve("matched");
        Path shuffled = tmp.resolve("shuffled");
        try (Scope s = Scope.open()) {
            ImageDataset test = (ImageDataset) DataSources.open("fashion-mnist-test", new ImageOptions(null, null, false));
            CaptionedBatches.Batch pairs = ClassCaptionBatches.of(test).next(200, new Generator(11));
            List<BufferedImage> images = ImageTiles.fromTensor(pairs.images());
            for (int i = 0; i < images.size(); i++) {
                String name = String.format(Locale.ROOT, "sample-%05d.png", i);
                PngWriter.write(Files.createDirectories(matched).resolve(name), images.get(i), Map.of("prompt", pairs.captions().get(i)));
                PngWriter.write(Files.createDirectories(shuffled).resolve(name), images.get(i),
                        Map.of("prompt", pairs.captions().get((i + 1) % images.size())));
            }
        }
        CliTest.Run real = diffuse("eval", "--samples", matched.toString(), "--data", "fashion-mnist-test", "--clip", clip.toString(),
                "--json");
        assertEquals(0, real.code(), real.err());
        assertTrue(real.out().contains("CLIP score"), real.out());
        double share = real.json().get("clip_score_share").asDouble();
        assertTrue(share > 0.9 && share < 1.1, "real pairs score as real pairs do: " + real.json());
        CliTest.Run wrong = diffuse("eval", "--samples", shuffled.toString(), "--data", "fashion-mnist-test", "--clip", clip.toString(),
                "--json");
        assertEquals(0, wrong.code(), wrong.err());
        assertTrue(wrong.json().get("clip_score_share").asDouble() < share - 0.1,
                "mismatched prompts score less: " + wrong.json().get("clip_score_share") + " vs " + share);

        Files.writeString(matched.resolve("notes.txt"), "ignored");
        PngWriter.write(matched.resolve("sample-99999.png"), new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), Map.of());
        CliTest.assertUserError(diffuse("eval", "--samples", matched.toString(), "--data", "fashion-mnist-test", "--clip",
                clip.toString()), "records no prompt");
    }

    /** {@code train --text --text-encoder CLIP}: the U-Net reads prompts with the CLIP model's text tower, which stays as it was. */
    @Test
    void aTextModelTakesTheClipTextEncoderFrozen(@TempDir Path tmp) {
        Path run = tmp.resolve("text");
        String[] train = {"train", "--data", "fashion-mnist-test", "--image-size", "16", "--channels", "16,32", "--text", "--text-encoder",
                clip.toString(), "--steps", "3", "--batch-size", "4", "--timesteps", "100", "--checkpoint-every", "3", "--sample-every",
                "100", "--out", run.toString()};
        CliTest.Run r = diffuse(train);
        assertEquals(0, r.code(), r.err());
        assertTextEncoderIsClips(run);
        CliTest.Run more = diffuse("train", "--out", run.toString(), "--resume", "--steps", "5");
        assertEquals(0, more.code(), more.err());
        assertTextEncoderIsClips(run);

        CliTest.assertUserError(diffuse("train", "--out", run.toString(), "--resume", "--text-encoder", clip.toString()),
                "drop --text-encoder");
        CliTest.assertUserError(diffuse("train", "--data", "fashion-mnist-test", "--text-encoder", clip.toString(), "--out",
                tmp.resolve("x").toString()), "add --text");
    }

    /** After training, the run's weights and EMA weights of the text encoder are the CLIP model's text tower, bit for bit. */
    private static void assertTextEncoderIsClips(Path run) {
        Path ckpt = CheckpointStore.latest(run).orElseThrow();
        try (Scope s = Scope.open(); SafetensorsFile clipWeights = Safetensors.open(clip.resolve(ClipModel.WEIGHTS_FILE))) {
            int compared = 0;
            for (String file : new String[] {"model.safetensors", "ema.safetensors"}) {
                try (SafetensorsFile weights = Safetensors.open(ckpt.resolve(file))) {
                    for (String name : weights.names()) {
                        if (name.startsWith("text_encoder.")) {
                            Tensor ours = weights.read(name);
                            Tensor theirs = clipWeights.read("text_model." + name.substring("text_encoder.".length()));
                            assertTrue(ours.equal(theirs), name + " in " + file);
                            compared++;
                        }
                    }
                }
            }
            assertTrue(compared > 20, "the text encoder's tensors were compared: " + compared);
        }
    }

    @Test
    void badInputIsAOneLineError(@TempDir Path tmp) {
        CliTest.assertUserError(diffuse("train-clip", "--data", "moons", "--out", tmp.toString()), "vector data");
        CliTest.assertUserError(diffuse("train-clip", "--data", "fashion-mnist-test", "--steps", "0", "--out", tmp.toString()),
                "at least one step");
    }
}
