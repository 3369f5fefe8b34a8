package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.GridLayout;
import dev.diffusion4j.io.PngWriter;
import java.nio.file.Path;
import java.util.List;

/** A sample grid PNG read back as data: its tiles, cut out where its recorded {@link GridLayout} says. */
public final class SampleGrid {
    private SampleGrid() {
    }

    /** The tiles of a grid PNG as an unlabelled data set (RGB, as stored). */
    public static ImageDataset read(Path png) {
        GridLayout l = GridLayout.fromMetadata(PngWriter.readText(png), png).orElseThrow(() -> new DiffusionException(png
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
