package dev.diffusion4j.cli;

import static dev.diffusion4j.cli.CliTest.diffuse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.io.PngWriter;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code diffuse sample} and {@code diffuse info} on a Stable Diffusion pipeline folder saved by
 * diffusers (the tiny random one core's golden tests read): prompts, negative prompts and clip skip
 * go in, a PNG with the run's parameters comes out, and {@code --from} makes the same image again.
 */
class StableDiffusionCliTest {
    private static final String FOLDER = Path.of("..", "core", "src", "test", "resources", "golden", "sd_pipeline").toString();

    @Test
    void generatesFromAPipelineFolderAndAgainFromItsPng(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("cube.png");
        CliTest.Run r = diffuse("sample", "--model", FOLDER, "--prompt", "a red cube on a table", "--negative", "blurry",
                "--clip-skip", "1", "--guidance", "7.5", "--size", "16x16", "--sampler", "euler", "--steps", "3", "--seed", "42",
                "--num", "2", "--out", png.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, String> meta = PngWriter.readText(png);
        assertEquals("a red cube on a table", meta.get("prompt"));
        assertEquals("blurry", meta.get("negative"));
        assertEquals("1", meta.get("clip_skip"));
        assertEquals("sd_pipeline", meta.get("model"));
        assertEquals(16, meta.get("model_hash").length());
        assertEquals("16x16", meta.get("size"));

        Path again = dir.resolve("again.png");
        assertEquals(0, diffuse("sample", "--model", FOLDER, "--from", png.toString(), "--out", again.toString()).code());
        assertArrayEquals(pixels(ImageIO.read(png.toFile())), pixels(ImageIO.read(again.toFile())), "the same run, the same image");

        // a web UI's PNG carries only its parameters text: it makes the same image too
        assertTrue(meta.get("parameters").contains("Sampler: Euler") && meta.get("parameters").contains("Clip skip: 2"), meta.get("parameters"));
        Path webui = dir.resolve("webui.png");
        PngWriter.write(webui, ImageIO.read(png.toFile()), Map.of("parameters", meta.get("parameters")));
        Path third = dir.resolve("third.png");
        CliTest.Run fromWebUi = diffuse("sample", "--model", FOLDER, "--from-png", webui.toString(), "--num", "2", "--out", third.toString());
        assertEquals(0, fromWebUi.code(), fromWebUi.err());
        assertArrayEquals(pixels(ImageIO.read(png.toFile())), pixels(ImageIO.read(third.toFile())), "the web UI's parameters, the same image");
    }

    @Test
    void infoDescribesTheFolderAndBadRequestsAreOneLine(@TempDir Path dir) {
        String unused = dir.resolve("unused.png").toString();
        CliTest.Run info = diffuse("info", FOLDER);
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("StableDiffusionPipeline") && info.out().contains("16x16"), info.out());
        CliTest.assertUserError(diffuse("sample", "--model", FOLDER, "--prompt", "a cube", "--clip-skip", "3", "--size", "16x16",
                "--steps", "1", "--out", unused), "clip_skip 3 skips every layer");
        CliTest.assertUserError(diffuse("sample", "--model", FOLDER, "--prompt", "a cube", "--size", "14x14", "--steps", "1",
                "--out", unused), "multiples of 4");
    }

    /** --lora merges LoRA files for the run (repeatable, with multipliers) and the PNG records them. */
    @Test
    void loraFilesAreMergedForTheRun(@TempDir Path dir) throws Exception {
        Path lora = Path.of("..", "core", "src", "test", "resources", "golden", "lora");
        Path png = dir.resolve("lora.png");
        CliTest.Run r = diffuse("sample", "--model", FOLDER, "--prompt", "a red cube", "--size", "16x16", "--steps", "2", "--seed", "1",
                "--lora", lora.resolve("kohya_unet_te.safetensors") + ":0.8", "--lora", lora.resolve("diffusers_unet.safetensors").toString(),
                "--out", png.toString());
        assertEquals(0, r.code(), r.err());
        String recorded = PngWriter.readText(png).get("lora");
        assertTrue(recorded.contains("kohya_unet_te.safetensors:0.8") && recorded.contains("diffusers_unet.safetensors:1.0"), recorded);
        CliTest.assertUserError(diffuse("sample", "--model", FOLDER, "--prompt", "a red cube", "--size", "16x16", "--steps", "1",
                "--lora", FOLDER + "/unet/diffusion_pytorch_model.safetensors", "--out", dir.resolve("x.png").toString()), "LoRA key");
    }

    /** A pickled checkpoint is refused in one line before anything is read from it. */
    @Test
    void aPickledCheckpointIsRefused(@TempDir Path dir) throws Exception {
        Path ckpt = java.nio.file.Files.writeString(dir.resolve("model.ckpt"), "not read");
        CliTest.assertUserError(diffuse("info", ckpt.toString()), "pickle");
        CliTest.assertUserError(diffuse("sample", "--model", ckpt.toString(), "--prompt", "a cube", "--out", dir.resolve("x.png").toString()),
                "only .safetensors checkpoints are read");
    }

    private static int[] pixels(BufferedImage image) {
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }
}
