package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.GifWriter;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.ImageGrid;
import dev.diffusion4j.viz.ImageGrids;
import dev.diffusion4j.viz.ImageTiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What an image model's samples become: a PNG grid, one PNG per sample, a denoising GIF. */
final class ImageOutputs {

    private ImageOutputs() {
    }

    /** Samples [n, c, h, w] in [−1, 1] as a grid PNG with the parameters and the tile layout (see {@link ImageGrids#write}). */
    static void grid(Tensor images, int cols, Path out, Map<String, String> parameters) {
        ImageGrids.write(images, cols, out, parameters);
    }

    /** One PNG per sample, {@code sample-00000.png} onwards, each with the parameters and its index. */
    static void individual(Tensor images, Path dir, Map<String, String> parameters) {
        individual(images, dir, parameters, 0);
    }

    /**
     * One PNG per sample, {@code sample-NNNNN.png} from {@code first} on, each with the parameters and
     * its index within {@code images} (the sample of the recorded request it is).
     */
    static void individual(Tensor images, Path dir, Map<String, String> parameters, int first) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DiffusionException("cannot create image directory " + dir + ": " + e.getMessage());
        }
        List<BufferedImage> list = ImageTiles.fromTensor(images);
        for (int i = 0; i < list.size(); i++) {
            Map<String, String> meta = new LinkedHashMap<>(parameters);
            meta.put("index", Integer.toString(i));
            PngWriter.write(dir.resolve(String.format(Locale.ROOT, "sample-%05d.png", first + i)), list.get(i), meta);
        }
    }

    /** The recorded reverse process: per frame, the noisy images x_t above their denoised estimates x̂₀. */
    static void denoisingAnimation(List<SamplingProgress.Frame> frames, Path gif) {
        if (frames.isEmpty()) {
            throw new DiffusionException("no frames were recorded for the animation");
        }
        List<BufferedImage> out = new ArrayList<>();
        for (SamplingProgress.Frame f : frames) {
            List<BufferedImage> row = ImageGrids.enlarged(ImageTiles.fromTensor(f.images()));
            List<BufferedImage> all = new ArrayList<>(row);
            all.addAll(ImageGrids.enlarged(ImageTiles.fromTensor(f.denoised())));
            out.add(ImageGrid.builder().addAll(all).columns(row.size()).padding(4)
                    .title(f.caption() + "   (top: x_t, bottom: x̂₀)").render());
        }
        GifWriter.write(gif, out, 90, 2500);
    }
}
