package dev.diffusion4j.cli;

import static dev.diffusion4j.cli.CliTest.diffuse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.train.LatentImages;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code diffuse train --latent}: a class-conditional model of a tiny autoencoder's latents, sampled
 * back to images; resume checks the autoencoder; bad combinations are one-line errors.
 */
class LatentTrainCliTest {
    /** Two classes of 16 small greyscale pictures each: light squares and dark bars at random places. */
    private static Path pictures(Path dir) throws Exception {
        java.util.Random random = new java.util.Random(7);
        for (String name : new String[] {"bars", "squares"}) {
            Files.createDirectories(dir.resolve(name));
            for (int i = 0; i < 16; i++) {
                BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
                java.awt.Graphics2D g = img.createGraphics();
                g.setColor(name.equals("bars") ? java.awt.Color.WHITE : java.awt.Color.DARK_GRAY);
                g.fillRect(0, 0, 16, 16);
                g.setColor(name.equals("bars") ? java.awt.Color.BLACK : java.awt.Color.LIGHT_GRAY);
                g.fillRect(random.nextInt(8), random.nextInt(8), name.equals("bars") ? 3 : 8, 8);
                g.dispose();
                ImageIO.write(img, "png", dir.resolve(name + "/" + i + ".png").toFile());
            }
        }
        return dir;
    }

    private static Path data;

    private static CliTest.Run trainVae(Path out, String seed) {
        return diffuse("train-vae", "--data", data.toString(), "--out", out.toString(), "--steps", "2",
                "--batch-size", "4", "--channels", "8,16", "--norm-groups", "4", "--latent-channels", "2", "--perceptual-steps", "2",
                "--eval-data", "none", "--precision", "fp32", "--seed", seed);
    }

    private static String[] trainLatent(Path out, Path vae, String... extra) {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("train", "--data", data.toString(), "--latent", vae.toString(), "--conditional", "--channels", "16,32", "--steps", "3", "--batch-size", "4",
                "--timesteps", "100", "--checkpoint-every", "3", "--sample-every", "3", "--out", out.toString()));
        a.addAll(java.util.List.of(extra));
        return a.toArray(new String[0]);
    }

    @Test
    void trainsOnLatentsSamplesImagesAndResumesWithItsOwnAutoencoder(@TempDir Path tmp) throws Exception {
        data = pictures(tmp.resolve("pictures"));
        Path vae = tmp.resolve("vae");
        assertEquals(0, trainVae(vae, "0").code());
        Path run = tmp.resolve("latent");
        CliTest.Run r = diffuse(trainLatent(run, vae, "--json"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("encoding 64 images with the autoencoder, once"), "32 pictures and their mirror images: " + r.out());
        assertEquals(3, r.json().get("steps").asInt());
        Path ckpt = CheckpointStore.latest(run).orElseThrow();
        assertTrue(Files.isRegularFile(ckpt.resolve("autoencoder.safetensors")), "the checkpoint carries its autoencoder");
        assertTrue(Files.isRegularFile(run.resolve(LatentImages.CACHE_FILE)));

        CliTest.Run info = diffuse("info", run.toString());
        assertTrue(info.out().contains("latent:      2x8x8 of the autoencoder from " + vae.resolve("vae").toAbsolutePath().normalize()),
                info.out());

        Path png = tmp.resolve("s.png");
        CliTest.Run s = diffuse("sample", "--model", run.toString(), "--class", "1", "--num", "2", "--steps", "4", "--out", png.toString(),
                "--images", tmp.resolve("one").toString(), "--json");
        assertEquals(0, s.code(), s.err());
        JsonNode m = s.json();
        assertEquals("16x16", m.get("size").asText(), "sizes are the images', not the latents'");
        assertEquals("2x8x8", m.get("latent").asText());
        assertEquals(16, m.get("autoencoder_hash").asText().length());
        BufferedImage img = ImageIO.read(tmp.resolve("one/sample-00001.png").toFile());
        assertEquals(16, img.getWidth(), "a decoded 16x16 image");
        assertEquals(16, img.getHeight());

        // another autoencoder of the same shape is refused on resume; the run's own continues it
        Path other = tmp.resolve("other");
        assertEquals(0, trainVae(other, "1").code());
        CliTest.assertUserError(diffuse("train", "--out", run.toString(), "--resume", "--latent", other.toString(), "--steps", "4"),
                "point it at the autoencoder it was trained with");
        CliTest.Run more = diffuse("train", "--out", run.toString(), "--resume", "--latent", vae.toString(), "--steps", "4", "--json");
        assertEquals(0, more.code(), more.err());
        assertEquals(4, more.json().get("steps").asInt());
        assertTrue(!more.out().contains("encoding"), "the cached latents are read, not encoded again: " + more.out());

        // Stable Diffusion's U-Net (diffusers' UNet2DConditionModel) on the same latents, prompted by the folders' class names
        Path sd = tmp.resolve("sd");
        CliTest.Run t = diffuse("train", "--data", data.toString(), "--latent", vae.toString(), "--text", "--model", "unet2d-condition",
                "--channels", "16,32", "--steps", "2", "--batch-size", "4", "--timesteps", "100", "--sample-every", "100", "--out",
                sd.toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(Files.readString(CheckpointStore.latest(sd).orElseThrow().resolve("config.json")).contains("text_unet_2d_condition"));
        CliTest.Run prompted = diffuse("sample", "--model", sd.toString(), "--prompt", "a photo of bars", "--num", "1", "--steps", "2",
                "--out", tmp.resolve("sd.png").toString(), "--json");
        assertEquals(0, prompted.code(), prompted.err());
        assertEquals("16x16", prompted.json().get("size").asText());
        CliTest.assertUserError(diffuse("train", "--data", data.toString(), "--model", "unet2d-condition", "--out",
                tmp.resolve("u").toString()), "with --text on images");

        // bad combinations
        CliTest.assertUserError(diffuse("train", "--data", "moons", "--latent", vae.toString(), "--out", tmp.resolve("v").toString()),
                "holds vectors");
        CliTest.assertUserError(diffuse(trainLatent(tmp.resolve("n"), tmp)), "neither a train-vae run");
        CliTest.assertUserError(diffuse("train", "--data", data.toString(), "--image-size", "15", "--latent", vae.toString(),
                "--out", tmp.resolve("odd").toString()), "15");
        Path pixels = tmp.resolve("pixels");
        assertEquals(0, diffuse("train", "--data", data.toString(), "--channels", "16,32", "--steps", "1",
                "--batch-size", "2", "--timesteps", "100", "--sample-every", "100", "--out", pixels.toString()).code());
        CliTest.assertUserError(diffuse("train", "--out", pixels.toString(), "--resume", "--latent", vae.toString()),
                "not of an autoencoder's latents");
    }
}
