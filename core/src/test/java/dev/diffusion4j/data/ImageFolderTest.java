package dev.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {

    private static Path write(BufferedImage img, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        String format = file.toString().endsWith(".png") ? "png" : "jpg";
        assertTrue(ImageIO.write(img, format, file.toFile()));
        return file;
    }

    private static BufferedImage rgb(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    private static BufferedImage grey(int w, int h, int level) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, level);
            }
        }
        return img;
    }

    private static int px(ImageDataset d, int n, int c, int y, int x) {
        return d.pixelBytes()[((n * d.channels() + c) * d.height() + y) * d.width() + x] & 0xff;
    }

    @Test
    void classFoldersPngAndJpegGreyAndColour(@TempDir Path dir) throws IOException {
        write(rgb(8, 8, 0xC86432), dir.resolve("zebra/a.png")); // (200, 100, 50)
        write(rgb(8, 8, 0x3C78B4), dir.resolve("zebra/b.jpg")); // (60, 120, 180)
        write(grey(8, 8, 77), dir.resolve("ant/c.png"));
        Files.writeString(dir.resolve("ant/notes.txt"), "not an image");
        Files.writeString(dir.resolve("LICENSE"), "not an image");
        write(rgb(8, 8, 0), dir.resolve(".hidden.png"));
        write(rgb(8, 8, 0), dir.resolve("ant/deeper/d.png"));

        ImageDataset d = (ImageDataset) DataSources.open(dir.toString(), ImageOptions.NATIVE);
        assertEquals(List.of("ant", "zebra"), d.classNames(), "classes are the sub-folders, sorted");
        assertEquals(3, d.size());
        assertEquals(3, d.channels(), "RGB because not every image is grey");
        assertEquals(List.of(0, 1, 1), List.of(d.label(0), d.label(1), d.label(2)));
        assertTrue(d.flips(), "folders flip by default");
        // Grey is read from the raster: 77 stays 77 (Java's getRGB would brighten it to 149).
        for (int c = 0; c < 3; c++) {
            assertEquals(77, px(d, 0, c, 3, 3));
        }
        assertEquals(200, px(d, 1, 0, 4, 4));
        assertEquals(100, px(d, 1, 1, 4, 4));
        assertEquals(50, px(d, 1, 2, 4, 4));
        // JPEG is lossy; a flat colour comes back within a few levels.
        assertEquals(60, px(d, 2, 0, 4, 4), 4);
        assertEquals(120, px(d, 2, 1, 4, 4), 4);
        assertEquals(180, px(d, 2, 2, 4, 4), 4);
        // notes.txt, LICENSE and the folder "deeper" are skipped and counted; the hidden file is not counted.
        assertEquals("skipped 3 files in " + dir + " that are not .png/.jpg images (or lie more than one folder deep)",
                d.warning().orElseThrow());

        ImageDataset greyed = (ImageDataset) DataSources.open(dir.toString(), new ImageOptions(null, 1, false));
        assertEquals(1, greyed.channels());
        assertFalse(greyed.flips());
        assertEquals(77, px(greyed, 0, 0, 0, 0));
        // ITU-R BT.601 luma: 0.299·200 + 0.587·100 + 0.114·50 = 124.2 → 124 (equal weights would give 117).
        assertEquals(124, px(greyed, 1, 0, 0, 0));
    }

    @Test
    void looseImagesAreUnlabelledAndAllGreyStaysGrey(@TempDir Path dir) throws IOException {
        write(grey(5, 5, 10), dir.resolve("a.png"));
        write(grey(5, 5, 250), dir.resolve("b.png"));
        ImageDataset d = ImageFolder.load(dir, ImageOptions.NATIVE);
        assertEquals(1, d.channels());
        assertFalse(d.hasLabels());
        assertTrue(d.warning().isEmpty());
        assertEquals(250, px(d, 1, 0, 2, 2));
        assertEquals(3, ImageFolder.load(dir, new ImageOptions(null, 3, null)).channels());
    }

    @Test
    void transparentPixelsBecomeWhite(@TempDir Path dir) throws IOException {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        img.setRGB(0, 0, 0x00000000); // fully transparent black
        img.setRGB(1, 0, 0x80FF0000); // half-transparent red
        write(img, dir.resolve("t.png"));
        ImageDataset d = ImageFolder.load(dir, ImageOptions.NATIVE);
        assertEquals(255, px(d, 0, 0, 0, 0));
        assertEquals(255, px(d, 0, 1, 0, 0));
        assertEquals(255, px(d, 0, 0, 0, 1));
        assertEquals(127, px(d, 0, 1, 0, 1), 1); // 255·(1 − 128/255)
    }

    @Test
    void resizeKeepsGeometry(@TempDir Path dir) throws IOException {
        // Left half black, right half white, 64×64 → 28×28: exactly 14 black and 14 white columns.
        BufferedImage half = rgb(64, 64, 0xFFFFFF);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 32; x++) {
                half.setRGB(x, y, 0);
            }
        }
        write(half, dir.resolve("half/h.png"));
        ImageDataset d = ImageFolder.load(dir.resolve("half"), new ImageOptions(28, 1, null));
        assertEquals(28, d.height());
        assertEquals(28, d.width());
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                assertEquals(x < 14 ? 0 : 255, px(d, 0, 0, y, x), "(" + x + ", " + y + ")");
            }
        }
    }

    @Test
    void centreCropAndAreaAveraging() {
        // 40 wide, 20 tall, level 6·x: the centre square is columns 10..29.
        byte[] wide = new byte[20 * 40];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = (byte) (6 * (i % 40));
        }
        byte[] crop = ImageTransforms.resizeCenterCrop(wide, 1, 20, 40, 20);
        for (int i = 0; i < crop.length; i++) {
            assertEquals(6 * (10 + i % 20), crop[i] & 0xff);
        }
        // 4×4 → 2×2: each output is the mean of a 2×2 block.
        byte[] four = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, (byte) 120, (byte) 130, (byte) 140, (byte) 150};
        byte[] two = ImageTransforms.resizeCenterCrop(four, 1, 4, 4, 2);
        assertArrayEquals(new int[] {25, 45, 105, 125}, toInts(two));
        // 3×3 → 2×2: each output covers 1.5 source pixels per axis; top-left = (1·0 + ½·10 + ½·30 + ¼·40)/2.25 = 13.33.
        byte[] three = {0, 10, 20, 30, 40, 50, 60, 70, 80};
        assertEquals(13, ImageTransforms.resizeCenterCrop(three, 1, 3, 3, 2)[0]);
        // Enlarging 2×2 → 4×4 repeats each pixel twice per axis (each output lies inside one source pixel).
        byte[] up = ImageTransforms.resizeCenterCrop(new byte[] {0, 100, (byte) 200, 50}, 1, 2, 2, 4);
        assertArrayEquals(new int[] {0, 0, 100, 100, 0, 0, 100, 100, 200, 200, 50, 50, 200, 200, 50, 50}, toInts(up));
    }

    private static int[] toInts(byte[] b) {
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xff;
        }
        return out;
    }

    @Test
    void errorsNameTheProblem(@TempDir Path dir) throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Files.writeString(empty.resolve("readme.md"), "x");
        String m = assertThrows(DiffusionException.class, () -> ImageFolder.load(empty, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.startsWith("no images in " + empty + " (1 other files skipped)"), m);

        Path corrupt = dir.resolve("corrupt");
        write(grey(4, 4, 0), corrupt.resolve("a.png"));
        Files.write(corrupt.resolve("x.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 0, 1, 2, 3});
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(corrupt, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.startsWith("corrupt PNG: " + corrupt.resolve("x.png") + " ("), m);
        Files.writeString(corrupt.resolve("x.png"), "text, not a picture");
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(corrupt, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.startsWith("corrupt PNG: " + corrupt.resolve("x.png") + " ("), m);

        Path mixed = dir.resolve("mixed");
        write(grey(4, 4, 0), mixed.resolve("a.png"));
        write(grey(5, 4, 0), mixed.resolve("b.png"));
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(mixed, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.contains("a.png is 4x4, b.png is 5x4") && m.contains("image_size"), m);
        assertEquals(3, ImageFolder.load(mixed, new ImageOptions(3, null, null)).height());

        Path both = dir.resolve("both");
        write(grey(4, 4, 0), both.resolve("a.png"));
        write(grey(4, 4, 0), both.resolve("cls/b.png"));
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(both, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.contains("both directly"), m);
    }

    @Test
    void captionsFromMetadataJsonl(@TempDir Path dir) throws IOException {
        write(rgb(4, 4, 0xFF0000), dir.resolve("red/a.png"));
        write(rgb(4, 4, 0x0000FF), dir.resolve("blue/b.png"));
        write(rgb(4, 4, 0x0000FF), dir.resolve("blue/c.png"));
        Files.writeString(dir.resolve("metadata.jsonl"), """
                {"file_name": "red/a.png", "text": "a red square"}

                {"file_name": "blue/c.png", "text": "  another blue square  ", "source": "ignored"}
                {"file_name": "blue/b.png", "text": "a blue square"}
                """);
        ImageDataset d = (ImageDataset) DataSources.open(dir.toString(), ImageOptions.NATIVE);
        // Images in folder order (blue before red), each with its own caption and the label of its sub-folder.
        assertEquals(List.of("a blue square", "another blue square", "a red square"), d.captions());
        assertEquals(List.of("blue", "red"), d.classNames());
        assertEquals(0, px(d, 2, 2, 0, 0), "the red square is image 2");
        assertTrue(d.warning().isEmpty(), "metadata.jsonl is not a skipped file");
        assertTrue(d.description().contains("captioned"), d.description());
    }

    @Test
    void captionsFromTextFilesBesideTheImages(@TempDir Path dir) throws IOException {
        write(grey(4, 4, 10), dir.resolve("a.png"));
        write(grey(4, 4, 20), dir.resolve("b.jpg"));
        Files.writeString(dir.resolve("a.txt"), "a dark square\n");
        Files.writeString(dir.resolve("b.txt"), "a darker square");
        Files.writeString(dir.resolve("notes.md"), "not a caption");
        ImageDataset d = ImageFolder.load(dir, ImageOptions.NATIVE);
        assertEquals(List.of("a dark square", "a darker square"), d.captions());
        assertFalse(d.hasLabels());
        assertEquals("skipped 1 file in " + dir + " that are not .png/.jpg images (or lie more than one folder deep)",
                d.warning().orElseThrow(), "caption files are not skipped files; notes.md is");

        // A text file that belongs to no image does not make a folder captioned.
        Path plain = dir.resolve("plain");
        write(grey(4, 4, 10), plain.resolve("a.png"));
        Files.writeString(plain.resolve("readme.txt"), "about these images");
        assertFalse(ImageFolder.load(plain, ImageOptions.NATIVE).hasCaptions());
    }

    @Test
    void captionErrorsNameTheFile(@TempDir Path dir) throws IOException {
        Path txt = dir.resolve("txt");
        write(grey(4, 4, 10), txt.resolve("a.png"));
        write(grey(4, 4, 10), txt.resolve("b.png"));
        Files.writeString(txt.resolve("a.txt"), "a square");
        String m = assertThrows(DiffusionException.class, () -> ImageFolder.load(txt, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.startsWith("no caption for " + txt.resolve("b.png") + ": ") && m.contains("b.txt is missing"), m);
        Files.writeString(txt.resolve("b.txt"), " \n");
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(txt, ImageOptions.NATIVE)).getMessage();
        assertEquals("the caption file " + txt.resolve("b.txt") + " is empty; write what b.png shows", m);

        Path meta = dir.resolve("meta");
        write(grey(4, 4, 10), meta.resolve("a.png"));
        write(grey(4, 4, 10), meta.resolve("b.png"));
        Path jsonl = meta.resolve("metadata.jsonl");
        Files.writeString(jsonl, "{\"file_name\": \"a.png\", \"text\": \"one\"}\n");
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(meta, ImageOptions.NATIVE)).getMessage();
        assertEquals(jsonl + " has no caption for " + meta.resolve("b.png")
                + "; add the line {\"file_name\": \"b.png\", \"text\": \"...\"}", m);
        Files.writeString(jsonl, "{\"file_name\": \"a.png\", \"text\": \"one\"}\n{\"file_name\": \"c.png\", \"text\": \"two\"}\n");
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(meta, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.startsWith(jsonl + " line 2 gives a caption for c.png, which is not an image in " + meta + " (no such file)"), m);
        Files.writeString(jsonl, "{\"file_name\": \"a.png\", \"text\": \"one\"}\n{\"file_name\": \"a.png\", \"text\": \"two\"}\n");
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(meta, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.startsWith(jsonl + " line 2 captions a.png again (line 1"), m);
        Files.writeString(jsonl, "{\"file_name\": \"a.png\", \"caption\": \"one\"}\n");
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(meta, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.startsWith(jsonl + " line 1 must be a JSON object with the strings \"file_name\" and \"text\""), m);
        Files.writeString(jsonl, "{\"file_name\": \"a.png\", \"text\": \"one\"\n");
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(meta, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.startsWith(jsonl + " line 1 is not valid JSON: "), m);

        // Captions in order, but an image that does not decode: the error names that image.
        Files.writeString(jsonl, "{\"file_name\": \"a.png\", \"text\": \"one\"}\n{\"file_name\": \"b.png\", \"text\": \"two\"}\n");
        assertEquals(List.of("one", "two"), ImageFolder.load(meta, ImageOptions.NATIVE).captions());
        Files.writeString(meta.resolve("b.png"), "text, not a picture");
        m = assertThrows(DiffusionException.class, () -> ImageFolder.load(meta, ImageOptions.NATIVE)).getMessage();
        assertTrue(m.startsWith("corrupt PNG: " + meta.resolve("b.png") + " ("), m);
        assertFalse(m.contains("\n"), "one line");
    }
}
