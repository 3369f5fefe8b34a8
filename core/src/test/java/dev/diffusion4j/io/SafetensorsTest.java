package dev.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private Scope scope;

    @BeforeEach
    void openScope() {
        scope = Scope.open();
    }

    @AfterEach
    void closeScope() {
        scope.close();
    }

    /** Random raw bytes for {@code dtype}; BOOL gets only 0/1, the values a bool tensor may hold. */
    private static Tensor randomTensor(Random rnd, DType dtype, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        byte[] bytes = new byte[(int) n * dtype.byteSize()];
        rnd.nextBytes(bytes);
        if (dtype == DType.BOOL) {
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] &= 1;
            }
        }
        return Tensor.fromBytes(bytes, dtype, shape);
    }

    @Test
    void everyDTypeRoundTripsBitExactly() {
        Random rnd = new Random(7);
        Map<String, Tensor> in = new LinkedHashMap<>();
        for (DType d : DType.values()) {
            // Random bit patterns include NaN payloads and subnormals, which must survive untouched.
            in.put("w." + d.safetensorsName(), randomTensor(rnd, d, 3, 5));
            in.put("scalar." + d.safetensorsName(), randomTensor(rnd, d));
            in.put("empty." + d.safetensorsName(), Tensor.zeros(d, 0, 4));
        }
        Path file = dir.resolve("all.safetensors");
        Safetensors.write(file, in, Map.of("format", "pt", "note", "π ≈ 3.14"));
        try (SafetensorsFile f = Safetensors.open(file)) {
            assertEquals(in.keySet().stream().sorted().toList(), f.names());
            assertEquals(Map.of("format", "pt", "note", "π ≈ 3.14"), f.metadata());
            Map<String, Tensor> out = f.readAll();
            assertEquals(f.names(), List.copyOf(out.keySet()), "readAll returns tensors in name order");
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                Tensor back = out.get(e.getKey());
                assertEquals(e.getValue().dtype(), back.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
                if (back.numel() > 0) { // Tensor.toBytes cannot export a zero-element tensor
                    assertArrayEquals(e.getValue().toBytes(), back.toBytes(), e.getKey());
                }
                assertEquals(e.getValue().dtype(), f.info(e.getKey()).dtype());
            }
        }
    }

    @Test
    void writerOutputMatchesTheSpecByteForByte() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        // Inserted out of order: the file must lay them out by name.
        tensors.put("b", Tensor.fromBytes(new byte[] {1, 2, 3}, DType.UINT8, 3));
        tensors.put("a", Tensor.of(new float[] {1.0f, -2.0f}, 2));
        Path file = dir.resolve("spec.safetensors");
        Safetensors.write(file, tensors, Map.of("note", "hi!"));

        String json = "{\"__metadata__\":{\"note\":\"hi!\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]}}";
        assertEquals(137, json.length());
        byte[] expected = new byte[8 + 144 + 11];
        expected[0] = (byte) 144; // header length 144 = 137 bytes of JSON + 7 spaces, little-endian
        byte[] jsonBytes = json.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(jsonBytes, 0, expected, 8, 137);
        for (int i = 8 + 137; i < 8 + 144; i++) {
            expected[i] = ' ';
        }
        byte[] data = {
            0x00, 0x00, (byte) 0x80, 0x3F, // 1.0f
            0x00, 0x00, 0x00, (byte) 0xC0, // -2.0f
            1, 2, 3,
        };
        System.arraycopy(data, 0, expected, 152, data.length);
        assertArrayEquals(expected, Files.readAllBytes(file));
    }

    @Test
    void readsAHandmadeFileWithUnpaddedHeaderAndAnyKeyOrder() throws IOException {
        byte[] data = ByteBuffer.allocate(4 + 16).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(-7).putLong(Long.MIN_VALUE).putDouble(0.5).array();
        Path file = handmade("hand.safetensors",
                "{\"y\":{\"data_offsets\":[4,20],\"shape\":[2],\"dtype\":\"I64\"},"
                        + "\"x\":{\"shape\":[],\"dtype\":\"I32\",\"data_offsets\":[0,4]}}",
                Arrays2.concat(data));
        // y is declared as I64 [2] but holds a long then a double's bits: read as raw int64s.
        try (SafetensorsFile f = Safetensors.open(file)) {
            assertEquals(List.of("x", "y"), f.names());
            assertEquals(Map.of(), f.metadata());
            assertEquals(new TensorInfo("x", DType.INT32, new long[0], 0, 4), f.info("x"));
            assertEquals(-7.0, f.read("x").item());
            assertArrayEquals(new long[] {Long.MIN_VALUE, Double.doubleToRawLongBits(0.5)}, f.read("y").toLongArray());
        }
    }

    @Test
    void writerChunkingProducesIdenticalFiles() throws IOException {
        Random rnd = new Random(3);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("odd", randomTensor(rnd, DType.FLOAT32, 37));
        tensors.put("bf", randomTensor(rnd, DType.BFLOAT16, 5, 3));
        // A transposed view is not contiguous; it must be written in row-major order of the view.
        tensors.put("view", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).t());
        Path whole = dir.resolve("whole.safetensors");
        Path chunked = dir.resolve("chunked.safetensors");
        Safetensors.write(whole, tensors, null);
        Safetensors.write(chunked, tensors, null, 3);
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(chunked));
        try (SafetensorsFile f = Safetensors.open(chunked)) {
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, f.read("view").toFloatArray());
            assertArrayEquals(tensors.get("odd").toBytes(), f.read("odd").toBytes());
        }
    }

    @Test
    void readerChunkingCopiesEveryRegion() {
        Random rnd = new Random(5);
        Tensor a = randomTensor(rnd, DType.FLOAT64, 7, 3); // 168 bytes: not a multiple of the chunk
        Tensor b = randomTensor(rnd, DType.INT8, 11);
        Path file = dir.resolve("c.safetensors");
        Safetensors.write(file, Map.of("a", a, "b", b), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(file, 5)) {
            assertArrayEquals(a.toBytes(), f.read("a").toBytes());
            assertArrayEquals(b.toBytes(), f.read("b").toBytes());
        }
    }

    @Test
    void rejectsTheReservedMetadataNameAsATensorName() {
        Path file = dir.resolve("bad.safetensors");
        DiffusionException e = assertThrows(DiffusionException.class,
                () -> Safetensors.write(file, Map.of("__metadata__", Tensor.ones(1)), null));
        assertTrue(e.getMessage().contains("reserved"), e.getMessage());
        assertFalse(Files.exists(file));
    }

    // ------------------------------------------------------------------ corruption

    private Path handmade(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    private static String failure(Path file) {
        DiffusionException e = assertThrows(DiffusionException.class, () -> Safetensors.open(file).close());
        assertTrue(e.getMessage().startsWith(file.toString()), "message must name the file: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    @Test
    void rejectsFilesShorterThanTheLengthPrefix() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertMentions(failure(file), "too short", "3 bytes", "re-download or re-save");
    }

    @Test
    void rejectsHugeHeaderLengths() throws IOException {
        Path file = dir.resolve("huge.safetensors");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(200_000_000L).array());
        assertMentions(failure(file), "200000000", "100 MB limit");
        Path negative = dir.resolve("negative.safetensors");
        Files.write(negative, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array());
        assertMentions(failure(negative), "18446744073709551615", "100 MB limit");
    }

    @Test
    void rejectsHeaderLengthPastEndOfFile() throws IOException {
        Path file = dir.resolve("past.safetensors");
        Files.write(file, ByteBuffer.allocate(8 + 10).order(ByteOrder.LITTLE_ENDIAN).putLong(4096).array());
        assertMentions(failure(file), "is truncated", "4096", "only 10", "incomplete");
    }

    @Test
    void rejectsInvalidJsonAndNonObjects() throws IOException {
        assertMentions(failure(handmade("j1.safetensors", "{\"a\":", new byte[0])), "not valid JSON", "line 1");
        assertMentions(failure(handmade("j2.safetensors", "[1,2]", new byte[0])), "not a JSON object");
        assertMentions(failure(handmade("j3.safetensors", "        ", new byte[0])), "not a JSON object");
        assertMentions(failure(handmade("j4.safetensors", "{} {}", new byte[0])), "not valid JSON");
        assertMentions(failure(handmade("j5.safetensors",
                "{" + entry("a", "U8", "[1]", 0, 1) + "," + entry("a", "U8", "[1]", 1, 2) + "}", new byte[2])),
                "not valid JSON", "Duplicate field 'a'");
        assertMentions(failure(handmade("j6.safetensors", "{\"a\":[1]}", new byte[0])), "tensor 'a'", "instead of an object");
    }

    @Test
    void rejectsUnknownDtypes() throws IOException {
        Path file = handmade("dt.safetensors", "{" + entry("w", "F8_E4M3", "[2]", 0, 2) + "}", new byte[2]);
        assertMentions(failure(file), "tensor 'w'", "'F8_E4M3'", "does not support", "BF16", "convert");
        Path missing = handmade("dt2.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]);
        assertMentions(failure(missing), "tensor 'w'", "no dtype");
    }

    @Test
    void rejectsBadShapes() throws IOException {
        assertMentions(failure(handmade("s1.safetensors", "{" + entry("w", "F32", "[2,-1]", 0, 0) + "}", new byte[0])),
                "tensor 'w'", "negative dimension", "[2, -1]");
        assertMentions(failure(handmade("s2.safetensors", "{" + entry("w", "F32", "[1.5]", 0, 4) + "}", new byte[4])),
                "tensor 'w'", "shape", "not an array of integers");
        assertMentions(failure(handmade("s3.safetensors", "{" + entry("w", "F32", "\"2x2\"", 0, 16) + "}", new byte[16])),
                "shape", "not an array of integers");
        assertMentions(failure(handmade("s4.safetensors",
                "{" + entry("w", "F64", "[4294967296,4294967296]", 0, 8) + "}", new byte[8])), "impossibly large shape");
    }

    @Test
    void rejectsBadOffsets() throws IOException {
        assertMentions(failure(handmade("o1.safetensors", "{" + entry("w", "U8", "[0]", 4, 2) + "}", new byte[4])),
                "tensor 'w'", "[4, 2]", "end comes before its begin");
        assertMentions(failure(handmade("o2.safetensors", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}",
                new byte[1])), "data_offsets", "not an array of 2 integers");
        assertMentions(failure(handmade("o3.safetensors", "{" + entry("w", "U8", "[0]", -1, -1) + "}", new byte[0])),
                "negative data_offsets");
    }

    @Test
    void rejectsSizeMismatchBetweenShapeAndOffsets() throws IOException {
        Path file = handmade("m.safetensors", "{" + entry("w", "F32", "[2,3]", 0, 20) + "}", new byte[20]);
        assertMentions(failure(file), "tensor 'w'", "F32 [2, 3], 24 bytes", "span 20 bytes");
    }

    @Test
    void rejectsOffsetsPastTheDataBuffer() throws IOException {
        Path file = handmade("p.safetensors", "{" + entry("a", "U8", "[8]", 0, 8) + "," + entry("b", "F32", "[1022]", 8, 4096) + "}",
                new byte[1000]);
        assertMentions(failure(file), "is truncated: header says 4096 data bytes but file has 1000", "re-download or re-save");
    }

    @Test
    void rejectsOverlapsHolesAndTrailingBytes() throws IOException {
        Path overlap = handmade("ov.safetensors", "{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "U8", "[4]", 2, 6) + "}",
                new byte[6]);
        assertMentions(failure(overlap), "overlapping tensors 'a' [0, 4) and 'b' [2, 6)");
        Path hole = handmade("hole.safetensors", "{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "U8", "[4]", 6, 10) + "}",
                new byte[10]);
        assertMentions(failure(hole), "hole", "[4, 6)", "tensor 'b'");
        Path late = handmade("late.safetensors", "{" + entry("a", "U8", "[4]", 2, 6) + "}", new byte[6]);
        assertMentions(failure(late), "hole", "[0, 2)");
        Path trailing = handmade("trail.safetensors", "{" + entry("a", "U8", "[4]", 0, 4) + "}", new byte[9]);
        assertMentions(failure(trailing), "5 bytes after the last tensor");
    }

    @Test
    void rejectsNonStringMetadata() throws IOException {
        Path file = handmade("md.safetensors", "{\"__metadata__\":{\"epoch\":3}}", new byte[0]);
        assertMentions(failure(file), "metadata 'epoch'", "not a string");
        Path notObject = handmade("md2.safetensors", "{\"__metadata__\":\"x\"}", new byte[0]);
        assertMentions(failure(notObject), "__metadata__", "not a JSON object");
    }

    @Test
    void unknownTensorNameSaysWhatTheFileHolds() {
        Path file = dir.resolve("n.safetensors");
        Safetensors.write(file, Map.of("alpha", Tensor.ones(1), "beta", Tensor.ones(2)), null);
        try (SafetensorsFile f = Safetensors.open(file)) {
            DiffusionException e = assertThrows(DiffusionException.class, () -> f.read("gamma"));
            assertMentions(e.getMessage(), file.toString(), "no tensor 'gamma'", "2 tensor(s): alpha, beta");
        }
    }

    @Test
    void missingFileIsReportedClearly() {
        Path file = dir.resolve("nope.safetensors");
        DiffusionException e = assertThrows(DiffusionException.class, () -> Safetensors.open(file));
        assertMentions(e.getMessage(), file.toString(), "does not exist");
    }

    @Test
    void detectsATruncatedRealFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Safetensors.write(file, Map.of("w", Tensor.ones(64, 16)), Map.of("step", "10"));
        long size = Files.size(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size - 1000);
        }
        assertMentions(failure(file), "is truncated: header says 4096 data bytes but file has 3096", "incomplete");
    }

    @Test
    void detectsAFileThatShrinksWhileOpen() throws IOException {
        Path file = dir.resolve("live.safetensors");
        Safetensors.write(file, Map.of("w", Tensor.ones(1024)), null);
        try (SafetensorsFile f = Safetensors.open(file)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(100);
            }
            DiffusionException e = assertThrows(DiffusionException.class, () -> f.read("w"));
            assertMentions(e.getMessage(), "changed size on disk");
        }
    }

    // ------------------------------------------------------------------ beyond 2 GiB

    @Test
    void readsTensorsBeyondTwoGibibytesFromASparseFile() throws IOException {
        long big = 2_200_000_000L;
        String header = "{" + entry("big", "U8", "[" + big + "]", 0, big) + "," + entry("small", "F32", "[4]", big, big + 16) + "}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + h.length;
        long marker = 2_150_000_000L; // inside "big", past 2^31
        Path file = dir.resolve("sparse.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            // Unwritten ranges read as zeros and take no disk space on sparse-capable file systems.
            raf.setLength(dataStart + big + 16);
            raf.seek(dataStart + marker);
            raf.write(0x7F);
            raf.seek(dataStart + big);
            raf.write(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                    .putFloat(1.5f).putFloat(-2f).putFloat(1e-8f).putFloat(Float.MAX_VALUE).array());
        }
        assertTrue(big + 16 > Integer.MAX_VALUE && big > 1L << 31);
        for (int chunk : new int[] {Safetensors.READ_CHUNK, 6}) {
            try (SafetensorsFile f = SafetensorsFile.open(file, chunk)) {
                assertEquals(List.of("big", "small"), f.names());
                TensorInfo info = f.info("big");
                assertArrayEquals(new long[] {big}, info.shape());
                assertEquals(big, info.byteCount());
                assertEquals(big, info.numel());
                assertArrayEquals(new float[] {1.5f, -2f, 1e-8f, Float.MAX_VALUE}, f.read("small").toFloatArray());
                ByteBuffer head = f.rawBytes("big", 0, 16);
                for (int i = 0; i < 16; i++) {
                    assertEquals(0, head.get(i));
                }
                ByteBuffer around = f.rawBytes("big", marker - 1, 3);
                assertEquals(0, around.get(0));
                assertEquals(0x7F, around.get(1));
                assertEquals(0, around.get(2));
                assertEquals(0, f.rawBytes("big", big - 1, 1).get(0));
                assertThrows(IndexOutOfBoundsException.class, () -> f.rawBytes("big", big - 1, 2));
            }
        }
    }

    /** Discards what is written but remembers the bytes at a few absolute positions. */
    private static final class Probe implements WritableByteChannel {
        final long[] watch;
        final byte[] seen;
        long position;

        Probe(long... watch) {
            this.watch = watch;
            this.seen = new byte[watch.length];
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            for (int i = 0; i < watch.length; i++) {
                if (watch[i] >= position && watch[i] < position + n) {
                    seen[i] = src.get(src.position() + (int) (watch[i] - position));
                }
            }
            src.position(src.limit());
            position += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void streamsTensorDataPastTwoGibibytes() throws IOException {
        long physical = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        Assumptions.assumeTrue(physical >= 8L << 30, "needs a machine with at least 8 GiB of memory");
        long twoGiB = 1L << 31;
        long n = twoGiB + 40;
        try (Scope local = Scope.open()) {
            Tensor big = Tensor.zeros(DType.UINT8, n);
            big.narrow(0, twoGiB - 1, 2).fill_(9); // straddles the 2 GiB boundary
            big.narrow(0, n - 1, 1).fill_(5);
            Tensor after = Tensor.of(new float[] {1.5f}, 1);
            Probe probe = new Probe(twoGiB - 2, twoGiB - 1, twoGiB, twoGiB + 1, n - 1, n + 2, n + 3);
            long written = Safetensors.streamData(List.of(big, after), probe, Safetensors.WRITE_CHUNK);
            assertEquals(n + 4, written);
            assertEquals(n + 4, probe.position);
            // 1.5f is 0x3FC00000: little-endian bytes 00 00 C0 3F.
            assertArrayEquals(new byte[] {0, 9, 9, 0, 5, (byte) 0xC0, 0x3F}, probe.seen);
        }
    }

    /** Tiny helper so handmade data reads as a list of parts. */
    private static final class Arrays2 {
        static byte[] concat(byte[]... parts) {
            return Stream.of(parts).reduce(new byte[0], (a, b) -> {
                byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, out, a.length, b.length);
                return out;
            });
        }
    }
}
