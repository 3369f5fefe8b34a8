package dev.diffusion4j.studio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Stable Diffusion pipeline folder dropped into the models folder (the tiny one diffusers saved for
 * core's golden tests) is offered as a text-to-image model and generates with live previews, which a
 * map fitted to its decoder turns into RGB.
 */
class StudioStableDiffusionTest {
    @TempDir
    static Path root;
    static StudioFixture s;

    @BeforeAll
    static void start() throws IOException {
        s = new StudioFixture(root, 4);
        Path source = Path.of("..", "core", "src", "test", "resources", "golden", "sd_pipeline");
        Path target = s.models.resolve("sd-tiny");
        try (Stream<Path> files = Files.walk(source)) {
            for (Path p : files.filter(p -> !p.toString().contains("cases")).toList()) {
                Path t = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    @Test
    void aPipelineFolderIsATextToImageModelWithLivePreviews() {
        JsonNode models = s.get("api/models").json();
        assertEquals(1, models.size(), models.toString());
        JsonNode m = models.get(0);
        assertEquals("sd-tiny", m.get("name").asText());
        assertTrue(m.get("text").asBoolean(), m.toString());
        assertEquals("[3,16,16]", m.get("shape").toString());

        String id = s.submit("{\"kind\":\"generate\",\"model\":\"sd-tiny\",\"prompt\":\"a red cube\",\"negative\":\"blurry\","
                + "\"sampler\":\"euler\",\"steps\":3,\"num\":2,\"seed\":42,\"size\":\"16x16\",\"previewEvery\":1}");
        var live = s.events(id);
        JsonNode r = s.await(id, Duration.ofMinutes(1));
        assertEquals("done", r.get("state").asText(), r.toString());
        JsonNode parameters = r.get("result").get("parameters");
        assertEquals("a red cube", parameters.get("prompt").asText());
        assertEquals("EulerDiscreteScheduler", parameters.get("scheduler").asText());
        assertTrue(parameters.get("parameters").asText().contains("Sampler: Euler"), parameters.toString());
        String events = live.join();
        assertTrue(events.split("event: preview").length - 1 >= 3, "a preview every step");
        assertTrue(events.contains("\"image\":\"data:image/png;base64,"));
    }
}
