package dev.diffusion4j.viz;

import static dev.diffusion4j.viz.Pixels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.awt.Color;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

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

    /** An image whose every pixel differs from every other, here and in the other images: a flip or shift shows. */
    private static BufferedImage gradient(int w, int h, int index) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (40 * index + 1) << 16 | (10 * x + 5) << 8 | (10 * y + 5));
            }
        }
        return img;
    }

    /** Text pixels: the grid draws text near-black, and the test images here are all brighter. */
    private static boolean text(int rgb) {
        return brightness(rgb) < 80;
    }

    private static double centreX(Rectangle r) {
        return r.x + r.width / 2.0;
    }

    @Test
    void tilesImagesRowByRowWithPadding() {
        List<BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            images.add(gradient(10, 20, i));
        }
        for (Color background : new Color[] {Color.WHITE, Color.BLACK}) {
            int pad = 3;
            BufferedImage g = background == Color.WHITE ? ImageTiles.grid(images, 2, pad) : ImageTiles.grid(images, 2, pad, background);
            assertEquals(2 * 10 + 3 * pad, g.getWidth());
            assertEquals(3 * 20 + 4 * pad, g.getHeight());
            // Image i fills the cell at column i % 2, row i / 2, pixel for pixel; everything else,
            // the padding and the empty sixth cell, is canvas.
            for (int y = 0; y < g.getHeight(); y++) {
                for (int x = 0; x < g.getWidth(); x++) {
                    int col = (x - pad) / (10 + pad);
                    int row = (y - pad) / (20 + pad);
                    int ix = x - pad - col * (10 + pad);
                    int iy = y - pad - row * (20 + pad);
                    int i = row * 2 + col;
                    boolean inImage = x >= pad && y >= pad && ix < 10 && iy < 20 && i < 5;
                    int expected = inImage ? rgb(images.get(i), ix, iy) : rgb(background);
                    assertEquals(expected, rgb(g, x, y), "pixel " + x + "," + y);
                }
            }
        }
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
    void titleAboveAndCaptionsCentredUnderTheirImages() {
        List<BufferedImage> images = List.of(solid(120, 80, 0x3366CC), solid(120, 80, 0xCC6633));
        BufferedImage plain = ImageTiles.grid(images, 2, 10);
        assertEquals(0, count(plain, whole(plain), ImageGridTest::text), "text without a title or captions");
        BufferedImage g = ImageGrid.builder().title("Samplers").add(images.get(0), "DDPM").add(images.get(1), "DDIM")
                .columns(2).padding(10).render();
        assertEquals(plain.getWidth(), g.getWidth());

        Rectangle left = extent(g, whole(g), new Color(0x3366CC));
        Rectangle right = extent(g, whole(g), new Color(0xCC6633));
        assertEquals(new Rectangle(10, left.y, 120, 80), left);
        assertEquals(new Rectangle(140, left.y, 120, 80), right);
        // The title band is all above the images, the text centred on the canvas.
        Rectangle title = extent(g, new Rectangle(0, 0, g.getWidth(), left.y), ImageGridTest::text);
        assertNotNull(title, "no title text");
        assertEquals(g.getWidth() / 2.0, centreX(title), 3, "title at " + title);
        // Each caption lies below its image, inside its cell and centred under it.
        int below = left.y + left.height;
        for (Rectangle image : List.of(left, right)) {
            Rectangle caption = extent(g, new Rectangle(image.x - 5, below, image.width + 10, g.getHeight() - below), ImageGridTest::text);
            assertNotNull(caption, "no caption under " + image);
            assertTrue(caption.x >= image.x && caption.x + caption.width <= image.x + image.width, caption + " outside " + image);
            assertEquals(centreX(image), centreX(caption), 3, "caption at " + caption + " under " + image);
        }
        assertEquals(0, count(g, new Rectangle(0, left.y, g.getWidth(), left.height), ImageGridTest::text), "text across the images");
        assertThrows(DiffusionException.class, () -> ImageGrid.builder().render());
        assertThrows(DiffusionException.class, () -> ImageTiles.grid(images, 0, 1));
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
}
