package dev.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.IdxReader.IdxArray;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {

    /** Two 2×3 images, values 0..11 with 255 in the last place; hand-written header bytes. */
    private static final byte[] IMAGES = {
        0, 0, 0x08, 3, // magic: unsigned bytes, 3 dimensions
        0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, // sizes 2, 2, 3 big-endian
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, (byte) 255};

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    private static void checkImages(IdxArray a) {
        assertArrayEquals(new long[] {2, 2, 3}, a.shape());
        assertEquals(2, a.count());
        assertArrayEquals(Arrays.copyOfRange(IMAGES, 16, 28), a.data());
        try (Scope s = Scope.open()) {
            Tensor t = a.tensor();
            assertEquals(DType.UINT8, t.dtype());
            assertArrayEquals(new long[] {2, 2, 3}, t.shape());
            // uint8, not int8: the last pixel reads as 255.
            assertEquals(255, t.select(0, 1).select(0, 1).select(0, 2).item());
            assertEquals(5, t.select(0, 0).select(0, 1).select(0, 2).item());
        }
    }

    @Test
    void readsRawAndGzipWhateverTheName(@TempDir Path dir) throws IOException {
        Path raw = dir.resolve("imgs-idx3-ubyte");
        Files.write(raw, IMAGES);
        checkImages(IdxReader.read(raw));
        // Gzip is recognised by its magic bytes, also under a name without .gz, and vice versa.
        Path gz = dir.resolve("no-suffix");
        Files.write(gz, gzip(IMAGES));
        checkImages(IdxReader.read(gz));
        Path fakeGz = dir.resolve("raw.gz");
        Files.write(fakeGz, IMAGES);
        checkImages(IdxReader.read(fakeGz));
    }

    @Test
    void readsLabels(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("labels-idx1-ubyte.gz");
        Files.write(p, gzip(new byte[] {0, 0, 8, 1, 0, 0, 0, 4, 9, 0, 3, 7}));
        IdxArray a = IdxReader.read(p);
        assertArrayEquals(new long[] {4}, a.shape());
        assertArrayEquals(new byte[] {9, 0, 3, 7}, a.data());
    }

    @Test
    void truncatedFilesSayHowFarTheyGot(@TempDir Path dir) throws IOException {
        Path raw = dir.resolve("cut-idx3-ubyte");
        Files.write(raw, Arrays.copyOf(IMAGES, 16 + 5));
        DiffusionException e = assertThrows(DiffusionException.class, () -> IdxReader.read(raw));
        assertTrue(e.getMessage().contains("expected 12 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("ends after 5"), e.getMessage());
        assertTrue(e.getMessage().contains(raw.toString()), e.getMessage());

        // A cut-off gzip stream: whole data compressed, the archive cut in half.
        byte[] big = new byte[16 + 1000 * 28 * 28];
        System.arraycopy(new byte[] {0, 0, 8, 3, 0, 0, 0x03, (byte) 0xe8, 0, 0, 0, 28, 0, 0, 0, 28}, 0, big, 0, 16);
        for (int i = 16; i < big.length; i++) {
            big[i] = (byte) (i * 31 % 251);
        }
        byte[] z = gzip(big);
        Path gz = dir.resolve("cut.gz");
        Files.write(gz, Arrays.copyOf(z, z.length / 2));
        e = assertThrows(DiffusionException.class, () -> IdxReader.read(gz));
        assertTrue(e.getMessage().startsWith("truncated IDX file " + gz), e.getMessage());
        assertTrue(e.getMessage().contains("expected 784000 bytes"), e.getMessage());

        Path header = dir.resolve("header-only");
        Files.write(header, Arrays.copyOf(IMAGES, 9));
        e = assertThrows(DiffusionException.class, () -> IdxReader.read(header));
        assertTrue(e.getMessage().contains("expected 3 sizes in the header, file ends after 9 bytes"), e.getMessage());

        Path longer = dir.resolve("longer");
        Files.write(longer, Arrays.copyOf(IMAGES, IMAGES.length + 1));
        e = assertThrows(DiffusionException.class, () -> IdxReader.read(longer));
        assertTrue(e.getMessage().contains("more bytes follow the 12 values"), e.getMessage());
    }

    @Test
    void rejectsBadMagicAndOtherValueTypes(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("x-idx3-ubyte");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0});
        DiffusionException e = assertThrows(DiffusionException.class, () -> IdxReader.read(png));
        assertTrue(e.getMessage().startsWith("not an IDX file: " + png + " starts with 89 50 4e 47"), e.getMessage());

        Path floats = dir.resolve("f");
        Files.write(floats, new byte[] {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
        e = assertThrows(DiffusionException.class, () -> IdxReader.read(floats));
        assertTrue(e.getMessage().contains("0x0d (32-bit float)"), e.getMessage());

        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[] {0, 0});
        e = assertThrows(DiffusionException.class, () -> IdxReader.read(tiny));
        assertTrue(e.getMessage().contains("ends after 2 bytes"), e.getMessage());

        Path badGz = dir.resolve("bad.gz");
        Files.write(badGz, new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6});
        e = assertThrows(DiffusionException.class, () -> IdxReader.read(badGz));
        assertTrue(e.getMessage().contains("corrupt IDX file " + badGz) || e.getMessage().contains("truncated IDX file " + badGz),
                e.getMessage());

        e = assertThrows(DiffusionException.class, () -> IdxReader.read(dir.resolve("missing")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}
