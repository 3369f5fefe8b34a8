package dev.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvDatasetTest {

    @TempDir
    Path dir;

    private Path file(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    private static float[] values(CsvDataset ds) {
        try (Scope s = Scope.open()) {
            Tensor t = ds.tensor();
            assertEquals(DType.FLOAT32, t.dtype());
            assertArrayEquals(new long[] {ds.rows(), ds.dim()}, t.shape());
            return t.toFloatArray();
        }
    }

    private String error(String name, String content) throws IOException {
        Path p = file(name, content);
        return assertThrows(DiffusionException.class, () -> CsvDataset.read(p)).getMessage();
    }

    @Test
    void aLabelColumnBecomesClassesNamedByTheirValues() throws IOException {
        // the data columns carry the label (a = 10·label, b = −label) so rows and labels can be checked together
        StringBuilder csv = new StringBuilder("a,kind,b\n");
        int[] kinds = {7, 3, 7, 12, 3, 7};
        for (int k : kinds) {
            csv.append(10 * k).append(',').append(k).append(',').append(-k).append('\n');
        }
        CsvDataset table = CsvDataset.read(file("labelled.csv", csv.toString()));
        CsvDataset labelled = table.withLabelColumn("kind");
        assertEquals(2, labelled.dim());
        assertEquals(java.util.List.of("a", "b"), labelled.columnNames());
        assertEquals(java.util.List.of("3", "7", "12"), labelled.classNames());
        assertEquals(3, labelled.numClasses());
        assertEquals(0, table.numClasses());
        assertEquals(labelled.classNames(), table.withLabelColumn("1").classNames(), "by index too");
        try (Scope s = Scope.open()) {
            DataSource.Labeled b = labelled.sampleLabeled(new dev.diffusion4j.tensor.Generator(3), 50);
            float[] x = b.items().toFloatArray();
            long[] y = b.labels().toLongArray();
            java.util.Set<Long> seen = new java.util.HashSet<>();
            for (int i = 0; i < 50; i++) {
                long value = Long.parseLong(labelled.classNames().get((int) y[i]));
                assertEquals(10f * value, x[2 * i], "row " + i);
                assertEquals(-value, x[2 * i + 1], 0f);
                seen.add(y[i]);
            }
            assertEquals(3, seen.size());
            assertArrayEquals(labelled.sample(new dev.diffusion4j.tensor.Generator(3), 50).toFloatArray(), x,
                    "the same draws as unlabelled sampling");
        }
        assertTrue(assertThrows(DiffusionException.class, () -> table.withLabelColumn("nope")).getMessage().contains("a, kind, b"));
        assertTrue(assertThrows(DiffusionException.class, () -> CsvDataset.read(file("f.csv", "x,c\n1,0.5\n2,1\n"))
                .withLabelColumn("c")).getMessage().contains("must be integers"));
        assertTrue(assertThrows(DiffusionException.class, () -> CsvDataset.read(file("one.csv", "x,c\n1,2\n2,2\n"))
                .withLabelColumn("c")).getMessage().contains("single value"));
        assertThrows(DiffusionException.class, () -> table.sampleLabeled(new dev.diffusion4j.tensor.Generator(0), 2));
    }

    @Test
    void readsHeaderCommentsBlankLinesCrlfAndByteOrderMark() throws IOException {
        Path p = file("points.csv", "\uFEFF# two columns\r\nx, y\r\n\r\n1.5,-2\r\n  # indented comment\r\n3e2 , .25\r\n-0.0,+7\r\n");
        CsvDataset ds = CsvDataset.read(p);
        assertEquals(List.of("x", "y"), ds.columnNames());
        assertEquals(3, ds.rows());
        assertEquals(2, ds.dim());
        assertEquals("points.csv", ds.name());
        assertArrayEquals(new float[] {1.5f, -2f, 300f, 0.25f, -0.0f, 7f}, values(ds));
    }

    @Test
    void readsHeaderlessSemicolonTabSingleColumnAndQuotedFiles() throws IOException {
        CsvDataset plain = CsvDataset.read(file("a.csv", "1,2,3\n4,5,6\n"));
        assertEquals(List.of("col0", "col1", "col2"), plain.columnNames());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, values(plain));

        CsvDataset semi = CsvDataset.read(file("b.csv", "a;b\n1;2\n3;4\n"));
        assertEquals(List.of("a", "b"), semi.columnNames());
        assertArrayEquals(new float[] {1, 2, 3, 4}, values(semi));

        CsvDataset tab = CsvDataset.read(file("c.csv", "1\t2\n3\t4\n"));
        assertArrayEquals(new float[] {1, 2, 3, 4}, values(tab));

        CsvDataset single = CsvDataset.read(file("d.csv", "value\n1\n2\n3\n"));
        assertEquals(List.of("value"), single.columnNames());
        assertArrayEquals(new float[] {1, 2, 3}, values(single));

        CsvDataset quoted = CsvDataset.read(file("e.csv", "\"x\",\"y\"\n\"1\",\"2\"\n"));
        assertEquals(List.of("x", "y"), quoted.columnNames());
        assertArrayEquals(new float[] {1, 2}, values(quoted));
    }

    @Test
    void wrongColumnCountNamesFileAndOneBasedLine() throws IOException {
        StringBuilder sb = new StringBuilder("x,y\n");
        for (int i = 2; i < 17; i++) {
            sb.append(i % 4 == 0 ? "\n" : i + "," + i + "\n");
        }
        sb.append("1,2,3\n");
        String msg = error("bad.csv", sb.toString());
        assertTrue(msg.startsWith(dir.resolve("bad.csv") + ": line 17 has 3 values, expected 2"), msg);
        // A semicolon row in a comma file is one value, not two.
        assertTrue(error("mixed.csv", "1,2\n3;4\n").contains("line 2 has 1 values, expected 2"));
    }

    @Test
    void rejectsNonNumericNonFiniteEmptyAndOutOfRangeValues() throws IOException {
        assertTrue(error("n.csv", "x,y\n1,2\n3,abc\n").endsWith("n.csv: line 3, column 2: 'abc' is not a number"));
        assertTrue(error("f.csv", "1,2\n3,4f\n").contains("line 2, column 2: '4f' is not a number"));
        assertTrue(error("nan.csv", "x,y\n1,NaN\n").contains("line 2, column 2 is 'NaN' (NaN or infinite)"));
        assertTrue(error("inf.csv", "# c\n1,2\n-inf,2\n").contains("line 3, column 1 is '-inf' (NaN or infinite)"));
        assertTrue(error("big.csv", "1,2\n1e39,2\n").contains("line 2, column 1: 1e39 is too large for float32"));
        assertTrue(error("gap.csv", "1,2\n3,\n").contains("line 2, column 2 is empty"));
        // A first row of NaN is data (numeric), hence an error, not a header.
        assertTrue(error("nanfirst.csv", "nan,1\n2,3\n").contains("line 1, column 1 is 'nan'"));
    }

    @Test
    void rejectsEmptyHeaderOnlyMissingDirectoryAndBinaryFiles() throws IOException {
        assertTrue(error("empty.csv", "").endsWith("empty.csv is empty: it has no data rows"));
        assertTrue(error("comments.csv", "# nothing\n\n   \n").contains("is empty"));
        assertTrue(error("header.csv", "x,y\n\n").endsWith("header.csv has a header but no data rows"));
        Path missing = dir.resolve("missing.csv");
        assertEquals("cannot read " + missing + ": the file does not exist",
                assertThrows(DiffusionException.class, () -> CsvDataset.read(missing)).getMessage());
        Path sub = Files.createDirectory(dir.resolve("sub.csv"));
        assertTrue(assertThrows(DiffusionException.class, () -> CsvDataset.read(sub)).getMessage().contains("is a directory"));
        Path bin = dir.resolve("bin.csv");
        Files.write(bin, new byte[] {'1', ',', (byte) 0xC3, (byte) 0x28, '\n'});
        assertTrue(assertThrows(DiffusionException.class, () -> CsvDataset.read(bin)).getMessage().contains("not UTF-8"));
    }

    @Test
    void writeThenReadIsBitExactForFloat32() {
        Path p = dir.resolve("nested/out.csv");
        float[] data = {1f / 3, -1e-30f, 3.4e38f, 0f, -0f, 1.17549435e-38f, 1.4e-45f, 123456.79f, (float) Math.PI, 2.5f, -7f, 1e7f};
        try (Scope s = Scope.open()) {
            CsvDataset.write(p, Tensor.of(data, 4, 3), new String[] {"a", "b", "c"});
        }
        CsvDataset ds = CsvDataset.read(p);
        assertEquals(List.of("a", "b", "c"), ds.columnNames());
        float[] back = values(ds);
        for (int i = 0; i < data.length; i++) {
            assertEquals(Float.floatToRawIntBits(data[i]), Float.floatToRawIntBits(back[i]), "value " + i + ": " + data[i]);
        }
        Path noHeader = dir.resolve("nohead.csv");
        try (Scope s = Scope.open()) {
            CsvDataset.write(noHeader, Tensor.of(new double[] {0.1, 2}, 1, 2), null);
        }
        assertEquals(List.of("col0", "col1"), CsvDataset.read(noHeader).columnNames());
        assertArrayEquals(new float[] {0.1f, 2f}, values(CsvDataset.read(noHeader)));
    }

    @Test
    void writeReplacesAnExistingFileAndRejectsBadInput() throws IOException {
        Path p = file("old.csv", "x\n1\n2\n3\n");
        try (Scope s = Scope.open()) {
            CsvDataset.write(p, Tensor.of(new float[] {5, 6}, 1, 2), new String[] {"u", "v"});
            assertEquals("u,v\n5.0,6.0\n", Files.readString(p));

            Tensor nan = Tensor.of(new float[] {1, Float.NaN}, 1, 2);
            assertTrue(assertThrows(DiffusionException.class, () -> CsvDataset.write(p, nan, null)).getMessage()
                    .contains("row 0, column 1 is NaN"));
            Tensor ok = Tensor.of(new float[] {1, 2}, 1, 2);
            assertThrows(DiffusionException.class, () -> CsvDataset.write(p, ok, new String[] {"a"}));
            assertTrue(assertThrows(DiffusionException.class, () -> CsvDataset.write(p, ok, new String[] {"1", "2"})).getMessage()
                    .contains("only of numbers"));
            assertThrows(DiffusionException.class, () -> CsvDataset.write(p, ok, new String[] {"a,b", "c"}));
            assertThrows(DiffusionException.class, () -> CsvDataset.write(p, Tensor.zeros(2, 2, 2), null));
        }
        assertEquals("u,v\n5.0,6.0\n", Files.readString(p), "a rejected write must leave the file untouched");
    }

    @Test
    void failedWriteLeavesNoTemporaryFile() throws IOException {
        Path target = Files.createDirectory(dir.resolve("taken.csv"));
        Files.writeString(target.resolve("inside"), "keep");
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.of(new float[] {1, 2}, 1, 2);
            String msg = assertThrows(DiffusionException.class, () -> CsvDataset.write(target, t, null)).getMessage();
            assertTrue(msg.startsWith("could not write " + target), msg);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("taken.csv"), files.map(f -> f.getFileName().toString()).toList());
        }
        assertEquals("keep", Files.readString(target.resolve("inside")));
    }

    @Test
    void samplesRowsWithReplacementDeterministicallyBySeed() throws IOException {
        StringBuilder sb = new StringBuilder("i,twice\n");
        for (int i = 0; i < 5; i++) {
            sb.append(i).append(',').append(2 * i).append('\n');
        }
        CsvDataset ds = CsvDataset.read(file("rows.csv", sb.toString()));
        try (Scope s = Scope.open()) {
            Tensor a = ds.sample(new Generator(3), 400);
            assertTrue(a.equal(ds.sample(new Generator(3), 400)));
            assertFalse(a.equal(ds.sample(new Generator(4), 400)));
            // 400 draws from 5 rows: only possible with replacement.
            assertArrayEquals(new long[] {400, 2}, a.shape());
            float[] v = a.toFloatArray();
            int[] counts = new int[5];
            for (int r = 0; r < 400; r++) {
                assertEquals(2 * v[2 * r], v[2 * r + 1], 0, "a sampled row must be a row of the file");
                counts[(int) v[2 * r]]++;
            }
            // 400 draws from 5 rows: each about 80 (sd 8); a sampler stuck on some rows fails.
            for (int c : counts) {
                assertTrue(c > 40 && c < 120, "row frequencies " + java.util.Arrays.toString(counts));
            }
            Tensor all = ds.all().orElseThrow();
            assertTrue(all.equal(ds.tensor()));
            assertEquals(5, all.size(0));
        }
    }
}
