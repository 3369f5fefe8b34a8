package dev.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Node;

class ImageWritersTest {
    @TempDir
    Path dir;

    private static BufferedImage gradient(int w, int h, int seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, ((x * 37 + seed) & 0xFF) << 16 | ((y * 53) & 0xFF) << 8 | ((x ^ y) * 11 & 0xFF));
            }
        }
        return img;
    }

    private static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    /** The chunk types of a PNG file, straight from its bytes (8-byte signature, then length/type/data/CRC). */
    private static List<String> chunkTypes(Path png) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(png));
        assertEquals(0x89504E470D0A1A0AL, b.getLong());
        List<String> types = new ArrayList<>();
        while (b.hasRemaining()) {
            int length = b.getInt();
            byte[] type = new byte[4];
            b.get(type);
            types.add(new String(type, StandardCharsets.US_ASCII));
            b.position(b.position() + length + 4);
        }
        return types;
    }

    @Test
    void pngKeepsPixelsAndTextMetadata() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("sampler", "dpm++2m");
        meta.put("seed", "42");
        meta.put("Comment", "café, 3×3 grid\nsecond line");
        meta.put("prompt", "雪の中の猫 🐈");
        BufferedImage img = gradient(33, 17, 5);
        Path file = dir.resolve("sample.png");
        PngWriter.write(file, img, meta);

        assertEquals(meta, PngWriter.readText(file));
        BufferedImage back = ImageIO.read(file.toFile());
        assertEquals(33, back.getWidth());
        assertEquals(17, back.getHeight());
        for (int y = 0; y < 17; y++) {
            for (int x = 0; x < 33; x++) {
                assertEquals(img.getRGB(x, y), back.getRGB(x, y), "pixel " + x + "," + y);
            }
        }
        List<String> chunks = chunkTypes(file);
        assertEquals("IHDR", chunks.get(0));
        assertEquals("IEND", chunks.get(chunks.size() - 1));
        assertEquals(3, chunks.stream().filter("tEXt"::equals).count(), chunks.toString());
        assertEquals(1, chunks.stream().filter("iTXt"::equals).count(), "non-Latin-1 text needs UTF-8: " + chunks);
        assertTrue(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains("sampler\0dpm++2m"),
                "tEXt layout is keyword, NUL, Latin-1 text");
    }

    @Test
    void pngWithoutMetadataAndReplacingAFile() throws IOException {
        Path file = dir.resolve("plain.png");
        PngWriter.write(file, gradient(4, 4, 0), Map.of("k", "first"));
        PngWriter.write(file, gradient(4, 4, 1), null);
        assertEquals(Map.of(), PngWriter.readText(file));
        assertFalse(chunkTypes(file).contains("tEXt"));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary files left behind");
        }
    }

    @Test
    void pngRejectsInvalidKeywordsAndNonPngInput() throws IOException {
        Path file = dir.resolve("bad.png");
        for (String bad : List.of("", " lead", "double  space", "x".repeat(80), "emoji🙂")) {
            DiffusionException e = assertThrows(DiffusionException.class,
                    () -> PngWriter.write(file, gradient(2, 2, 0), Map.of(bad, "v")), bad);
            assertTrue(e.getMessage().contains("not a valid PNG text keyword"), e.getMessage());
        }
        assertFalse(Files.exists(file));
        Path text = Files.writeString(dir.resolve("notes.png"), "this is not an image");
        DiffusionException e = assertThrows(DiffusionException.class, () -> PngWriter.readText(text));
        assertTrue(e.getMessage().startsWith(text + " is not a readable PNG image"), e.getMessage());
    }

    /** A moving dot over a fixed background: frames after the first carry only what changed. */
    @Test
    void gifFramesStoreOnlyChangedPixelsAndCompositeBackExactly() throws IOException {
        List<BufferedImage> frames = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            BufferedImage f = solid(64, 48, 0xF4F5F7);
            for (int x = 0; x < 64; x += 8) {
                for (int y = 0; y < 48; y++) {
                    f.setRGB(x, y, 0xDDDDDD);
                }
            }
            for (int y = 20; y < 24; y++) {
                for (int x = 2 * i; x < 2 * i + 4; x++) {
                    f.setRGB(x, y, 0x2050C0);
                }
            }
            frames.add(f);
        }
        Path file = dir.resolve("dot.gif");
        GifWriter.write(file, frames, 50);
        ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            reader.setInput(in, false, false);
            int[] canvas = null;
            for (int i = 0; i < frames.size(); i++) {
                BufferedImage raw = reader.read(i);
                int[] px = raw.getRGB(0, 0, 64, 48, null, 0, 64);
                int changed = 0;
                if (canvas == null) {
                    canvas = px;
                } else {
                    for (int p = 0; p < px.length; p++) {
                        if ((px[p] >>> 24) != 0) {
                            canvas[p] = px[p];
                            changed++;
                        }
                    }
                    assertTrue(changed <= 2 * 16, "frame " + i + " stores only the dot's old and new pixels, stored " + changed);
                }
                int[] expected = frames.get(i).getRGB(0, 0, 64, 48, null, 0, 64);
                for (int p = 0; p < px.length; p++) {
                    assertEquals(expected[p] & 0xFFFFFF, canvas[p] & 0xFFFFFF, "frame " + i + " pixel " + p + " (three colours: exact)");
                }
            }
        } finally {
            reader.dispose();
        }
    }

    /** More than 255 colours go through a median-cut palette: small average error, no colour far off. */
    @Test
    void gifWithManyColoursIsCloseToTheOriginal() throws IOException {
        BufferedImage original = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 64; x++) {
                original.setRGB(x, y, (x * 4) << 16 | (y * 5) << 8 | 128); // 3,072 colours, a smooth ramp
            }
        }
        Path file = dir.resolve("gradient.gif");
        GifWriter.write(file, List.of(original), 50);
        BufferedImage back = ImageIO.read(file.toFile());
        double sum = 0;
        int worst = 0;
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 64; x++) {
                int e = original.getRGB(x, y);
                int a = back.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    int d = Math.abs((e >> shift & 0xFF) - (a >> shift & 0xFF));
                    sum += d;
                    worst = Math.max(worst, d);
                }
            }
        }
        double mean = sum / (64 * 48 * 3);
        System.out.printf("gradient through the GIF palette: mean channel error %.2f, worst %d%n", mean, worst);
        // 255 boxes over a 256×240 ramp leave cells about 16 wide: ~4 mean error, ~8 at worst
        assertTrue(mean < 5, "mean channel error " + mean);
        assertTrue(worst < 16, "worst channel error " + worst);
    }

    @Test
    void gifLoopsForeverWithPerFrameDelays() throws IOException {
        int[] colours = {0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF, 0x000000};
        List<BufferedImage> frames = new ArrayList<>();
        for (int c : colours) {
            frames.add(solid(12, 9, c));
        }
        Path file = dir.resolve("trajectory.gif");
        GifWriter.write(file, frames, 80, 1500);

        ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            reader.setInput(in, false, false);
            assertEquals(5, reader.getNumImages(true));
            for (int i = 0; i < 5; i++) {
                Node root = reader.getImageMetadata(i).getAsTree("javax_imageio_gif_image_1.0");
                IIOMetadataNode control = child(root, "GraphicControlExtension");
                assertEquals(i == 4 ? "150" : "8", control.getAttribute("delayTime"), "frame " + i);
                BufferedImage frame = reader.read(i);
                assertEquals(12, frame.getWidth());
                assertEquals(colours[i], frame.getRGB(6, 4) & 0xFFFFFF, "frame " + i);
                IIOMetadataNode apps = child(root, "ApplicationExtensions");
                if (i == 0) {
                    IIOMetadataNode loop = (IIOMetadataNode) apps.getFirstChild();
                    assertEquals("NETSCAPE", loop.getAttribute("applicationID"));
                    assertEquals("2.0", loop.getAttribute("authenticationCode"));
                    assertArrayEquals(new byte[] {1, 0, 0}, (byte[]) loop.getUserObject(), "loop count 0 = forever");
                } else {
                    assertNull(apps, "the loop block belongs to the first frame only");
                }
            }
        } finally {
            reader.dispose();
        }
        byte[] bytes = Files.readAllBytes(file);
        assertEquals("GIF89a", new String(bytes, 0, 6, StandardCharsets.US_ASCII));
        assertTrue(new String(bytes, StandardCharsets.ISO_8859_1).contains("NETSCAPE2.0\u0003\u0001\u0000\u0000\u0000"),
                "NETSCAPE2.0 block: sub-block of 3 bytes, id 1, loop count 0, terminator");
    }

    @Test
    void gifDelaysAreRoundedAndValidated() throws IOException {
        Path file = dir.resolve("fast.gif");
        GifWriter.write(file, List.of(solid(2, 2, 0x123456), solid(2, 2, 0x654321)), 0);
        ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            reader.setInput(in, false, false);
            for (int i = 0; i < 2; i++) {
                Node root = reader.getImageMetadata(i).getAsTree("javax_imageio_gif_image_1.0");
                assertEquals("2", child(root, "GraphicControlExtension").getAttribute("delayTime"));
            }
        } finally {
            reader.dispose();
        }
        assertThrows(DiffusionException.class, () -> GifWriter.write(file, List.of(), 50));
        assertThrows(DiffusionException.class, () -> GifWriter.write(file, List.of(solid(2, 2, 0)), -1));
        DiffusionException e = assertThrows(DiffusionException.class,
                () -> GifWriter.write(file, List.of(solid(2, 2, 0), solid(3, 2, 0)), 50));
        assertTrue(e.getMessage().contains("frame 1 is 3x2 but frame 0 is 2x2"), e.getMessage());
    }

    private static IIOMetadataNode child(Node root, String name) {
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeName().equals(name)) {
                return (IIOMetadataNode) n;
            }
        }
        return null;
    }
}
