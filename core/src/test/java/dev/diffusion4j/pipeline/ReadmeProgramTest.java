package dev.diffusion4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.data.CsvDataset;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.model.UNet2DConfig;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's Java section opens with a complete program; this compiles it exactly as printed and runs it
 * in a JVM of its own on a 2D run and on an image run, as a user would.
 */
class ReadmeProgramTest {
    @TempDir
    static Path dir;
    static Path program;

    @BeforeAll
    static void compileTheReadmeProgram() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher m = Pattern.compile("## Java API.*?```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(), "README's Java section opens with a java block");
        String source = m.group(1);
        assertTrue(source.contains("public class Generate") && source.contains("public static void main"), "a complete program");
        program = dir.resolve("program");
        Files.createDirectories(program);
        Files.writeString(program.resolve("Generate.java"), source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = javac.run(null, null, err, "-cp", System.getProperty("java.class.path"), "-d", program.toString(),
                program.resolve("Generate.java").toString());
        assertEquals(0, code, "README's program compiles: " + err.toString(StandardCharsets.UTF_8));
    }

    /** Runs the compiled program on {@code run}, writing {@code out}; returns what it printed. */
    private static String run(Path run, Path out) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", program + java.io.File.pathSeparator + System.getProperty("java.class.path"), "Generate", run.toString(), out.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the program finishes");
        assertEquals(0, p.exitValue(), "the program runs: " + output);
        return output;
    }

    @Test
    void writesACsvForATwoDimensionalRun() throws Exception {
        Path run = dir.resolve("moons");
        Trainer.create(run, TrainingRecipe.forVectors("moons").steps(200).build(), MlpConfig.defaults(2),
                NoiseSchedule.of(BetaSchedule.LINEAR, 1000)).run(TrainListener.NONE);
        Path csv = dir.resolve("moons.csv");
        String printed = run(run, csv);
        assertTrue(printed.contains("sampler=dpmpp_2m") && printed.contains("steps=20"), printed);
        try (Scope s = Scope.open()) {
            DataSource samples = CsvDataset.read(csv);
            assertEquals(2, samples.dim());
            assertEquals(64, samples.all().orElseThrow().size(0));
        }
    }

    @Test
    void writesAPngGridForAnImageRun() throws Exception {
        Path run = dir.resolve("images");
        UNet2DConfig arch = UNet2DConfig.defaults(1, 16).withBlockOutChannels(16, 32);
        Trainer.create(run, TrainingRecipe.forImages("fashion-mnist-test").batchSize(4).steps(2).imageSize(16).channels(1).sampleEvery(0)
                .build(), arch, NoiseSchedule.of(BetaSchedule.LINEAR, 100)).run(TrainListener.NONE);
        Path png = dir.resolve("grid.png");
        run(run, png);
        BufferedImage grid = ImageIO.read(png.toFile());
        assertTrue(grid.getWidth() >= 8 * 16 && grid.getHeight() >= 8 * 16, "an 8x8 grid of 16 px images");
        Map<String, String> text = PngWriter.readText(png);
        assertEquals("dpmpp_2m", text.get("sampler"));
        assertEquals("20", text.get("steps"));
        assertEquals("42", text.get("seed"));
        assertEquals("images", text.get("model"));
    }
}
