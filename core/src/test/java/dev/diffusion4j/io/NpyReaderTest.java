package dev.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.NpyReader.NpyArray;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class NpyReaderTest {

    /** A .npy file as numpy.save writes it: header padded with spaces to a multiple of 64, ending in a newline. */
    public static byte[] npy(int version, String descr, boolean fortran, String shape, byte[] data) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
        int prefix = 6 + 2 + (version == 1 ? 2 : 4);
        int total = (prefix + dict.length() + 1 + 63) / 64 * 64;
        String header = dict + " ".repeat(total - prefix - dict.length() - 1) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
        int len = header.length();
        if (version == 1) {
            out.writeBytes(new byte[] {(byte) len, (byte) (len >> 8)});
        } else {
            out.writeBytes(new byte[] {(byte) len, (byte) (len >> 8), (byte) (len >> 16), (byte) (len >> 24)});
        }
        out.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(data);
        return out.toByteArray();
    }

    public static byte[] le(int bytesPer, double... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * bytesPer).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            switch (bytesPer) {
                case 4 -> b.putFloat((float) v);
                default -> b.putDouble(v);
            }
        }
        return b.array();
    }

    private static NpyArray write(Path dir, byte[] content) throws IOException {
        Path p = dir.resolve("a.npy");
        Files.write(p, content);
        return NpyReader.read(p);
    }

    @Test
    void readsEveryDtypeAndVersion(@TempDir Path dir) throws IOException {
        NpyArray u8 = write(dir, npy(1, "|u1", false, "(2, 3)", new byte[] {0, 1, 2, 3, 4, (byte) 255}));
        assertEquals(DType.UINT8, u8.dtype());
        assertArrayEquals(new long[] {2, 3}, u8.shape());
        try (Scope s = Scope.open()) {
            Tensor t = u8.tensor();
            assertEquals(255, t.select(0, 1).select(0, 2).item());
            assertEquals(5, write(dir, npy(2, "<f4", false, "(3,)", le(4, 1.5, -2, 5))).tensor().select(0, 2).item());
            Tensor f8 = write(dir, npy(3, "<f8", false, "(1, 2)", le(8, 0.1, -7.25))).tensor();
            assertEquals(DType.FLOAT64, f8.dtype());
            assertArrayEquals(new double[] {0.1, -7.25}, f8.toDoubleArray());

            ByteBuffer i8 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-3).putLong(1L << 40);
            Tensor longs = write(dir, npy(1, "<i8", false, "(2,)", i8.array())).tensor();
            assertArrayEquals(new long[] {-3, 1L << 40}, longs.toLongArray());

            ByteBuffer i4 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(7).putInt(-300);
            NpyArray ints = write(dir, npy(1, "<i4", false, "(2,)", i4.array()));
            assertEquals(DType.INT32, ints.dtype());
            assertArrayEquals(new long[] {7, -300}, ints.tensor().toLongArray());

            NpyArray bools = write(dir, npy(1, "|b1", false, "(2, 1)", new byte[] {1, 0}));
            assertEquals(DType.BOOL, bools.dtype());
            assertArrayEquals(new long[] {2, 1}, bools.shape());

            NpyArray scalar = write(dir, npy(1, "<f8", false, "()", le(8, 4)));
            assertEquals(0, scalar.shape().length);
            assertEquals(1, scalar.numel());
        }
    }

    @Test
    void explainsWhatIsWrong(@TempDir Path dir) {
        String m = assertThrows(DiffusionException.class,
                () -> write(dir, npy(1, "<f4", true, "(2, 2)", le(4, 1, 2, 3, 4)))).getMessage();
        assertTrue(m.contains("Fortran (column-major) order"), m);
        m = assertThrows(DiffusionException.class, () -> write(dir, npy(1, ">f4", false, "(1,)", new byte[4]))).getMessage();
        assertTrue(m.contains("unsupported .npy dtype '>f4'") && m.contains("big-endian"), m);
        m = assertThrows(DiffusionException.class, () -> write(dir, npy(1, "<c16", false, "(1,)", new byte[16]))).getMessage();
        assertTrue(m.contains("'<c16'"), m);
        m = assertThrows(DiffusionException.class, () -> write(dir, npy(1, "|u1", false, "(2, 3)", new byte[5]))).getMessage();
        assertTrue(m.contains("expected 6 bytes") && m.contains("ends after 5"), m);
        m = assertThrows(DiffusionException.class, () -> write(dir, npy(1, "|u1", false, "(2, x)", new byte[6]))).getMessage();
        assertTrue(m.contains("not a tuple of integers"), m);
        byte[] noShape = npy(1, "|u1", false, "(2,)", new byte[2]);
        byte[] broken = new String(noShape, StandardCharsets.ISO_8859_1).replace("'shape'", "'shope'")
                .getBytes(StandardCharsets.ISO_8859_1);
        m = assertThrows(DiffusionException.class, () -> write(dir, broken)).getMessage();
        assertTrue(m.contains("no shape entry"), m);
        m = assertThrows(DiffusionException.class, () -> write(dir, "not numpy".getBytes(StandardCharsets.US_ASCII))).getMessage();
        assertTrue(m.startsWith("not a .npy file"), m);
        byte[] v9 = npy(1, "|u1", false, "(1,)", new byte[1]);
        v9[6] = 9;
        m = assertThrows(DiffusionException.class, () -> write(dir, v9)).getMessage();
        assertTrue(m.contains("format version 9.0"), m);
        byte[] valid = npy(1, "|u1", false, "(1,)", new byte[1]);
        byte[] extra = Arrays.copyOf(valid, valid.length + 1);
        m = assertThrows(DiffusionException.class, () -> write(dir, extra)).getMessage();
        assertTrue(m.contains("more bytes follow"), m);
    }
}
