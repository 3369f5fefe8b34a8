package dev.diffusion4j.studio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.model.UNet2DConfig;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** A running studio over a models folder with a tiny class-conditional image model, and HTTP helpers. */
final class StudioFixture implements AutoCloseable {
    static final String IMAGE_MODEL = "tiny-fm";
    final Studio studio;
    final Path models;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    record Response(int status, String body) {
        JsonNode json() {
            try {
                return Json.mapper().readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    StudioFixture(Path root, int queue) {
        this.models = root.resolve("models");
        this.studio = Studio.start(new Studio.Options("127.0.0.1", 0, models, root.resolve("out"), 1, queue));
    }

    /** Trains a 16 px class-conditional U-Net for a few steps into the models folder: enough to exercise generation. */
    void trainTinyImageModel() {
        UNet2DConfig arch = UNet2DConfig.defaults(1, 16).withBlockOutChannels(16, 32).withClassEmbeddings(11);
        TrainingRecipe cfg = TrainingRecipe.forImages("fashion-mnist-test").lr(1e-3).batchSize(4).steps(4).checkpointEvery(4)
                .imageSize(16).channels(1).flip(false).sampleEvery(0).build();
        Trainer.create(models.resolve(IMAGE_MODEL), cfg, arch, NoiseSchedule.of(BetaSchedule.LINEAR, 100)).run(TrainListener.NONE);
    }

    Response get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    Response post(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** The event stream of job {@code id}, read to its end in the background. */
    java.util.concurrent.CompletableFuture<String> events(String id) {
        return http.sendAsync(HttpRequest.newBuilder(uri("api/jobs/" + id + "/events")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).thenApply(HttpResponse::body);
    }

    private URI uri(String path) {
        return URI.create(studio.url() + path.replaceFirst("^/", ""));
    }

    private Response send(HttpRequest.Builder b) {
        try {
            HttpResponse<String> r = http.send(b.timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Submits a job and returns its id. */
    String submit(String json) {
        Response r = post("api/jobs", json);
        assertEquals(202, r.status(), r.body());
        return r.json().get("id").asText();
    }

    /** Polls a job until it has finished; its final status. */
    JsonNode await(String id, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            JsonNode s = get("api/jobs/" + id).json();
            String state = s.get("state").asText();
            if (state.equals("done") || state.equals("failed") || state.equals("cancelled")) {
                return s;
            }
            sleep(20);
        }
        fail("job " + id + " did not finish within " + timeout);
        return null;
    }

    /** The standard deviation of all coordinates of interleaved points. */
    static double std(float[] xy) {
        double sum = 0;
        double sq = 0;
        for (float v : xy) {
            sum += v;
            sq += v * v;
        }
        double mean = sum / xy.length;
        return Math.sqrt(sq / xy.length - mean * mean);
    }

    /** The mean distance of interleaved points from the origin. */
    static double meanRadius(float[] xy) {
        double r = 0;
        for (int i = 0; i < xy.length; i += 2) {
            r += Math.hypot(xy[i], xy[i + 1]);
        }
        return r / (xy.length / 2);
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        studio.close();
    }
}
