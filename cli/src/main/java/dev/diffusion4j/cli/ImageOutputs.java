package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.ImageGrids;
import dev.diffusion4j.io.GifWriter;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.ImageGrid;
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
    /** Small images are enlarged to at least this many pixels a side so that a grid is readable. */
    private static final int MIN_TILE = 56;
    private static final int GRID_PADDING = 2;

    private ImageOutputs() {
    }

    /**
     * Samples [n, c, h, w] in [−1, 1] as a grid of {@code cols} columns, with the parameters and the
     * tile layout (so that 'diffuse eval' can cut the samples out again) as PNG text.
     */
    static void grid(Tensor images, int cols, Path out, Map<String, String> parameters) {
        List<BufferedImage> raw = ImageTiles.fromTensor(images);
        List<BufferedImage> tiles = enlarged(raw);
        int columns = Math.min(tiles.size(), cols > 0 ? cols : (int) Math.ceil(Math.sqrt(tiles.size())));
        Map<String, String> text = new LinkedHashMap<>(parameters);
        text.putAll(new ImageGrids.Layout(tiles.size(), columns, raw.get(0).getWidth(), raw.get(0).getHeight(),
                tiles.get(0).getWidth() / raw.get(0).getWidth(), GRID_PADDING).toMetadata());
        PngWriter.write(out, ImageTiles.grid(tiles, columns, GRID_PADDING), text);
    }

    /** One PNG per sample, {@code sample-00000.png} onwards, each with the parameters and its index. */
    static void individual(Tensor images, Path dir, Map<String, String> parameters) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DiffusionException("cannot create image directory " + dir + ": " + e.getMessage());
        }
        List<BufferedImage> list = ImageTiles.fromTensor(images);
        for (int i = 0; i < list.size(); i++) {
            Map<String, String> meta = new LinkedHashMap<>(parameters);
            meta.put("index", Integer.toString(i));
            PngWriter.write(dir.resolve(String.format(Locale.ROOT, "sample-%05d.png", i)), list.get(i), meta);
        }
    }

    /** The recorded reverse process: per frame, the noisy images x_t above their denoised estimates x̂₀. */
    static void denoisingAnimation(List<Generation.Frame> frames, Path gif) {
        if (frames.isEmpty()) {
            throw new DiffusionException("no frames were recorded for the animation");
        }
        List<BufferedImage> out = new ArrayList<>();
        for (Generation.Frame f : frames) {
            List<BufferedImage> row = enlarged(ImageTiles.fromTensor(f.images()));
            List<BufferedImage> all = new ArrayList<>(row);
            all.addAll(enlarged(ImageTiles.fromTensor(f.denoised())));
            out.add(ImageGrid.builder().addAll(all).columns(row.size()).padding(4)
                    .title(f.caption() + "   (top: x_t, bottom: x̂₀)").render());
        }
        GifWriter.write(gif, out, 90, 2500);
    }

    private static List<BufferedImage> enlarged(List<BufferedImage> images) {
        int side = Math.min(images.get(0).getWidth(), images.get(0).getHeight());
        int factor = Math.max(1, (int) Math.ceil((double) MIN_TILE / side));
        if (factor == 1) {
            return images;
        }
        List<BufferedImage> out = new ArrayList<>(images.size());
        images.forEach(i -> out.add(ImageTiles.scale(i, factor)));
        return out;
    }
}
