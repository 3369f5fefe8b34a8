package dev.diffusion4j.cli;

import static dev.diffusion4j.cli.CliTest.diffuse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.tensor.Scope;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code diffuse train-vae}: a short run with the critic switched on, its report and diffusers folder, resume, errors. */
class TrainVaeCliTest {
    private static String[] tiny(Path out, int steps) {
        return new String[] {"train-vae", "--data", "fashion-mnist-test", "--image-size", "16", "--out", out.toString(), "--steps",
                Integer.toString(steps), "--batch-size", "8", "--channels", "8,16", "--norm-groups", "4", "--latent-channels", "2",
                "--perceptual-steps", "10", "--disc-start", "3", "--checkpoint-every", "3", "--eval-data", "fashion-mnist-test",
                "--eval-images", "64", "--precision", "fp32", "--json"};
    }

    @Test
    void trainsReportsExportsAndResumes(@TempDir Path tmp) {
        Path run = tmp.resolve("vae");
        CliTest.Run r = diffuse(tiny(run, 4));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("training the perceptual network"), r.out());
        JsonNode report = r.json();
        JsonNode held = report.get("held_out");
        assertEquals(64, held.get("images").asInt());
        assertEquals(2, held.get("downsampling_factor").asInt());
        for (String k : new String[] {"psnr", "ssim", "rfid", "baseline_psnr", "baseline_ssim", "baseline_rfid"}) {
            assertTrue(Double.isFinite(held.get(k).asDouble()), k + " in " + held);
        }
        assertTrue(held.get("baseline_psnr").asDouble() > 10, "resampling by 2 keeps the garments: " + held);
        for (String f : new String[] {"loss.png", "reconstructions.png", "report.json", "vae/config.json",
                "vae/diffusion_pytorch_model.safetensors", "checkpoint-00000004/discriminator.safetensors"}) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f);
        }
        try (Scope s = Scope.open()) {
            AutoencoderKL vae = AutoencoderKL.load(run.resolve("vae"));
            assertEquals(report.get("scaling_factor").asDouble(), vae.config().scalingFactor(), 1e-12,
                    "the exported folder carries the measured scaling factor");
            assertEquals(2, vae.config().latentChannels());
        }
        CliTest.assertUserError(diffuse("sample", "--model", run.toString(), "--out", tmp.resolve("x.png").toString()),
                "autoencoder run");
        CliTest.Run bench = diffuse("bench-vae", "--vae", run.toString(), "--batch", "2", "--iters", "1", "--precision", "fp32", "--json");
        assertEquals(0, bench.code(), bench.err());
        JsonNode measured = bench.json().get("results").get(0);
        try (Scope s = Scope.open()) {
            assertEquals(AutoencoderKL.load(run.resolve("vae")).parameterCount(), measured.get("parameters").asLong(),
                    "the benchmark builds the run's architecture");
        }
        for (String k : new String[] {"train_images_per_s", "encode_images_per_s", "decode_images_per_s"}) {
            assertTrue(measured.get(k).asDouble() > 0, k + " in " + measured);
        }
        CliTest.Run more = diffuse("train-vae", "--out", run.toString(), "--resume", "--steps", "6", "--eval-data", "none", "--json");
        assertEquals(0, more.code(), more.err());
        assertEquals(6, more.json().get("steps").asInt());
        assertTrue(more.out().contains("resuming"), more.out());
        CliTest.Run changed = diffuse("train-vae", "--out", run.toString(), "--resume", "--steps", "7", "--disc-start", "100",
                "--eval-data", "none", "--json");
        assertEquals(0, changed.code(), changed.err());
        assertTrue(changed.out().contains("changed on resume: disc_start 3 → 100, steps 6 → 7"), changed.out());
        assertEquals(7, changed.json().get("steps").asInt());
        CliTest.assertUserError(diffuse("train-vae", "--out", run.toString(), "--resume", "--channels", "8,32"), "drop --channels");
    }

    @Test
    void badInputIsAOneLineError(@TempDir Path tmp) {
        CliTest.assertUserError(diffuse("train-vae", "--data", "moons", "--out", tmp.resolve("a").toString()), "vector data");
        CliTest.assertUserError(diffuse("train-vae", "--data", "fashion-mnist-test", "--image-size", "18", "--channels", "8,16,16",
                "--norm-groups", "4", "--out", tmp.resolve("b").toString()), "does not divide");
        CliTest.assertUserError(diffuse("train-vae", "--out", tmp.resolve("c").toString(), "--resume"), "nothing to resume");
    }
}
