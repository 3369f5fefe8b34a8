package dev.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.NpyReaderTest;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDatasetsTest {

    @Test
    void shippedFashionMnistTestSplit() {
        ImageDataset d = ImageDatasets.fashionMnistTest();
        assertEquals("fashion-mnist-test", d.name());
        assertEquals(10_000, d.size());
        assertArrayEquals(new long[] {1, 28, 28}, d.itemShape());
        assertEquals(784, d.dim());
        assertEquals(10, d.numClasses());
        assertEquals("Ankle boot", d.classNames().get(d.label(0)));
        assertEquals(9, d.label(0));
        int[] perClass = new int[10];
        for (int i = 0; i < d.size(); i++) {
            perClass[d.label(i)]++;
        }
        for (int c = 0; c < 10; c++) {
            assertEquals(1000, perClass[c], "class " + c);
        }
        assertFalse(d.flips());
        try (Scope s = Scope.open()) {
            // The published mean pixel of Fashion-MNIST is 72.94 (of 255); the test split's is
            // close to it (0.2868 of 255 = 73.1).
            double mean = d.pixels().to(dev.diffusion4j.tensor.DType.FLOAT64).mean().item();
            assertEquals(72.94, mean, 1.0);
            assertEquals(0.2868, mean / 255, 0.003);
            Tensor all = d.all().orElseThrow();
            assertArrayEquals(new long[] {10_000, 1, 28, 28}, all.shape());
            assertEquals(-1, all.amin().item(), 0);
            assertEquals(1, all.amax().item(), 0);
        }
        assertTrue(ImageDatasets.find("Fashion-MNIST-Test").isPresent());
        assertEquals(List.of("fashion-mnist", "fashion-mnist-test", "emoji", "emoji-google", "emoji-twitter", "emoji-test",
                "emoji-google-test", "emoji-twitter-test"), ImageDatasets.names());
    }

    @Test
    void fashionMnistShoesAllFaceOneWaySoFlipIsOffByDefault() {
        // The reason flip defaults to off: the class-mean images of sandals (5), sneakers (7) and
        // ankle boots (9) hold far more ink in one half than the other, while the symmetric classes
        // (T-shirt 0, trouser 1, dress 3, bag 8) are balanced within 10%.
        ImageDataset d = ImageDatasets.fashionMnistTest();
        byte[] px = d.pixelBytes();
        double[] left = new double[10];
        double[] right = new double[10];
        for (int i = 0; i < d.size(); i++) {
            for (int p = 0; p < 784; p++) {
                int v = px[i * 784 + p] & 0xff;
                if (p % 28 < 14) {
                    left[d.label(i)] += v;
                } else {
                    right[d.label(i)] += v;
                }
            }
        }
        for (int shoe : new int[] {5, 7, 9}) {
            assertTrue(left[shoe] / right[shoe] < 0.7, "class " + shoe + ": " + left[shoe] / right[shoe]);
        }
        for (int symmetric : new int[] {0, 1, 3, 8}) {
            assertEquals(1, left[symmetric] / right[symmetric], 0.1, "class " + symmetric);
        }
        assertFalse(((ImageDataset) DataSources.open("fashion-mnist", ImageOptions.NATIVE)).flips());
    }

    @Test
    void fashionMnistPrefersTheInstalledTrainSplit(@TempDir Path dir) throws IOException {
        // A fake "train split" of three 28×28 images proves which directory was read.
        byte[] images = new byte[16 + 3 * 784];
        System.arraycopy(new byte[] {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28}, 0, images, 0, 16);
        Files.write(dir.resolve("train-images-idx3-ubyte"), images);
        Files.write(dir.resolve("train-labels-idx1-ubyte"), new byte[] {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3});

        ImageDataset fromEnv = ImageDatasets.fashionMnist(dir.toString(), dir.resolve("nowhere"));
        assertEquals("fashion-mnist", fromEnv.name());
        assertEquals(3, fromEnv.size());
        assertTrue(fromEnv.description().startsWith("fashion-mnist: 3 images 1x28x28, 10 classes (train split"), fromEnv.description());

        ImageDataset fromSystem = ImageDatasets.fashionMnist(null, dir);
        assertEquals(3, fromSystem.size());

        ImageDataset fallback = ImageDatasets.fashionMnist(null, dir.resolve("nowhere"));
        assertEquals("fashion-mnist", fallback.name());
        assertEquals(10_000, fallback.size());
        assertTrue(fallback.description().contains("test split"), fallback.description());

        DiffusionException e = assertThrows(DiffusionException.class,
                () -> ImageDatasets.fashionMnist(dir.resolve("nowhere").toString(), dir));
        assertTrue(e.getMessage().contains(ImageDatasets.FASHION_MNIST_ENV), e.getMessage());
    }

    @Test
    void systemTrainSplitWhenInstalled() {
        assumeTrue(Files.isRegularFile(ImageDatasets.SYSTEM_FASHION_MNIST.resolve("train-images-idx3-ubyte.gz")),
                "Debian package dataset-fashion-mnist is not installed");
        ImageDataset d = ImageDatasets.fashionMnist(null, ImageDatasets.SYSTEM_FASHION_MNIST);
        assertEquals(60_000, d.size());
        assertEquals(10, d.numClasses());
        try (Scope s = Scope.open()) {
            assertArrayEquals(new long[] {128, 1, 28, 28}, d.sample(new Generator(0), 128).shape());
        }
    }

    private static int px(ImageDataset d, int n, int c, int y, int x) {
        return d.pixelBytes()[((n * d.channels() + c) * d.height() + y) * d.width() + x] & 0xff;
    }

    @Test
    void npyLayoutsAndValueRanges(@TempDir Path dir) throws IOException {
        // One RGB image 2×2; channel c at (y, x) holds level 10·c + 2·y + x (+ 100 to stay clear of 0).
        byte[] nchw = new byte[12];
        byte[] nhwc = new byte[12];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 2; x++) {
                    byte v = (byte) (100 + 10 * c + 2 * y + x);
                    nchw[c * 4 + y * 2 + x] = v;
                    nhwc[(y * 2 + x) * 3 + c] = v;
                }
            }
        }
        Path a = Files.write(dir.resolve("nchw.npy"), NpyReaderTest.npy(1, "|u1", false, "(1, 3, 2, 2)", nchw));
        Path b = Files.write(dir.resolve("nhwc.npy"), NpyReaderTest.npy(1, "|u1", false, "(1, 2, 2, 3)", nhwc));
        ImageDataset da = ImageDatasets.fromNpy(a);
        ImageDataset db = ImageDatasets.fromNpy(b);
        assertArrayEquals(new long[] {3, 2, 2}, da.itemShape());
        assertArrayEquals(nchw, da.pixelBytes());
        assertArrayEquals(nchw, db.pixelBytes(), "channels-last is transposed to channels-first");

        // Float ranges: [0, 1] → ·255, [−1, 1] → (x+1)·127.5, [0, 255] as is.
        double[][] cases = {{0, 0.5, 1, 0.2}, {-1, 0, 1, 0.5}, {0, 128, 255, 3.6}};
        int[][] expected = {{0, 128, 255, 51}, {0, 128, 255, 191}, {0, 128, 255, 4}};
        for (int k = 0; k < cases.length; k++) {
            Path f = Files.write(dir.resolve("f" + k + ".npy"), NpyReaderTest.npy(1, k == 1 ? "<f8" : "<f4", false, "(1, 2, 2)",
                    NpyReaderTest.le(k == 1 ? 8 : 4, cases[k])));
            ImageDataset d = ImageDatasets.fromNpy(f);
            assertArrayEquals(new long[] {1, 2, 2}, d.itemShape());
            for (int i = 0; i < 4; i++) {
                assertEquals(expected[k][i], px(d, 0, 0, i / 2, i % 2), "case " + k + " value " + i);
            }
        }
        Path bad = Files.write(dir.resolve("bad.npy"), NpyReaderTest.npy(1, "<f4", false, "(1, 1, 2)", NpyReaderTest.le(4, -2, 3)));
        String m = assertThrows(DiffusionException.class, () -> ImageDatasets.fromNpy(bad)).getMessage();
        assertTrue(m.contains("values in [-2.0, 3.0]") && m.contains("[0, 1], [-1, 1] or [0, 255]"), m);

        Path bools = Files.write(dir.resolve("b.npy"), NpyReaderTest.npy(1, "|b1", false, "(1, 1, 2)", new byte[] {0, 1}));
        assertEquals(255, px(ImageDatasets.fromNpy(bools), 0, 0, 0, 1));
        ByteBuffer ints = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(7).putInt(300);
        Path big = Files.write(dir.resolve("i.npy"), NpyReaderTest.npy(1, "<i4", false, "(1, 1, 2)", ints.array()));
        m = assertThrows(DiffusionException.class, () -> ImageDatasets.fromNpy(big)).getMessage();
        assertTrue(m.contains("value 300.0") && m.contains("[0, 255]"), m);

        Path flat = Files.write(dir.resolve("flat.npy"), NpyReaderTest.npy(1, "|u1", false, "(2, 2)", new byte[4]));
        m = assertThrows(DiffusionException.class, () -> ImageDatasets.fromNpy(flat)).getMessage();
        assertTrue(m.contains("images must be [N, H, W]"), m);
    }

    @Test
    void dataSourcesDispatchesImageSources(@TempDir Path dir) throws IOException {
        DataSource resized = DataSources.open("fashion-mnist-test", new ImageOptions(32, 3, true));
        assertArrayEquals(new long[] {3, 32, 32}, resized.itemShape());
        assertTrue(((ImageDataset) resized).flips());
        assertEquals(10_000, ((ImageDataset) resized).size());

        // An MNIST-style directory: train- and t10k- pairs; the train images are chosen, with labels beside them.
        byte[] two = new byte[16 + 2 * 4];
        System.arraycopy(new byte[] {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2}, 0, two, 0, 16);
        byte[] one = new byte[16 + 4];
        System.arraycopy(new byte[] {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2}, 0, one, 0, 16);
        Path mnist = Files.createDirectories(dir.resolve("mnist"));
        Files.write(mnist.resolve("train-images-idx3-ubyte"), two);
        Files.write(mnist.resolve("train-labels-idx1-ubyte"), new byte[] {0, 0, 8, 1, 0, 0, 0, 2, 5, 6});
        Files.write(mnist.resolve("t10k-images-idx3-ubyte"), one);
        ImageDataset fromDir = (ImageDataset) DataSources.open(mnist.toString(), ImageOptions.NATIVE);
        assertEquals(2, fromDir.size());
        assertEquals(6, fromDir.label(1));
        assertFalse(fromDir.flips());
        ImageDataset fromFile = (ImageDataset) DataSources.open(mnist.resolve("t10k-images-idx3-ubyte").toString(), ImageOptions.NATIVE);
        assertEquals(1, fromFile.size());
        assertFalse(fromFile.hasLabels());
        Files.write(mnist.resolve("train-images-idx3-ubyte"), one);
        Files.write(mnist.resolve("x-images-idx3-ubyte"), one);
        Files.delete(mnist.resolve("train-images-idx3-ubyte"));
        String m = assertThrows(DiffusionException.class, () -> DataSources.open(mnist.toString(), ImageOptions.NATIVE)).getMessage();
        assertTrue(m.contains("several IDX image files"), m);

        Path npy = Files.write(dir.resolve("x.npy"), NpyReaderTest.npy(1, "|u1", false, "(3, 4, 4)", new byte[48]));
        assertArrayEquals(new long[] {1, 4, 4}, DataSources.open(npy.toString(), ImageOptions.NATIVE).itemShape());

        Path csv = Files.writeString(dir.resolve("t.csv"), "1,2\n3,4\n");
        assertEquals(2, DataSources.open(csv.toString(), ImageOptions.NATIVE).dim());
        assertEquals(2, DataSources.open("moons", ImageOptions.NATIVE).dim());
        m = assertThrows(DiffusionException.class, () -> DataSources.open(csv.toString(), new ImageOptions(28, null, null))).getMessage();
        assertTrue(m.contains("apply to image data only"), m);
        m = assertThrows(DiffusionException.class, () -> DataSources.open("fashion-mnist")).getMessage();
        assertTrue(m.contains("is image data"), m);
    }
}
