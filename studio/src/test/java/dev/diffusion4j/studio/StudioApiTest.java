package dev.diffusion4j.studio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.eval.SampleMetrics;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON API against closed forms: the schedule, the oracle's field and samples, training, generation, limits. */
class StudioApiTest {
    @TempDir
    static Path root;
    static StudioFixture s;

    @BeforeAll
    static void start() {
        s = new StudioFixture(root, 16);
        s.trainTinyImageModel();
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    static float[] floats(JsonNode array) {
        float[] f = new float[array.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) array.get(i).asDouble();
        }
        return f;
    }

    /** Energy distance between interleaved points and fresh 8-Gaussian data. */
    static double energyToEightGaussians(float[] xy) {
        try (Scope sc = Scope.open()) {
            int n = xy.length / 2;
            return SampleMetrics.energyDistance(Tensor.of(xy, n, 2), Toy2D.EIGHT_GAUSSIANS.sample(new Generator(99), n));
        }
    }

    @Test
    void catalogueListsDatasetsSchedulesSamplersAndModels() {
        JsonNode datasets = s.get("api/datasets").json();
        boolean oracle = false;
        for (JsonNode d : datasets) {
            oracle |= d.get("name").asText().equals("8gaussians") && d.get("oracle").asBoolean();
        }
        assertTrue(oracle, datasets.toString());
        assertTrue(s.get("api/schedules").body().contains("\"squaredcos_cap_v2\""));
        assertTrue(s.get("api/samplers").body().contains("\"dpmpp_2m\""));
        JsonNode models = s.get("api/models").json();
        assertEquals(1, models.size(), models.toString());
        JsonNode m = models.get(0);
        assertEquals("image", m.get("kind").asText());
        assertEquals(10, m.get("classes").size(), "the null label is not a class");
        assertEquals("Sneaker", m.get("classes").get(7).asText());
    }

    @Test
    void forwardGivesTheScheduleAndTheIngredientsOfXt() {
        JsonNode f = s.get("api/forward?dataset=8gaussians&schedule=squaredcos_cap_v2&timesteps=500&n=2000&seed=3").json();
        double[] expected = NoiseSchedule.of(BetaSchedule.COSINE, 500).alphasCumprod();
        JsonNode ab = f.get("alphaBar");
        assertEquals(500, ab.size());
        for (int t = 0; t < 500; t += 37) {
            assertEquals(expected[t], ab.get(t).asDouble(), 1e-6);
        }
        float[] x0 = floats(f.get("x0"));
        float[] eps = floats(f.get("noise"));
        assertEquals(4000, x0.length);
        assertEquals(2.0, StudioFixture.meanRadius(x0), 0.05, "8 Gaussians sit on the circle of radius 2");
        assertEquals(1.0, StudioFixture.std(eps), 0.05, "ε is standard normal");
    }

    @Test
    void fieldOfTheOracleMatchesTweedieInBothLimits() {
        // Very noisy: the posterior mean is the data mean 0, so √ᾱ·x̂₀ − x_t ≈ −x_t.
        JsonNode noisy = s.get("api/field?model=oracle&dataset=8gaussians&alphaBar=0.0001&grid=8&bounds=-3,3,-3,3").json();
        float[] p = floats(noisy.get("positions"));
        float[] v = floats(noisy.get("vectors"));
        assertEquals(128, p.length);
        for (int i = 0; i < p.length; i++) {
            assertEquals(-p[i], v[i], 0.02 + 0.01 * Math.abs(p[i]), "component " + i);
        }
        // Near one mode μ (std s = 0.2, the others far): x̂₀ = μ + s²/(s² + σ²)·(x_t/√ᾱ − μ) with σ² = (1 − ᾱ)/ᾱ, so the
        // displacement is σ²/(s² + σ²)·(√ᾱ·μ − x_t).
        double a = 0.96;
        double m = 2 * Math.sqrt(a);
        double sigma2 = (1 - a) / a;
        double shrink = sigma2 / (0.04 + sigma2);
        JsonNode clean = s.get("api/field?model=oracle&dataset=8gaussians&alphaBar=" + a + "&grid=2&bounds="
                + (m - 0.2) + "," + (m + 0.2) + ",-0.2,0.2").json();
        float[] cp = floats(clean.get("positions"));
        float[] cv = floats(clean.get("vectors"));
        for (int i = 0; i < cp.length; i += 2) {
            assertEquals(shrink * (m - cp[i]), cv[i], 0.002, "x of arrow " + i / 2);
            assertEquals(shrink * -cp[i + 1], cv[i + 1], 0.002, "y of arrow " + i / 2);
        }
    }

