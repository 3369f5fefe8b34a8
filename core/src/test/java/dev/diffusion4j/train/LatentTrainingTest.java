package dev.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.model.TextEncoderConfig;
import dev.diffusion4j.model.TextUNet2DConfig;
import dev.diffusion4j.model.UNet2DConfig;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.models.vae.AutoencoderKLConfig;
import dev.diffusion4j.models.vae.AutoencoderSource;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Latent diffusion end to end: images encoded once, a text model of their latents, checkpoints that decode. */
class LatentTrainingTest {
    private static final String D = AutoencoderKLConfig.DOWN;
    private static final String U = AutoencoderKLConfig.UP;

    /** RGB 16×16 → 8×8×4 latents (factor 2). */
    private static AutoencoderKL autoencoder(long seed, double scaling) {
        return new AutoencoderKL(new AutoencoderKLConfig(3, 3, List.of(D, D), List.of(U, U), List.of(8, 16), 1, Activation.SILU, 4, 4, 16,
                scaling, null, true, true, false), new Generator(seed));
    }

    /** Eight captioned squares, red or blue; a folder flips by default, so mirror images are encoded too. */
    private static Path squares(Path dir) throws Exception {
        Path folder = dir.resolve("squares");
        Files.createDirectories(folder);
        StringBuilder metadata = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setColor(i % 2 == 0 ? Color.RED : Color.BLUE);
            g.fillRect(1 + i % 4, 3, 8, 8);
            g.dispose();
            ImageIO.write(img, "png", folder.resolve("s" + i + ".png").toFile());
            metadata.append("{\"file_name\": \"s").append(i).append(".png\", \"text\": \"a ").append(i % 2 == 0 ? "red" : "blue")
                    .append(" square\"}\n");
        }
        Files.writeString(folder.resolve("metadata.jsonl"), metadata);
        return folder;
    }

    @Test
    void aTextModelOfLatentsResumesExactlyAndItsCheckpointsDecodeToImages(@TempDir Path dir) throws Exception {
        Path folder = squares(dir);
        Path vaeDir = dir.resolve("vae-run");
        autoencoder(1, 0.5).save(vaeDir.resolve("vae"));
        TextUNet2DConfig net = new TextUNet2DConfig(UNet2DConfig.defaults(4, 8).withBlockOutChannels(16, 32).withCrossAttention(16),
                new TextEncoderConfig(ClipTokenizer.VOCAB_SIZE, 8, 16, 1, 4));
        TrainingRecipe recipe = TrainingRecipe.forImages(folder.toString()).seed(3).steps(6).batchSize(4).warmupSteps(1)
                .checkpointEvery(3).sampleEvery(0).condDropout(0.2).precision(Precision.FP32).latent(vaeDir.toString()).build();
        Trainer.create(dir.resolve("straight"), recipe, net, TrainerTest.SCHEDULE).run(TrainListener.NONE);
        Trainer first = Trainer.create(dir.resolve("stopped"), recipe, net, TrainerTest.SCHEDULE);
        first.run(new TrainListener() {
            @Override
            public boolean stopRequested() {
                return first.step() == 3;
            }
        });
        assertArrayEquals(Files.readAllBytes(dir.resolve("straight").resolve(LatentImages.CACHE_FILE)),
                Files.readAllBytes(dir.resolve("stopped").resolve(LatentImages.CACHE_FILE)), "the two runs encode the same latents");
        Trainer.resume(dir.resolve("stopped"), 0).run(TrainListener.NONE);
        TrainerTest.assertSameWeights(dir.resolve("straight"), dir.resolve("stopped"), Checkpoint.MODEL_FILE);
        TrainerTest.assertSameWeights(dir.resolve("straight"), dir.resolve("stopped"), Checkpoint.AUTOENCODER_FILE);
        assertTrue(Files.isRegularFile(dir.resolve("straight").resolve(LatentImages.CACHE_FILE)));

        Path ckpt = CheckpointStore.latest(dir.resolve("straight")).orElseThrow();
        ModelSpec spec = ModelSpec.fromConfig(Checkpoint.readConfig(ckpt));
        assertNotNull(spec.latent());
        assertArrayEquals(new long[] {4, 8, 8}, spec.sampleShape());
        assertArrayEquals(new long[] {3, 16, 16}, spec.outputShape());
        assertEquals(AutoencoderSource.sha256(vaeDir.resolve("vae")), spec.latent().sha256());
        assertEquals(null, spec.sampleRange(), "latents have no box to clip x̂₀ to");

        try (Scope s = Scope.open()) {
            DiffusionPipeline pipe = DiffusionPipeline.load(dir.resolve("straight"));
            GenerationRequest request = GenerationRequest.builder().prompt("a red square").guidance(2).sampler("ddim").steps(3).count(3)
                    .seed(9).build();
            Tensor images = pipe.generate(request).samples();
            assertArrayEquals(new long[] {3, 3, 16, 16}, images.shape());
            assertTrue(images.abs().amax().item() <= 1, "decoded images lie in [−1, 1]");
            // the in-memory pipeline of previews reads the autoencoder from its folder and decodes the same
            Map<String, Tensor> ema = Checkpoint.open(ckpt).weights(Checkpoint.EMA_FILE);
            Tensor again = DiffusionPipeline.of("preview", spec, ema).generate(request).samples();
            assertTrue(images.equal(again), "a checkpoint and the weights in memory decode the same images");
            // a size is asked for in pixels; the network sees it shrunk by the autoencoder's factor
            GenerationRequest larger = GenerationRequest.builder().prompt("a blue square").sampler("ddim").steps(2).count(1).size(32, 32)
                    .build();
            assertArrayEquals(new long[] {1, 3, 32, 32}, pipe.generate(larger).samples().shape());
            assertEquals("16x16", pipe.generate(request).metadata().asMap().get("size"));
            Tensor preview = pipe.preview(Tensor.randn(new Generator(2), 2, 4, 8, 8));
            assertArrayEquals(new long[] {2, 3, 8, 8}, preview.shape());

            // another autoencoder in the folder the model names: refused, nothing decoded with it
            autoencoder(2, 0.5).save(vaeDir.resolve("vae"));
            DiffusionException wrong = assertThrows(DiffusionException.class, () -> DiffusionPipeline.of("preview", spec, ema));
            assertTrue(wrong.getMessage().contains("point it at the autoencoder it was trained with"), wrong.getMessage());
        }
    }

    /**
     * Latents are the autoencoder's posterior draws times its scaling factor: the same generator state
     * draws the same latents, halving the scaling factor halves them exactly, and the second opening
     * reads the cache instead of encoding again.
     */
    @Test
    void latentsAreScaledPosteriorDrawsCachedOnce(@TempDir Path dir) throws Exception {
        ImageDataset images = ImageDatasets.open(squares(dir), new ImageOptions(null, null, false));
        Path cache = dir.resolve(LatentImages.CACHE_FILE);
        try (Scope s = Scope.open()) {
            LatentImages one = LatentImages.encode(images, autoencoder(1, 1.0), "sha-a", cache);
            long written = Files.getLastModifiedTime(cache).toMillis();
            LatentImages half = LatentImages.encode(images, autoencoder(1, 0.5), "sha-a", cache);
            assertEquals(written, Files.getLastModifiedTime(cache).toMillis(), "the cache is read, not written again");
            Tensor a = one.sample(new Generator(4), 16);
            Tensor b = half.sample(new Generator(4), 16);
            assertTrue(b.equal(a.mul(0.5)), "latents scale with the scaling factor");
            assertTrue(a.equal(one.sample(new Generator(4), 16)));
            assertTrue(a.flatten(0, -1).std(0, false).item() > 0);
            // another autoencoder's hash: encoded again, and its latents differ
            LatentImages other = LatentImages.encode(images, autoencoder(2, 1.0), "sha-b", cache);
            assertTrue(other.sample(new Generator(4), 16).sub(a).abs().amax().item() > 1e-3);
        }
    }

    /** Labelled images without captions get class-name captions whose tone words describe the pixels, not the latents. */
    @Test
    void classCaptionsOfLatentsDescribeTheImages(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("tones");
        for (String cls : new String[] {"boot", "shirt"}) {
            Files.createDirectories(folder.resolve(cls));
            for (int i = 0; i < 6; i++) {
                BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = img.createGraphics();
                g.setColor(cls.equals("boot") ? new Color(60, 60, 60) : new Color(235, 235, 235));
                g.fillRect(2 + i, 2, 9, 9);
                g.dispose();
                ImageIO.write(img, "png", folder.resolve(cls + "/" + i + ".png").toFile());
            }
        }
        try (Scope s = Scope.open()) {
            ImageDataset images = ImageDatasets.open(folder, new ImageOptions(null, null, false));
            LatentImages latents = LatentImages.encode(images, autoencoder(1, 0.5), "x", dir.resolve(LatentImages.CACHE_FILE));
            assertTrue(latents.hasCaptions());
            ImageDataset.Captioned batch = latents.sampleCaptioned(new Generator(4), 200);
            long[] labels = batch.labels().toLongArray();
            int dark = 0;
            int light = 0;
            for (int i = 0; i < labels.length; i++) {
                String c = batch.captions().get(i);
                String name = labels[i] == 0 ? "boot" : "shirt";
                assertTrue(c.contains(name), c + " names its class " + name);
                if (c.contains("dark")) {
                    assertEquals(0, labels[i], "only the dark boots are called dark: " + c);
                    dark++;
                }
                if (c.contains("light")) {
                    assertEquals(1, labels[i], "only the light shirts are called light: " + c);
                    light++;
                }
            }
            assertTrue(dark > 10 && light > 10, "tone words appear: " + dark + " dark, " + light + " light");
        }
    }
}
