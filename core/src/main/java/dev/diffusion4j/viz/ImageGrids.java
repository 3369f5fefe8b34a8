package dev.diffusion4j.viz;

import dev.diffusion4j.io.GridLayout;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sample grids as PNG files: images [n, c, h, w] in [−1, 1] tiled and enlarged to be readable, with
 * the generation's metadata and the grid's {@link GridLayout} in the PNG text, so that
 * the data package's SampleGrid can cut the tiles out again for evaluation.
 */
public final class ImageGrids {
    /** Small images are enlarged to at least this many pixels a side so that a grid is readable. */
    private static final int MIN_TILE = 56;
    private static final int GRID_PADDING = 2;

    private ImageGrids() {
    }

    /**
     * Images [n, c, h, w] in [−1, 1] as a grid of {@code cols} columns (0: square), enlarged to at
     * least {@link #MIN_TILE} pixels a side.
     */
    public static BufferedImage render(Tensor images, int cols) {
        return layOut(images, cols).image();
    }

    /** {@link #render} written to {@code out} with {@code parameters} and the layout as PNG text. */
    public static void write(Tensor images, int cols, Path out, Map<String, String> parameters) {
        Rendered r = layOut(images, cols);
        Map<String, String> text = new LinkedHashMap<>(parameters);
        text.putAll(r.layout().toMetadata());
        PngWriter.write(out, r.image(), text);
    }

    private record Rendered(BufferedImage image, GridLayout layout) {
    }

    private static Rendered layOut(Tensor images, int cols) {
        List<BufferedImage> raw = ImageTiles.fromTensor(images);
        List<BufferedImage> tiles = enlarged(raw);
        int columns = Math.min(tiles.size(), cols > 0 ? cols : (int) Math.ceil(Math.sqrt(tiles.size())));
        GridLayout layout = new GridLayout(tiles.size(), columns, raw.get(0).getWidth(), raw.get(0).getHeight(),
                tiles.get(0).getWidth() / raw.get(0).getWidth(), GRID_PADDING);
        return new Rendered(ImageTiles.grid(tiles, columns, GRID_PADDING), layout);
    }

    /** {@code images} scaled by a whole factor to at least {@link #MIN_TILE} pixels a side. */
    public static List<BufferedImage> enlarged(List<BufferedImage> images) {
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
