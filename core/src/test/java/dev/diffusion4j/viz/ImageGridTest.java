package dev.diffusion4j.viz;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.io.GifWriter;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import dev.diffusion4j.io.ImageTiles;

class ImageGridTest {

    private static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    private static int rgb(BufferedImage img, int x, int y) {
        return img.getRGB(x, y) & 0xFFFFFF;
    }

    @Test
    void tilesImagesRowByRowWithPadding() {
        List<BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            images.add(solid(10, 20, 0x101010 * (i + 1)));
        }
        BufferedImage g = ImageTiles.grid(images, 2, 3);
        assertEquals(2 * 10 + 3 * 3, g.getWidth());
        assertEquals(3 * 20 + 4 * 3, g.getHeight());
        for (int i = 0; i < 5; i++) {
            int x0 = 3 + (i % 2) * 13;
            int y0 = 3 + (i / 2) * 23;
            assertEquals(0x101010 * (i + 1), rgb(g, x0, y0), "top-left of image " + i);
            assertEquals(0x101010 * (i + 1), rgb(g, x0 + 9, y0 + 19), "bottom-right of image " + i);
            assertEquals(0xFFFFFF, rgb(g, x0 - 1, y0), "padding left of image " + i);
            assertEquals(0xFFFFFF, rgb(g, x0 + 10, y0 + 19), "padding right of image " + i);
        }
        // The sixth cell is empty canvas.
        assertEquals(0xFFFFFF, rgb(g, 3 + 13 + 5, 3 + 2 * 23 + 10));
        BufferedImage black = ImageTiles.grid(images, 5, 1, Color.BLACK);
        assertEquals(5 * 10 + 6, black.getWidth());
        assertEquals(0, rgb(black, 0, 0));
    }

    @Test
    void smallerImagesAreCentredInTheirCell() {
        BufferedImage g = ImageGrid.builder().add(solid(10, 10, 0xFF0000)).add(solid(4, 6, 0x00FF00)).columns(2).padding(0).render();
        assertEquals(20, g.getWidth());
        assertEquals(10, g.getHeight());
        assertEquals(0x00FF00, rgb(g, 10 + 3, 2));
        assertEquals(0x00FF00, rgb(g, 10 + 6, 7));
        assertEquals(0xFFFFFF, rgb(g, 10 + 2, 2));
        assertEquals(0xFFFFFF, rgb(g, 10 + 3, 1));
    }

    @Test
    void captionsAndTitleAddTextBands() {
        List<BufferedImage> images = List.of(solid(120, 80, 0x3366CC), solid(120, 80, 0xCC6633));
        BufferedImage plain = ImageTiles.grid(images, 2, 10);
        BufferedImage captioned = ImageGrid.builder().title("Samplers").add(images.get(0), "DDPM").add(images.get(1), "DDIM")
                .columns(2).padding(10).render();
        assertEquals(plain.getWidth(), captioned.getWidth());
        assertTrue(captioned.getHeight() > plain.getHeight() + 20);
        // Dark text pixels exist in the caption band below the images and in the title band above.
        int imagesTop = captioned.getHeight() - 10 - (captioned.getHeight() - plain.getHeight());
        assertTrue(darkPixels(captioned, 0, 10) > 0 || darkPixels(captioned, 0, imagesTop) > 20, "no title text");
        int captionTop = captioned.getHeight() - 10 - 30;
        assertTrue(darkPixels(captioned, captionTop, captioned.getHeight()) > 20, "no caption text");
        assertEquals(0, darkPixels(plain, plain.getHeight() - 10, plain.getHeight()));
        assertThrows(DiffusionException.class, () -> ImageGrid.builder().render());
        assertThrows(DiffusionException.class, () -> ImageTiles.grid(images, 0, 1));
    }

    private static int darkPixels(BufferedImage img, int fromY, int toY) {
        int n = 0;
        for (int y = Math.max(0, fromY); y < Math.min(img.getHeight(), toY); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int c = rgb(img, x, y);
                if ((c >> 16 & 0xFF) < 100 && (c >> 8 & 0xFF) < 100 && (c & 0xFF) < 100) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void scaleRepeatsPixels() {
        BufferedImage src = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        src.setRGB(0, 0, 0x112233);
        src.setRGB(1, 0, 0x445566);
        src.setRGB(0, 1, 0x778899);
        src.setRGB(1, 1, 0xAABBCC);
        BufferedImage big = ImageTiles.scale(src, 3);
        assertEquals(6, big.getWidth());
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                assertEquals(src.getRGB(x / 3, y / 3), big.getRGB(x, y));
            }
        }
    }

    @Test
    void tensorsBecomeImages() {
        try (Scope s = Scope.open()) {
            List<BufferedImage> grey = ImageTiles.fromTensor(Tensor.of(new float[] {-1, 0, 1, 2, Float.NaN, -5, 0.5f, 1}, 2, 1, 2, 2));
            assertEquals(2, grey.size());
            BufferedImage a = grey.get(0);
            assertEquals(2, a.getWidth());
            assertEquals(0x000000, rgb(a, 0, 0));
            assertEquals(0x808080, rgb(a, 1, 0));
            assertEquals(0xFFFFFF, rgb(a, 0, 1));
            assertEquals(0xFFFFFF, rgb(a, 1, 1));
            assertEquals(0x000000, rgb(grey.get(1), 0, 0));
            BufferedImage colour = ImageTiles.fromTensor(Tensor.of(new float[] {1, 0, 0, 0.5f, 0.2f, 1}, 1, 3, 1, 2), 0, 1).get(0);
            assertEquals(0xFF0033, rgb(colour, 0, 0));
            assertEquals(0x0080FF, rgb(colour, 1, 0));
            assertThrows(DiffusionException.class, () -> ImageTiles.fromTensor(Tensor.zeros(2, 2, 4, 4)));
        }
    }

    @Test
    void writesSamplePictures() throws Exception {
        float[] data;
        try (Scope s = Scope.open()) {
            data = Toy2D.MOONS.sample(new Generator(1), 4000).toFloatArray();
        }
        java.util.Random rnd = new java.util.Random(2);
        float[] noise = new float[data.length];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) rnd.nextGaussian();
        }
        List<float[]> trajectory = new ArrayList<>();
        List<String> subtitles = new ArrayList<>();
        int frames = 40;
        for (int f = 0; f < frames; f++) {
            double t = 1 - f / (frames - 1.0);
            double alphaBar = Math.cos(t * Math.PI / 2) * Math.cos(t * Math.PI / 2);
            float[] x = new float[data.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (Math.sqrt(alphaBar) * data[i] + Math.sqrt(1 - alphaBar) * noise[i]);
            }
            trajectory.add(x);
            subtitles.add(String.format(java.util.Locale.ROOT, "t = %d / 1000   ᾱ = %.2f", Math.round(t * 1000), alphaBar));
        }
        ScatterPlot plot = ScatterPlot.builder().title("Moons — reverse process").size(400, 400).build();
        List<BufferedImage> images = plot.frames(trajectory, subtitles);
        GifWriter.write(VizSamples.DIR.resolve("moons-reverse.gif"), images, 80, 1500);
        assertTrue(Files.size(VizSamples.DIR.resolve("moons-reverse.gif")) > 10_000);
        BufferedImage grid = ImageGrid.builder().title("Moons: noise to data")
                .add(images.get(0), "t = 1000").add(images.get(13), "t = 667").add(images.get(26), "t = 333").add(images.get(39), "t = 0")
                .columns(4).render();
        VizSamples.write("grid-trajectory", grid);

        try (Scope s = Scope.open()) {
            Tensor digits = Tensor.randn(new Generator(3), 16, 1, 28, 28);
            List<BufferedImage> tiles = new ArrayList<>();
            for (BufferedImage d : ImageTiles.fromTensor(digits)) {
                tiles.add(ImageTiles.scale(d, 3));
            }
            VizSamples.write("tiles-noise", ImageTiles.grid(tiles, 4, 4));
        }
    }
}