    @Test
    void reverseJobWithTheOracleEndsOnTheData() {
        String id = s.submit("{\"kind\":\"reverse\",\"model\":\"oracle\",\"dataset\":\"8gaussians\",\"sampler\":\"ddim\",\"steps\":50,"
                + "\"n\":2000,\"seed\":1}");
        JsonNode r = s.await(id, Duration.ofMinutes(1));
        assertEquals("done", r.get("state").asText(), r.toString());
        JsonNode frames = r.get("result").get("frames");
        assertEquals(51, frames.size(), "the noise and every step");
        assertEquals(50, r.get("result").get("nfe").asInt());
        float[] first = floats(frames.get(0).get("points"));
        float[] last = floats(frames.get(50).get("points"));
        assertEquals(1.0, StudioFixture.std(first), 0.05, "the reverse process starts from pure noise");
        assertEquals(0, frames.get(50).get("t").asInt());
        double e = energyToEightGaussians(last);
        assertTrue(e < 0.01, "energy distance " + e);
        long previous = Long.MAX_VALUE;
        for (JsonNode f : frames) {
            assertTrue(f.get("t").asLong() <= previous);
            previous = f.get("t").asLong();
        }
        // the event stream replays the whole story and ends with the result
        String events = s.get("api/jobs/" + id + "/events").body();
        assertTrue(events.contains("event: progress\ndata: {\"step\":50,\"total\":50}"), events.substring(0, 200));
        assertTrue(events.strip().startsWith("event: progress") && events.contains("event: done\ndata: {\"result\":{\"frames\""));
    }

    @Test
    void labRunsTheSameNoiseThroughEachSampler() {
        String id = s.submit("{\"kind\":\"lab\",\"model\":\"oracle\",\"dataset\":\"8gaussians\",\"samplers\":[\"ddim\",\"heun\",\"euler\"],"
                + "\"steps\":12,\"n\":1500}");
        JsonNode r = s.await(id, Duration.ofMinutes(1)).get("result");
        JsonNode results = r.get("results");
        assertEquals(3, results.size());
        assertEquals(12, results.get(0).get("nfe").asInt());
        assertEquals(23, results.get(1).get("nfe").asInt(), "heun: two evaluations per step but the last");
        double floor = r.get("floor").asDouble();
        for (JsonNode x : results) {
            double e = x.get("energy").asDouble();
            assertTrue(e > 0 && e < 10 * floor + 0.01, x.get("sampler") + " energy " + e + ", floor " + floor);
        }
        assertEquals(3000, r.get("reference").size());
    }

    @Test
    void trainingStreamsLossAndSnapshotsStopsWithACheckpointAndResumes() throws Exception {
        String id = s.submit("{\"kind\":\"train\",\"dataset\":\"8gaussians\",\"steps\":1500,\"snapshotEvery\":100,\"name\":\"live\"}");
        long end = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (s.get("api/jobs/" + id).json().get("progress").get("step").asLong() < 300 && System.nanoTime() < end) {
            StudioFixture.sleep(20);
        }
        StudioFixture.Response busy = s.post("api/jobs", "{\"kind\":\"train\",\"dataset\":\"moons\"}");
        assertEquals(409, busy.status(), busy.body());
        // a checkpoint on demand, while training goes on
        assertEquals(202, s.post("api/jobs/" + id + "/checkpoint", "").status());
        end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (CheckpointStore.latest(s.models.resolve("live")).isEmpty() && System.nanoTime() < end) {
            StudioFixture.sleep(5);
        }
        long saved = CheckpointStore.step(CheckpointStore.latest(s.models.resolve("live")).orElseThrow());
        assertTrue(saved >= 300 && saved < 1500, "checkpoint at step " + saved);
        assertEquals(200, s.post("api/jobs/" + id + "/cancel", "").status());
        JsonNode stopped = s.await(id, Duration.ofMinutes(1));
        assertEquals("cancelled", stopped.get("state").asText(), stopped.toString());
        long at = stopped.get("result").get("step").asLong();
        assertTrue(at >= 300 && at < 1500, "stopped at " + at);
        assertEquals(at, CheckpointStore.step(CheckpointStore.latest(s.models.resolve("live")).orElseThrow()));

        String again = s.submit("{\"kind\":\"train\",\"resume\":\"live\",\"snapshotEvery\":100}");
        JsonNode done = s.await(again, Duration.ofMinutes(2));
        assertEquals("done", done.get("state").asText(), done.toString());
        assertEquals(1500, done.get("result").get("step").asLong());

        List<float[]> snapshots = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        for (String job : List.of(id, again)) {
            for (String block : s.get("api/jobs/" + job + "/events").body().split("\n\n")) {
                String data = block.substring(block.indexOf("data: ") + 6);
                if (block.startsWith("event: snapshot")) {
                    snapshots.add(floats(parse(data).get("points")));
                } else if (block.startsWith("event: progress")) {
                    losses.add(parse(data).get("loss").asDouble());
                }
            }
        }
        assertEquals(15, snapshots.size(), "every 100 steps, before and after the stop");
        double firstE = energyToEightGaussians(snapshots.get(0));
        double lastE = energyToEightGaussians(snapshots.get(snapshots.size() - 1));
        assertTrue(lastE < 0.5 * firstE && lastE < 0.05, "snapshots improve: " + firstE + " -> " + lastE);
        double early = losses.subList(0, 20).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double late = losses.subList(losses.size() - 20, losses.size()).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertTrue(late < early, "loss falls: " + early + " -> " + late);
        assertTrue(s.get("api/models").body().contains("\"name\":\"live\""));
    }

