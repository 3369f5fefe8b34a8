package dev.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CaptionedBatches;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.eval.ClipScore;
import dev.diffusion4j.model.ClipConfig;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.model.ClipVisionConfig;
import dev.diffusion4j.model.TextEncoderConfig;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A short contrastive training on Fashion-MNIST with captions made from the class names. */
class ClipTrainingTest {
    /** 16-token prompts, one 32-wide text layer; 2×2 patches, then 14×14×16 and 7×7×32 maps; a 32-d embedding. */
    static final ClipConfig SMALL = new ClipConfig(new TextEncoderConfig(ClipTokenizer.VOCAB_SIZE, 16, 32, 1, 16),
            new ClipVisionConfig(1, 28, 2, List.of(16, 32), 1), 32, ClipConfig.LOGIT_SCALE_INIT);
    static final int STEPS = 300;

    @Test
    void matchesHeldOutImagesToTheirClassCaption() {
        Backend.ThreadPolicy policy = Backend.threadPolicy();
        int threads = Backend.threads();
        // one thread: the figures are the same with two, and on the two cores these tests share with other jobs,
        // two threads measured 100-180 s for the 300 steps against 14 s with one
        Backend.setThreads(Backend.ThreadPolicy.BLAS_PARALLEL, 1);
        try {
            trainAndEvaluate();
        } finally {
            Backend.setThreads(policy, threads);
        }
    }

    private static void trainAndEvaluate() {
        long start = System.nanoTime();
        double[] losses = new double[STEPS];
        ClipModel model = ClipTraining.train(SMALL, new ClassCaptionBatches(ImageDatasets.fashionMnist()),
                ClipTraining.Options.defaults().withSteps(STEPS).withWarmupSteps(30), new TrainListener() {
                    @Override
                    public void onStep(long step, long total, double loss, double lr) {
                        losses[(int) step - 1] = loss;
                    }
                });
        double seconds = (System.nanoTime() - start) / 1e9;
        double early = IntStream.range(0, 20).mapToDouble(i -> losses[i]).average().orElseThrow();
        double late = IntStream.range(STEPS - 20, STEPS).mapToDouble(i -> losses[i]).average().orElseThrow();

        ImageDataset test = ImageDatasets.fashionMnistTest();   // held out: the training drew from the 60k train split
        int n = 2000;
        try (Scope s = Scope.open()) {
            Tensor images = test.all().orElseThrow().narrow(0, 0, n);
            List<String> captions = new ArrayList<>();
            for (long y : test.labels().narrow(0, 0, n).toLongArray()) {
                captions.add("a photo of a " + ImageDatasets.FASHION_MNIST_CLASSES.get((int) y).toLowerCase(Locale.ROOT));
            }
            double accuracy = ClipScore.retrievalAccuracy(model, images, captions);
            ClipScore.Score matched = ClipScore.score(model, images, captions);
            List<String> shuffled = new ArrayList<>(captions);
            Collections.shuffle(shuffled, new Random(1));
            ClipScore.Score mismatched = ClipScore.score(model, images, shuffled);
            ClipScore.Score real = ClipScore.realPairs(model, new ClassCaptionBatches(test), n, 5);
            System.out.printf(Locale.ROOT, "%d steps in %.1f s, loss %.3f -> %.3f, logit scale %.2f; top-1 among the 10 class captions %.3f;"
                            + " CLIP score (mean cosine) matched %.2f (%.3f), shuffled %.2f (%.3f), real pairs with attributes %.2f (%.3f)%n",
                    STEPS, seconds, early, late, model.logitScale().item(), accuracy, matched.clipScore(), matched.meanCosine(),
                    mismatched.clipScore(), mismatched.meanCosine(), real.clipScore(), real.meanCosine());

            assertTrue(late < early - 1, "the loss falls: " + early + " -> " + late);
            assertTrue(accuracy >= 0.6, "held-out images find their class caption among 10 (chance 0.1): " + accuracy);
            assertTrue(matched.meanCosine() - mismatched.meanCosine() > 0.3, matched + " against shuffled " + mismatched);
            assertTrue(mismatched.share(matched) < 0.6, matched + " against shuffled " + mismatched);
            assertTrue(real.clipScore() > 2 * mismatched.clipScore(), "real pairs " + real + " against shuffled " + mismatched);
        }
    }

    @Test
    void batchesOfALabelledDataSetCarryCaptionsFromTheClassNames() {
        ImageDataset test = ImageDatasets.fashionMnistTest();
        try (Scope s = Scope.open()) {
            CaptionedBatches.Batch b = new ClassCaptionBatches(test).next(32, new Generator(3));
            assertEquals(32, b.captions().size());
            assertEquals(32, b.images().size(0));
            assertTrue(b.captions().stream().allMatch(c -> ImageDatasets.FASHION_MNIST_CLASSES.stream()
                    .anyMatch(name -> c.endsWith(name.toLowerCase(Locale.ROOT)))), b.captions().toString());
            assertEquals(b.captions(), new ClassCaptionBatches(test).next(32, new Generator(3)).captions(), "the same draw, the same captions");
            assertThrows(DiffusionException.class, () -> new CaptionedBatches.Batch(b.images(), b.captions().subList(0, 5)));
        }
        ImageDataset unlabelled = ImageDataset.of("blank", new byte[4 * 64], 4, 1, 8, 8, null, List.of());
        assertThrows(DiffusionException.class, () -> new ClassCaptionBatches(unlabelled));
    }
}
