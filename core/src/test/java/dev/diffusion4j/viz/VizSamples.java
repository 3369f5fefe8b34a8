package dev.diffusion4j.viz;

import dev.diffusion4j.io.PngWriter;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Map;

/** Writes pictures to target/viz-samples/ so that a person can look at what the plots produce. */
final class VizSamples {
    static final Path DIR = Path.of("target", "viz-samples");

    private VizSamples() {
    }

    static Path write(String name, BufferedImage image) {
        Path file = DIR.resolve(name + ".png");
        PngWriter.write(file, image, Map.of("Software", "diffusion4j viz tests"));
        return file;
    }
}