    @Test
    void generateStreamsPreviewsAndWritesAPngWithItsParameters() throws Exception {
        // keep the worker busy so that the generation's stream is followed from its start
        String busy = s.submit("{\"kind\":\"reverse\",\"dataset\":\"8gaussians\",\"sampler\":\"heun\",\"steps\":200,\"n\":5000}");
        String id = s.submit("{\"kind\":\"generate\",\"model\":\"" + StudioFixture.IMAGE_MODEL + "\",\"sampler\":\"ddim\",\"steps\":6,"
                + "\"num\":4,\"seed\":5,\"class\":\"sneaker\",\"guidance\":2,\"previewEvery\":2}");
        var live = s.events(id);
        assertEquals("queued", s.get("api/jobs/" + id).json().get("state").asText(), "behind " + busy);
        JsonNode r = s.await(id, Duration.ofMinutes(1));
        assertEquals("done", r.get("state").asText(), r.toString());
        String events = live.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(3, events.split("event: preview").length - 1, "a preview every 2 of 6 steps, live");
        assertTrue(events.contains("\"image\":\"data:image/png;base64,"));
        String replay = s.get("api/jobs/" + id + "/events").body();
        assertEquals(1, replay.split("event: preview").length - 1, "once done, only the newest preview is replayed");
        String preview = replay.substring(replay.indexOf("event: preview"));
        assertTrue(preview.substring(0, preview.indexOf("\n\n")).contains("\"step\":6,"), "the newest preview is the last step's");
        String file = r.get("result").get("file").asText();
        StudioFixture.Response png = s.get("api/gallery/" + file);
        assertEquals(200, png.status());
        Path saved = root.resolve("out/gallery/" + file);
        Map<String, String> meta = PngWriter.readText(saved);
        assertEquals("Sneaker", meta.get("class"), "the class as the data names it");
        assertEquals("ddim", meta.get("sampler"));
        assertEquals("5", meta.get("seed"));
        assertEquals("2.0", meta.get("guidance"));
        assertEquals("6", meta.get("steps"));
        // one path: the answer, the PNG and the library's own metadata for the same request agree
        Map<String, String> answered = new java.util.LinkedHashMap<>();
        r.get("result").get("parameters").fields().forEachRemaining(e -> answered.put(e.getKey(), e.getValue().asText()));
        Map<String, String> inPng = new java.util.LinkedHashMap<>(meta);
        assertTrue(inPng.remove(dev.diffusion4j.io.GridLayout.KEY) != null, "a grid records its layout");
        assertEquals(inPng, answered);
        Path model = root.resolve("models").resolve(StudioFixture.IMAGE_MODEL);
        Map<String, String> direct;
        try (dev.diffusion4j.tensor.Scope scope = dev.diffusion4j.tensor.Scope.open()) {
            direct = new java.util.LinkedHashMap<>(dev.diffusion4j.pipeline.DiffusionPipeline.load(model).generate(
                    dev.diffusion4j.pipeline.GenerationRequest.builder().model(model.toString()).sampler("ddim").steps(6).count(4).seed(5)
                            .label("sneaker").guidance(2).build()).metadata().asText());
        }
        assertEquals(direct, answered);
        assertTrue(s.get("api/gallery").body().contains(file));
        assertTrue(Files.size(saved) > 500);
        assertEquals(409, s.post("api/jobs/" + id + "/checkpoint", "").status(), "only training jobs write checkpoints");
    }

