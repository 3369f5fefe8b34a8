package dev.diffusion4j.cli;

import static dev.diffusion4j.cli.CliTest.diffuse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.tensor.Scope;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code diffuse train-clip}: a short run on class-name captions, its held-out report and model folder, errors. */
class TrainClipCliTest {
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
        assertTrue(Files.isRegularFile(out.resolve("loss.png")) && Files.isRegularFile(out.resolve("report.json")));
        try (Scope s = Scope.open()) {
            assertEquals(16, ClipModel.load(out).config().visionConfig().imageSize());
        }
    }

    @Test
    void badInputIsAOneLineError(@TempDir Path tmp) {
        CliTest.assertUserError(diffuse("train-clip", "--data", "moons", "--out", tmp.toString()), "vector data");
        CliTest.assertUserError(diffuse("train-clip", "--data", "fashion-mnist-test", "--steps", "0", "--out", tmp.toString()),
                "at least one step");
    }
}
