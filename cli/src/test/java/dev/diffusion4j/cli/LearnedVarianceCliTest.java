package dev.diffusion4j.cli;

import static dev.diffusion4j.cli.CliTest.assertUserError;
import static dev.diffusion4j.cli.CliTest.diffuse;
import static dev.diffusion4j.cli.CliTest.smallTrain;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.cli.CliTest.Run;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --variance learned_range} through train, info, sample and nll; one-line errors on a model without the head. */
class LearnedVarianceCliTest {
    @TempDir
    static Path shared;
    static Path learned;
    static Path fixed;

    @BeforeAll
    static void train() {
        learned = shared.resolve("learned");
        Run r = diffuse(smallTrain(learned, "8gaussians", "--variance", "learned_range"));
        assertEquals(0, r.code(), r.err());
        fixed = shared.resolve("fixed");
        Run f = diffuse(smallTrain(fixed, "8gaussians"));
        assertEquals(0, f.code(), f.err());
    }

    @Test
    void infoSamplingAndTheBoundUseTheLearnedVariance(@TempDir Path dir) {
        Run info = diffuse("info", learned.toString(), "--json");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("variance:    learned_range"), info.out());
        assertEquals("learned_range", info.json().get("variance_type").asText());
        assertEquals("learned_range", info.json().get("config").get("model").get("variance_type").asText());
        assertTrue(diffuse("info", fixed.toString()).out().contains("variance:    fixed"));

        Run s = diffuse("sample", "--model", learned.toString(), "--sampler", "ddpm", "--steps", "25", "--variance", "learned_range",
                "--num", "200", "--out", dir.resolve("s.csv").toString(), "--json");
        assertEquals(0, s.code(), s.err());
        assertEquals(25, s.json().get("model_evaluations").asInt(), "one evaluation per respaced step");

        JsonNode small = diffuse("nll", "--model", learned.toString(), "--data", "8gaussians", "--method", "vlb", "--num", "200",
                "--json").json();
        Run n = diffuse("nll", "--model", learned.toString(), "--data", "8gaussians", "--method", "vlb", "--num", "200",
                "--variance", "learned_range", "--json");
        assertEquals(0, n.code(), n.err());
        JsonNode lr = n.json();
        assertEquals("learned_range", lr.get("variance").asText());
        assertTrue(Double.isFinite(lr.get("nll_nats").asDouble()));
        assertNotEquals(small.get("nll_nats").asDouble(), lr.get("nll_nats").asDouble(), 1e-6, "the variance changes the bound");
    }

    @Test
    void learnedRangeOnAFixedModelIsAOneLineError(@TempDir Path dir) {
        assertUserError(diffuse("sample", "--model", fixed.toString(), "--sampler", "ddpm", "--variance", "learned_range",
                "--num", "10", "--out", dir.resolve("x.csv").toString()), "learned_range");
        assertUserError(diffuse("nll", "--model", fixed.toString(), "--data", "8gaussians", "--method", "vlb",
                "--variance", "learned_range", "--num", "10"), "trained with a learned variance");
        assertUserError(diffuse("nll", "--model", "oracle:8gaussians", "--data", "8gaussians", "--method", "vlb",
                "--variance", "learned_range", "--num", "10"), "learned_range");
        assertUserError(diffuse(smallTrain(dir.resolve("bad"), "8gaussians", "--variance", "fixed_small")), "learned_range");
        assertUserError(diffuse("train", "--out", learned.toString(), "--resume", "--variance", "learned_range"), "drop --variance");
    }
}
