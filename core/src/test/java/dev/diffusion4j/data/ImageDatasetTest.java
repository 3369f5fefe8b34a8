package dev.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.ImageTiles;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class ImageDatasetTest {

    /** Five 1×2×3 images whose pixels encode (image, row, column): 40·n + 10·y + x. */
    private static ImageDataset small(boolean labelled) {
        byte[] px = new byte[5 * 6];
        for (int n = 0; n < 5; n++) {
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 3; x++) {
                    px[n * 6 + y * 3 + x] = (byte) (40 * n + 10 * y + x);
                }
            }
        }
        return ImageDataset.of("small", px, 5, 1, 2, 3, labelled ? new int[] {4, 3, 2, 1, 0} : null,
                labelled ? List.of("a", "b", "c", "d", "e") : List.of());
    }

    @Test
    void samplesAreScaledPixelsOfDrawnImagesWithTheirLabels() {
        ImageDataset d = small(true);
        assertArrayEquals(new long[] {1, 2, 3}, d.itemShape());
        assertEquals(6, d.dim());
        try (Scope s = Scope.open()) {
            DataSource.Labeled b = d.sampleLabeled(new Generator(7), 64);
            assertArrayEquals(new long[] {64, 1, 2, 3}, b.items().shape());
            float[] x = b.items().toFloatArray();
            long[] y = b.labels().toLongArray();
            boolean[] seen = new boolean[5];
            for (int i = 0; i < 64; i++) {
                int n = (int) Math.round(((x[i * 6] + 1) * 127.5) / 40);
                seen[n] = true;
                assertEquals(4 - n, y[i], "label follows the image");
                for (int p = 0; p < 6; p++) {
                    assertEquals((40 * n + 10 * (p / 3) + p % 3) / 127.5 - 1, x[i * 6 + p], 1e-6);
                }
            }
            for (boolean v : seen) {
                assertTrue(v, "64 draws from 5 images reach every image");
            }
            // sample() draws the same images as sampleLabeled() from the same generator state.
            assertTrue(d.sample(new Generator(7), 64).equal(b.items()));
            assertFalse(d.sample(new Generator(8), 64).equal(b.items()));
        }
        assertThrows(DiffusionException.class, () -> small(false).sampleLabeled(new Generator(0), 2));
        assertThrows(DiffusionException.class, () -> d.sample(new Generator(0), 0));
    }

    @Test
    void captionsTravelWithTheirImages() {
        List<String> texts = List.of("zero", "one", "two", "three", "four");
        ImageDataset d = small(true).withCaptions(texts).withFlip(true);
        assertTrue(d.hasCaptions());
        assertEquals("two", d.caption(2));
        assertTrue(d.description().endsWith("5 classes, captioned"), d.description());
        try (Scope s = Scope.open()) {
            ImageDataset.Captioned b = d.sampleCaptioned(new Generator(5), 64);
            float[] x = b.images().toFloatArray();
            long[] y = b.labels().toLongArray();
            for (int i = 0; i < 64; i++) {
                int n = (int) Math.round(((Math.min(x[i * 6], x[i * 6 + 2]) + 1) * 127.5) / 40);
                assertEquals(texts.get(n), b.captions().get(i), "the caption follows the image");
                assertEquals(4 - n, y[i], "and so does the label");
            }
            // The same generator state gives the same images (and flips) as sample() and sampleLabeled().
            assertTrue(d.sample(new Generator(5), 64).equal(b.images()));
            assertTrue(d.sampleLabeled(new Generator(5), 64).items().equal(b.images()));
            assertNull(small(false).withCaptions(texts).sampleCaptioned(new Generator(5), 3).labels(), "unlabelled: no labels");
        }
        ImageDataset part = d.subset(new int[] {4, 1}, " (part)");
        assertEquals(List.of("four", "one"), part.captions());
        assertEquals(texts, ImageTransforms.apply(d, 4, 3).captions(), "resizing keeps the captions");
        assertEquals(texts, d.withName("renamed").withSource("here").withWarning("note").captions());

        assertFalse(small(false).hasCaptions());
        String none = assertThrows(DiffusionException.class, () -> small(false).sampleCaptioned(new Generator(0), 2)).getMessage();
        assertTrue(none.startsWith("data set small has no captions"), none);
        assertThrows(DiffusionException.class, () -> small(false).withCaptions(List.of("too", "few")));
        assertThrows(DiffusionException.class, () -> small(false).withCaptions(List.of("a", "b", " ", "d", "e")));
    }

    @Test
    void flipMirrorsRowsOfAboutHalfTheImages() {
        ImageDataset plain = small(false);
        ImageDataset flipping = plain.withFlip(true);
        assertTrue(flipping.flips());
        try (Scope s = Scope.open()) {
            Generator g = new Generator(3);
            Tensor a = flipping.sample(g, 400);
            Tensor b = flipping.sample(new Generator(3), 400);
            assertTrue(a.equal(b), "same generator state, same flips");
            float[] x = a.toFloatArray();
            int flipped = 0;
            for (int i = 0; i < 400; i++) {
                int base = i * 6;
                boolean mirrored = x[base] > x[base + 2];
                flipped += mirrored ? 1 : 0;
                int n = (int) Math.round(((Math.min(x[base], x[base + 2]) + 1) * 127.5) / 40);
                for (int y = 0; y < 2; y++) {
                    for (int col = 0; col < 3; col++) {
                        int srcCol = mirrored ? 2 - col : col;
                        assertEquals((40 * n + 10 * y + srcCol) / 127.5 - 1, x[base + y * 3 + col], 1e-6);
                    }
                }
            }
            // Binomial(400, ½): mean 200, sd 10.
            assertTrue(Math.abs(flipped - 200) < 40, "flipped " + flipped);
        }
    }

    @Test
    void allIsEveryImageAndImageTilesInvertsTheScaling() {
        ImageDataset d = small(false);
        try (Scope s = Scope.open()) {
            Tensor all = d.all().orElseThrow();
            assertArrayEquals(new long[] {5, 1, 2, 3}, all.shape());
            List<BufferedImage> back = ImageTiles.fromTensor(all);
            for (int n = 0; n < 5; n++) {
                for (int y = 0; y < 2; y++) {
                    for (int x = 0; x < 3; x++) {
                        assertEquals(40 * n + 10 * y + x, back.get(n).getRGB(x, y) & 0xff);
                    }
                }
            }
            // Every level 0..255 survives the round trip p → p/127.5 − 1 → ImageTiles.
            byte[] ramp = new byte[256];
            for (int i = 0; i < 256; i++) {
                ramp[i] = (byte) i;
            }
            ImageDataset r = ImageDataset.of("ramp", ramp, 1, 1, 16, 16, null, List.of());
            BufferedImage img = ImageTiles.fromTensor(r.all().orElseThrow()).get(0);
            for (int i = 0; i < 256; i++) {
                assertEquals(i, img.getRGB(i % 16, i / 16) & 0xff);
            }
        }
    }

    @Test
    void batchAssemblyIsFast() {
        ImageDataset d = ImageDatasets.fashionMnistTest().withFlip(true);
        Generator g = new Generator(0);
        for (int i = 0; i < 20; i++) {
            try (Scope s = Scope.open()) {
                d.sampleLabeled(g, 128);
            }
        }
        int reps = 200;
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            try (Scope s = Scope.open()) {
                d.sampleLabeled(g, 128);
            }
        }
        double ms = (System.nanoTime() - t0) / 1e6 / reps;
        System.out.printf("ImageDataset: batch of 128 Fashion-MNIST images with flips and labels in %.3f ms%n", ms);
        // A U-Net training step takes about a second; batch assembly must be a rounding error on it.
        assertTrue(ms < 20, ms + " ms per batch");
    }

    @Test
    void rejectsInconsistentInput() {
        assertThrows(DiffusionException.class, () -> ImageDataset.of("x", new byte[5], 1, 1, 2, 3, null, List.of()));
        assertThrows(DiffusionException.class, () -> ImageDataset.of("x", new byte[12], 1, 2, 2, 3, null, List.of()));
        assertThrows(DiffusionException.class, () -> ImageDataset.of("x", new byte[6], 1, 1, 2, 3, new int[] {2}, List.of("a", "b")));
        assertThrows(DiffusionException.class, () -> ImageDataset.of("x", new byte[6], 1, 1, 2, 3, new int[] {0, 1}, List.of()));
    }
}
