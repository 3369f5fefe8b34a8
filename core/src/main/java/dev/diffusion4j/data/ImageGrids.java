package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.io.ImageTiles;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Sample grids as PNG files: a grid records its layout in PNG text ({@link Layout#toMetadata()}) next
 * to the generation parameters, so the tiles can be cut out again for evaluation.
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

    private record Rendered(BufferedImage image, Layout layout) {
    }

    private static Rendered layOut(Tensor images, int cols) {
        List<BufferedImage> raw = ImageTiles.fromTensor(images);
        List<BufferedImage> tiles = enlarged(raw);
        int columns = Math.min(tiles.size(), cols > 0 ? cols : (int) Math.ceil(Math.sqrt(tiles.size())));
        Layout layout = new Layout(tiles.size(), columns, raw.get(0).getWidth(), raw.get(0).getHeight(),
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

    /**
     * Where the tiles of a grid lie: {@code count} tiles of {@code tileWidth}×{@code tileHeight}
     * source pixels, each enlarged {@code scale} times, in rows of {@code columns}, {@code padding}
     * pixels apart and around.
     */
    public record Layout(int count, int columns, int tileWidth, int tileHeight, int scale, int padding) {
        public static final String KEY = "grid_layout";

        public Layout {
            if (count < 1 || columns < 1 || tileWidth < 1 || tileHeight < 1 || scale < 1 || padding < 0) {
                throw new DiffusionException("invalid grid layout: " + count + " tiles, " + columns + " columns, " + tileWidth + "x"
                        + tileHeight + " tiles at scale " + scale + ", padding " + padding);
            }
        }

        /** The layout as one PNG text entry. */
        public Map<String, String> toMetadata() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put(KEY, "tiles=" + count + " columns=" + columns + " tile=" + tileWidth + "x" + tileHeight + " scale=" + scale
                    + " padding=" + padding);
            return m;
        }

        static Optional<Layout> fromMetadata(Map<String, String> text, Path where) {
            String v = text.get(KEY);
            if (v == null) {
                return Optional.empty();
            }
            Map<String, String> f = new LinkedHashMap<>();
            for (String part : v.trim().split("\\s+")) {
                String[] kv = part.split("=", 2);
                if (kv.length == 2) {
                    f.put(kv[0], kv[1]);
                }
            }
            try {
                String[] tile = f.get("tile").split("x");
                return Optional.of(new Layout(Integer.parseInt(f.get("tiles")), Integer.parseInt(f.get("columns")),
                        Integer.parseInt(tile[0]), Integer.parseInt(tile[1]), Integer.parseInt(f.get("scale")),
                        Integer.parseInt(f.get("padding"))));
            } catch (RuntimeException e) {
                throw new DiffusionException(where + " has a malformed '" + KEY + "' entry: " + v);
            }
        }
    }

    /** Whether {@code png} is a grid with a recorded layout. */
    public static boolean isGrid(Path png) {
        return Layout.fromMetadata(PngWriter.readText(png), png).isPresent();
    }

    /** The tiles of a grid PNG as an unlabelled data set (RGB, as stored). */
    public static ImageDataset read(Path png) {
        Layout l = Layout.fromMetadata(PngWriter.readText(png), png).orElseThrow(() -> new DiffusionException(png
                + " is not a diffusion4j sample grid (no layout in its PNG text); give a folder of sample PNGs instead"));
        ImageFolder.Decoded d = ImageFolder.decode(png);
        int rows = (l.count() + l.columns() - 1) / l.columns();
        int cellW = l.tileWidth() * l.scale();
        int cellH = l.tileHeight() * l.scale();
        long needW = (long) l.columns() * cellW + (long) (l.columns() + 1) * l.padding();
        long needH = (long) rows * cellH + (long) (rows + 1) * l.padding();
        if (d.width() < needW || d.height() < needH) {
            throw new DiffusionException(png + " is " + d.width() + "x" + d.height() + " pixels, too small for its recorded layout ("
                    + needW + "x" + needH + "); the file was cropped or resized");
        }
        int c = d.channels();
        int plane = l.tileWidth() * l.tileHeight();
        byte[] pixels = new byte[l.count() * c * plane];
        for (int i = 0; i < l.count(); i++) {
            int x0 = l.padding() + (i % l.columns()) * (cellW + l.padding());
            int y0 = l.padding() + (i / l.columns()) * (cellH + l.padding());
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < l.tileHeight(); y++) {
                    for (int x = 0; x < l.tileWidth(); x++) {
                        int src = ch * d.width() * d.height() + (y0 + y * l.scale()) * d.width() + x0 + x * l.scale();
                        pixels[(i * c + ch) * plane + y * l.tileWidth() + x] = d.chw()[src];
                    }
                }
            }
        }
        String name = png.getFileName().toString();
        return ImageDataset.of(name, pixels, l.count(), c, l.tileHeight(), l.tileWidth(), null, List.of())
                .withSource("sample grid " + png);
    }
}