    @Test
    void aCancelledGenerationStopsAndWritesNothing() throws Exception {
        Path gallery = root.resolve("out/gallery");
        long before = Files.isDirectory(gallery) ? Files.list(gallery).count() : 0;
        String id = s.submit("{\"kind\":\"generate\",\"model\":\"" + StudioFixture.IMAGE_MODEL + "\",\"sampler\":\"euler\",\"steps\":100,"
                + "\"num\":64}");
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (s.get("api/jobs/" + id).json().get("progress").get("step").asLong() < 2 && System.nanoTime() < end) {
            StudioFixture.sleep(5);
        }
        assertEquals(200, s.post("api/jobs/" + id + "/cancel", "").status());
        JsonNode r = s.await(id, Duration.ofSeconds(30));
        assertEquals("cancelled", r.get("state").asText(), r.toString());
        assertTrue(r.get("progress").get("step").asLong() < 100, "stopped early: " + r);
        assertEquals(before, Files.isDirectory(gallery) ? Files.list(gallery).count() : 0, "no grid written");
    }

    @Test
    void badRequestsGetAClearErrorAndAStatus() {
        String m = StudioFixture.IMAGE_MODEL;
        Map<String, Integer> cases = Map.ofEntries(
                Map.entry("{\"kind\":\"generate\",\"model\":\"../models/" + m + "\"}", 400),
                Map.entry("{\"kind\":\"generate\",\"model\":\"..\"}", 400),
                Map.entry("{\"kind\":\"generate\",\"model\":\"absent\"}", 404),
                Map.entry("{\"kind\":\"generate\",\"model\":\"" + m + "\",\"steps\":5000}", 400),
                Map.entry("{\"kind\":\"generate\",\"model\":\"" + m + "\",\"num\":0}", 400),
                Map.entry("{\"kind\":\"generate\",\"model\":\"" + m + "\",\"prompt\":\"a dress\"}", 400),
                Map.entry("{\"kind\":\"generate\",\"model\":\"" + m + "\",\"class\":\"unicorn\"}", 400),
                Map.entry("{\"kind\":\"generate\",\"model\":\"" + m + "\",\"guidance\":3}", 400),
                Map.entry("{\"kind\":\"generate\",\"model\":\"" + m + "\",\"sampler\":\"magic\"}", 400),
                Map.entry("{\"kind\":\"reverse\",\"dataset\":\"moons\"}", 400),
                Map.entry("{\"kind\":\"reverse\",\"model\":\"" + m + "\"}", 400),
                Map.entry("{\"kind\":\"reverse\",\"n\":\"many\"}", 400),
                Map.entry("{\"kind\":\"train\",\"dataset\":\"nowhere\"}", 400),
                Map.entry("{\"kind\":\"train\",\"batchSize\":100000}", 400),
                Map.entry("{\"kind\":\"lab\",\"samplers\":[]}", 400),
                Map.entry("{\"kind\":\"dance\"}", 400),
                Map.entry("{\"kind\":", 400),
                Map.entry("[1,2]", 400));
        for (var c : cases.entrySet()) {
            StudioFixture.Response r = s.post("api/jobs", c.getKey());
            assertEquals(c.getValue(), r.status(), c.getKey() + " -> " + r.body());
            assertTrue(r.json().get("error").asText().length() > 10, r.body());
        }
        assertEquals(400, s.get("api/field?alphaBar=1").status());
        assertEquals(400, s.get("api/field?grid=1000").status());
        assertEquals(400, s.get("api/forward?n=99999").status());
        assertEquals(400, s.get("api/forward?schedule=zigzag").status());
        assertEquals(404, s.get("api/jobs/nope-1").status());
        assertEquals(404, s.get("api/gallery/nothing.png").status());
        assertEquals(404, s.get("api/gallery/..%2F..%2Fmodels%2Fx.png").status(), "an encoded path is not a gallery file");
        assertEquals(400, s.get("api/gallery/.hidden.png").status());
        assertEquals(404, s.get("api/unknown").status());
        assertEquals(404, s.get("../../etc/passwd").status());
        assertEquals(405, s.post("api/datasets", "{}").status());
        assertEquals(200, s.get("").status());
    }

    /** An SSE data line's JSON. */
    private static JsonNode parse(String json) {
        return new StudioFixture.Response(200, json).json();
    }
}
