package dev.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
    @TempDir
    Path run;

    private Path save(long step, String weights) {
        CheckpointStore.Staging s = CheckpointStore.stage(run, step);
        AtomicFiles.writeString(s.path("model.bin"), weights);
        s.writeJson("config.json", Map.of("step", step));
        return s.commit();
    }

    private List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(".checkpoint.lock")).sorted().toList();
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    @Test
    void commitPublishesASealedCheckpoint() throws Exception {
        assertEquals(Optional.empty(), CheckpointStore.latest(run));
        Instant before = Instant.now().minusSeconds(1);
        CheckpointStore.Staging s = CheckpointStore.stage(run, 1500);
        assertEquals(run.resolve(".checkpoint-00001500.tmp"), s.dir());
        assertTrue(Files.isDirectory(s.dir()));
        Files.writeString(s.path("model.bin"), "weights");
        Files.writeString(s.path("optimizer/state.bin"), "moments");
        Path done = s.commit();

        assertEquals(run.resolve("checkpoint-00001500"), done);
        assertEquals(List.of("checkpoint-00001500"), names(run));
        assertEquals(List.of("manifest.json", "model.bin", "optimizer"), names(done));
        JsonNode m = Json.read(done.resolve("manifest.json"));
        assertEquals(1, m.get("format_version").asInt());
        assertEquals(1500, m.get("step").asLong());
        Instant created = Instant.parse(m.get("created").asText());
        assertFalse(created.isBefore(before));
        assertEquals(List.of("model.bin", "optimizer/state.bin"), List.copyOf(Json.mapper().convertValue(m.get("files"), Map.class).keySet()));
        assertEquals(7, m.get("files").get("model.bin").get("size").asLong());
        assertEquals(sha256("weights".getBytes()), m.get("files").get("model.bin").get("sha256").asText());
        assertEquals(sha256("moments".getBytes()), m.get("files").get("optimizer/state.bin").get("sha256").asText());
        assertEquals(1500, CheckpointStore.step(done));
        CheckpointStore.verify(done);
        assertEquals(Optional.of(done), CheckpointStore.latest(run));
        assertThrows(IllegalStateException.class, () -> s.path("late.bin"), "a committed staging is closed");
    }

    @Test
    void keepsOnlyTheNewestCheckpoints() throws IOException {
        save(100, "a");
        save(200, "b");
        Path third = save(300, "c");
        assertEquals(List.of("checkpoint-00000200", "checkpoint-00000300"), names(run));
        assertEquals(Optional.of(third), CheckpointStore.latest(run));

        CheckpointStore.Staging s = CheckpointStore.stage(run, 400);
        AtomicFiles.writeString(s.path("model.bin"), "d");
        s.commit(3);
        assertEquals(List.of("checkpoint-00000200", "checkpoint-00000300", "checkpoint-00000400"), names(run));
        CheckpointStore.Staging one = CheckpointStore.stage(run, 500);
        AtomicFiles.writeString(one.path("model.bin"), "e");
        one.commit(1);
        assertEquals(List.of("checkpoint-00000500"), names(run));
        assertEquals(List.of(run.resolve("checkpoint-00000500")), CheckpointStore.list(run));
    }

    @Test
    void stepsSortNumericallyAndAResumedRunKeepsItsNewCheckpoint() throws IOException {
        save(99_999_999, "old");
        save(100_000_000, "nine digits"); // longer name; must still sort after the 8-digit one
        assertEquals(Optional.of(run.resolve("checkpoint-100000000")), CheckpointStore.latest(run));
        // Resumed from an earlier step: the fresh checkpoint survives pruning even though its step is lower.
        Path resumed = save(50, "resumed");
        assertTrue(Files.isDirectory(resumed));
        assertEquals(List.of("checkpoint-00000050", "checkpoint-100000000"), names(run));
    }

    @Test
    void aCrashedStagingIsIgnoredAndCleanedUp() throws IOException {
        Path good = save(100, "good");
        // What a writer killed mid-checkpoint leaves behind: a staging directory with partial files.
        Path crashed = Files.createDirectories(run.resolve(".checkpoint-00000200.tmp"));
        Files.writeString(crashed.resolve("model.bin"), "half");
        // A checkpoint-named directory without a manifest (e.g. a partial copy) is not complete either.
        Path partialCopy = Files.createDirectories(run.resolve("checkpoint-00000300"));
        Files.writeString(partialCopy.resolve("model.bin"), "half");

        assertEquals(Optional.of(good), CheckpointStore.latest(run));
        assertFalse(Files.exists(crashed), "stale staging directory must be deleted");
        assertTrue(Files.exists(partialCopy), "only staging directories are deleted");
        assertEquals(List.of(good), CheckpointStore.list(run));
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.resolve(partialCopy)).getMessage(),
                "incomplete checkpoint", "no manifest.json");
    }

    @Test
    void aStagingInProgressIsNotTreatedAsStale() throws IOException {
        save(100, "a");
        try (CheckpointStore.Staging s = CheckpointStore.stage(run, 200)) {
            AtomicFiles.writeString(s.path("model.bin"), "b");
            assertEquals(Optional.of(run.resolve("checkpoint-00000100")), CheckpointStore.latest(run));
            assertTrue(Files.exists(s.dir().resolve("model.bin")), "latest() must not delete a live staging");
            assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.stage(run, 300)).getMessage(),
                    "already being staged");
            s.commit();
        }
        assertEquals(Optional.of(run.resolve("checkpoint-00000200")), CheckpointStore.latest(run));
    }

    @Test
    void closingWithoutCommitDiscardsTheStaging() throws IOException {
        Path staged;
        try (CheckpointStore.Staging s = CheckpointStore.stage(run, 7)) {
            staged = s.dir();
            AtomicFiles.writeString(s.path("model.bin"), "abandoned");
        }
        assertFalse(Files.exists(staged));
        assertEquals(List.of(), names(run));
        // The lock is released: the same step can be staged again.
        try (CheckpointStore.Staging again = CheckpointStore.stage(run, 7)) {
            AtomicFiles.writeString(again.path("model.bin"), "kept");
            again.commit();
        }
        CheckpointStore.verify(run.resolve("checkpoint-00000007"));
    }

    @Test
    void checkpointsAreNeverOverwrittenAndNamesStayInside() {
        save(10, "a");
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.stage(run, 10)).getMessage(),
                "already has a checkpoint for step 10", "never overwritten");
        try (CheckpointStore.Staging s = CheckpointStore.stage(run, 11)) {
            for (String bad : List.of("../escape.bin", "/abs.bin", "manifest.json", "a/../../x", "", " ")) {
                assertMentions(assertThrows(DiffusionException.class, () -> s.path(bad), bad).getMessage(),
                        "cannot be a checkpoint file name");
            }
            assertEquals(s.dir().resolve("sub/ok.bin"), s.path("sub/./ok.bin"));
        }
        assertThrows(DiffusionException.class, () -> CheckpointStore.stage(run, -1));
    }

    @Test
    void tensorsAndJsonWrittenThroughTheStagingLoadBack() {
        Path done;
        try (Scope scope = Scope.open(); CheckpointStore.Staging s = CheckpointStore.stage(run, 3)) {
            s.writeTensors("model.safetensors", Map.of("w", Tensor.of(new float[] {1, 2, 3}, 3)), Map.of("step", "3"));
            s.writeJson("config.json", Map.of("hidden", 64));
            done = s.commit();
        }
        CheckpointStore.verify(done);
        assertEquals(64, Json.read(done.resolve("config.json")).get("hidden").asInt());
        try (Scope scope = Scope.open(); SafetensorsFile f = Safetensors.open(done.resolve("model.safetensors"))) {
            assertArrayEquals(new float[] {1, 2, 3}, f.read("w").toFloatArray());
            assertEquals("3", f.metadata().get("step"));
        }
    }

    @Test
    void verifyNamesTruncatedCorruptAndMissingFiles() throws IOException {
        Path done = save(5, "0123456789");
        Path model = done.resolve("model.bin");
        CheckpointStore.verify(done);

        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE)) {
            ch.truncate(4);
        }
        assertEquals(model + " is truncated: the manifest says 10 bytes but the file has 4; "
                        + "the checkpoint is damaged — use an earlier checkpoint or save it again",
                assertThrows(DiffusionException.class, () -> CheckpointStore.verify(done)).getMessage());

        Files.writeString(model, "0123456780"); // same size, one byte changed
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.verify(done)).getMessage(),
                model.toString(), "is corrupt", "SHA-256 does not match");

        Files.writeString(model, "0123456789 and more");
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.verify(done)).getMessage(),
                model.toString(), "is corrupt", "says 10 bytes but the file has 19");

        Files.delete(model);
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.verify(done)).getMessage(),
                model.toString(), "is missing");

        Files.delete(done.resolve("manifest.json"));
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.verify(done)).getMessage(),
                done.toString(), "has no manifest.json");
    }

    @Test
    void verifyRejectsForeignOrNewerManifests() throws IOException {
        Path done = save(5, "x");
        Path manifest = done.resolve("manifest.json");
        String text = Files.readString(manifest);
        Files.writeString(manifest, text.replace("\"format_version\" : 1", "\"format_version\" : 99"));
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.verify(done)).getMessage(),
                "newer diffusion4j", "format 99", "upgrade");
        Files.writeString(manifest, text.replace("\"model.bin\"", "\"../../outside.bin\""));
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.verify(done)).getMessage(),
                "invalid entry for '../../outside.bin'");
        Files.writeString(manifest, "{\"hello\": 1}");
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.verify(done)).getMessage(),
                "not a diffusion4j checkpoint manifest");
    }

    @Test
    void resolveAcceptsRunOrCheckpointDirectories(@TempDir Path other) throws IOException {
        save(1, "a");
        Path newest = save(2, "b");
        assertEquals(newest, CheckpointStore.resolve(run));
        Path older = run.resolve("checkpoint-00000001");
        assertEquals(older, CheckpointStore.resolve(older));

        Path empty = Files.createDirectory(other.resolve("empty"));
        assertEquals(empty + " holds no checkpoint: train a model into it first",
                assertThrows(DiffusionException.class, () -> CheckpointStore.resolve(empty)).getMessage());
        Path missing = other.resolve("missing");
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.resolve(missing)).getMessage(),
                missing.toString(), "does not exist");
        Path file = Files.writeString(other.resolve("model.bin"), "x");
        assertMentions(assertThrows(DiffusionException.class, () -> CheckpointStore.resolve(file)).getMessage(),
                "is a file, not a checkpoint");
    }
}
