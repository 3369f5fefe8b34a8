package dev.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The image metrics under the built-in classifier tell real images, noise and a collapsed model
 * apart: held-out real images sit at the floor, noise is far off, a one-class "model" keeps its
 * precision but loses recall, coverage and Inception-style score.
 */
class ImageQualityTest {
    static ImageDataset reference;
    static ImageDataset heldOut;
    static ImageClassifier classifier;

    @BeforeAll
    static void load() {
        ImageDataset test = ImageDatasets.fashionMnistTest();
        heldOut = test.subset(IntStream.range(0, 1000).toArray(), " (first 1000)");
        reference = test.subset(IntStream.range(1000, 10000).toArray(), " (rest)");
        classifier = ImageClassifier.fashionMnist();
    }

    @Test
    void heldOutRealImagesScoreLikeTheFloor() {
        try (Scope s = Scope.open()) {
            ImageQuality.Report r = ImageQuality.evaluate(heldOut.all().orElseThrow(), reference, classifier, 1);
            assertEquals(1000, r.samples());
            assertTrue(r.fid() < 2 * r.fidFloor() + 0.5, r.toString());
            assertTrue(Math.abs(r.precision() - r.precisionFloor()) < 0.1 && Math.abs(r.recall() - r.recallFloor()) < 0.1, r.toString());
            assertTrue(Math.abs(r.density() - r.densityFloor()) < 0.15 && Math.abs(r.coverage() - r.coverageFloor()) < 0.1, r.toString());
            assertTrue(Math.abs(r.inceptionScore() - r.inceptionScoreReal()) < 0.15 * r.inceptionScoreReal(), r.toString());
            assertTrue(r.inceptionScoreReal() > 6, "a 90% classifier is confident and balanced on real data: " + r);
        }
    }

    @Test
    void theOrderOfTheSamplesDoesNotMatter() {
        // A class-conditional sweep hands its samples over sorted by class. Split in that order, each
        // Inception-score split would hold one class and score near 1; taking the first half of
        // too many samples would leave out whole classes.
        int[] byClass = IntStream.range(0, heldOut.size()).boxed().sorted(Comparator.comparingInt(heldOut::label))
                .mapToInt(Integer::intValue).toArray();
        try (Scope s = Scope.open()) {
            Tensor sorted = heldOut.subset(byClass, " (sorted by class)").all().orElseThrow();
            ImageQuality.Report r = ImageQuality.evaluate(sorted, reference, classifier, 1);
            assertTrue(Math.abs(r.inceptionScore() - r.inceptionScoreReal()) < 0.15 * r.inceptionScoreReal(), r.toString());
            ImageQuality.Report half = ImageQuality.evaluate(sorted, reference.subset(IntStream.range(0, 1200).toArray(), ""), classifier, 1);
            assertEquals(600, half.samples());
            assertTrue(half.recall() > half.recallFloor() - 0.1 && half.fid() < 3 * half.fidFloor() + 1, half.toString());
        }
    }

    @Test
    void noiseAndACollapsedModelAreCaught() {
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.rand(new Generator(3), 500, 1, 28, 28).mul(2).sub(1);
            ImageQuality.Report n = ImageQuality.evaluate(noise, reference, classifier, 1);
            assertTrue(n.fid() > 20 * n.fidFloor(), n.toString());
            // Noise collapses to one point in feature space. Whether that point lies in the large
            // ball of some real outlier decides precision (it does under the built-in classifier:
            // precision ≈ 0.99); density and coverage count balls and covered real points instead.
            assertTrue(n.recall() < 0.01, n.toString());
            assertTrue(n.density() < 0.3 * n.densityFloor() && n.coverage() < 0.02, n.toString());
            assertTrue(n.inceptionScore() < 1.5, n.toString());

            int[] shirts = IntStream.range(0, heldOut.size()).filter(i -> heldOut.label(i) == 0).toArray();
            Tensor oneClass = heldOut.subset(shirts, " (class 0)").all().orElseThrow();
            ImageQuality.Report c = ImageQuality.evaluate(oneClass, reference, classifier, 1);
            assertTrue(c.precision() > 0.6, "real shirts lie on the data manifold: " + c);
            assertTrue(c.recall() < 0.3, "one class of ten covers little of it: " + c);
            assertTrue(c.coverage() < 0.3 && c.coverageFloor() > 0.8, c.toString());
            assertTrue(c.inceptionScore() < 2, "one class has an Inception-style score near 1: " + c);
            assertTrue(c.fid() > 10 * c.fidFloor(), c.toString());
        }
    }

    @Test
    void mismatchedShapesAreRefused() {
        try (Scope s = Scope.open()) {
            DiffusionException e = assertThrows(DiffusionException.class,
                    () -> ImageQuality.evaluate(Tensor.zeros(20, 3, 28, 28), reference, classifier, 0));
            assertTrue(e.getMessage().contains("3x28x28"), e.getMessage());
            assertThrows(DiffusionException.class, () -> ImageQuality.evaluate(Tensor.zeros(4, 1, 28, 28), reference, classifier, 0));
        }
    }
}
