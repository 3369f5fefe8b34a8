package dev.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
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
        assertEquals(List.of("fashion-mnist", "fashion-mnist-test"), ImageDatasets.names());
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
        if (!Files.isRegularFile(ImageDatasets.SYSTEM_FASHION_MNIST.resolve("train-images-idx3-ubyte.gz"))) {
            return;
        }
        ImageDataset d = ImageDatasets.fashionMnist(null, ImageDatasets.SYSTEM_FASHION_MNIST);
        assertEquals(60_000, d.size());
        assertEquals(10, d.numClasses());
        try (Scope s = Scope.open()) {
            assertArrayEquals(new long[] {128, 1, 28, 28}, d.sample(new Generator(0), 128).shape());
        }
    }
}
