package dev.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.ClassifierTraining;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped Fashion-MNIST classifier, classifier training, and classifier files. */
class ImageClassifierTest {
    @TempDir
    Path dir;

    @Test
    void builtInClassifierIsAbove90PercentOnTheTestSplit() {
        ImageDataset test = ImageDatasets.fashionMnistTest();
        ImageClassifier c = ImageClassifier.fashionMnist();
        assertEquals("1x28x28", c.config().inputShape());
        assertEquals(ImageDatasets.FASHION_MNIST_CLASSES, c.config().classNames());
        try (Scope s = Scope.open()) {
            double accuracy = c.accuracy(test.all().orElseThrow(), test.labels());
            assertTrue(accuracy >= 0.90, "test accuracy " + accuracy);
        }
        assertTrue(ImageClassifier.builtIn(3, 28, 28).isEmpty());
        assertTrue(ImageClassifier.builtIn(1, 32, 32).isEmpty());
    }

    @Tag("quality")
    @Test
    void shortTrainingLearnsAndSurvivesASaveLoadRoundTrip() throws Exception {
        ImageDataset all = ImageDatasets.fashionMnistTest();
        ImageDataset train = all.subset(IntStream.range(0, 8000).toArray(), " (train part)").withFlip(true);
        ImageDataset held = all.subset(IntStream.range(8000, 10000).toArray(), " (held out)");
        ImageClassifier c = ClassifierTraining.train(train, ClassifierTraining.Options.defaults().withSteps(150).withBatchSize(64),
                (step, total, loss) -> assertTrue(Double.isFinite(loss)));
        Path file = dir.resolve("c/classifier.safetensors");
        c.save(file);
        ImageClassifier back = ImageClassifier.load(dir.resolve("c"));
        assertEquals(c.config(), back.config());
        try (Scope s = Scope.open()) {
            Tensor x = held.all().orElseThrow();
            double accuracy = c.accuracy(x, held.labels());
            assertTrue(accuracy > 0.60, "150 steps reach well above chance (0.1): " + accuracy);
            Tensor a = c.classify(x.narrow(0, 0, 50));
            assertTrue(a.equal(back.classify(x.narrow(0, 0, 50))), "loaded weights give identical logits");
            DiffusionException wrong = assertThrows(DiffusionException.class, () -> c.features(Tensor.zeros(2, 3, 28, 28)));
            assertTrue(wrong.getMessage().contains("reads 1x28x28"), wrong.getMessage());
        }
    }

    @Test
    void badClassifierFilesAreRefused() throws Exception {
        DiffusionException missing = assertThrows(DiffusionException.class, () -> ImageClassifier.load(dir));
        assertTrue(missing.getMessage().contains("train a classifier into it"), missing.getMessage());
        Path truncated = dir.resolve("t.safetensors");
        Files.write(truncated, new byte[] {1, 2, 3});
        assertThrows(DiffusionException.class, () -> ImageClassifier.load(truncated));
        Path other = dir.resolve("other.safetensors");
        try (Scope s = Scope.open()) {
            Safetensors.write(other, Map.of("w", Tensor.zeros(2)), Map.of());
        }
        DiffusionException notOne = assertThrows(DiffusionException.class, () -> ImageClassifier.load(other));
        assertTrue(notOne.getMessage().contains("not a diffusion4j image classifier"), notOne.getMessage());
        assertThrows(DiffusionException.class, () -> ImageClassifier.Config.of(2, 28, java.util.List.of("a", "b"), "x"));
        assertNotNull(new ImageClassifier(ImageClassifier.Config.of(1, 16, java.util.List.of("a", "b"), "x"), new Generator(0)));
    }
}
