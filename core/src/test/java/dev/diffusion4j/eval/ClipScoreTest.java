package dev.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.ClipConfig;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.model.ClipVisionConfig;
import dev.diffusion4j.model.TextEncoderConfig;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CLIP score's and the retrieval accuracy's definitions, on an untrained model whose cosines fall on both sides of 0. */
class ClipScoreTest {
    private static final ClipModel MODEL = new ClipModel(new ClipConfig(new TextEncoderConfig(ClipTokenizer.VOCAB_SIZE, 8, 16, 1, 8),
            new ClipVisionConfig(1, 8, 2, List.of(8), 1), 4, ClipConfig.LOGIT_SCALE_INIT), new Generator(11));
    private static final List<String> PROMPTS = List.of("a coat", "a bag", "sneaker", "a dark sandal", "a coat", "a photo of a bag");

    @Test
    void scoreIsOneHundredTimesTheMeanClippedCosine() {
        try (Scope s = Scope.open()) {
            Tensor images = Tensor.randn(new Generator(1), PROMPTS.size(), 1, 8, 8);
            float[] cos = MODEL.embedImages(images).mul(MODEL.embedTexts(PROMPTS)).sum(1, false).toFloatArray();
            double mean = 0;
            double clipped = 0;
            for (float c : cos) {
                mean += c / cos.length;
                clipped += 100 * Math.max(c, 0) / cos.length;
            }
            ClipScore.Score score = ClipScore.score(MODEL, images, PROMPTS);
            assertEquals(PROMPTS.size(), score.pairs());
            assertEquals(mean, score.meanCosine(), 1e-6);
            assertEquals(clipped, score.clipScore(), 1e-4);
            assertTrue(score.clipScore() > 100 * score.meanCosine(), "some cosines are negative and clipped: " + score);
            assertEquals(0.5, new ClipScore.Score(10, 0.2, 20).share(new ClipScore.Score(10, 0.4, 40)), 1e-12);
        }
    }

    @Test
    void retrievalCountsTheImagesWhoseCaptionIsTheNearestDistinctOne() {
        try (Scope s = Scope.open()) {
            Tensor images = Tensor.randn(new Generator(2), PROMPTS.size(), 1, 8, 8);
            List<String> candidates = PROMPTS.stream().distinct().toList();
            long[] nearest = MODEL.embedImages(images).matmul(MODEL.embedTexts(candidates).t()).argmax(1).toLongArray();
            int right = 0;
            for (int i = 0; i < PROMPTS.size(); i++) {
                right += candidates.get((int) nearest[i]).equals(PROMPTS.get(i)) ? 1 : 0;
            }
            assertEquals((double) right / PROMPTS.size(), ClipScore.retrievalAccuracy(MODEL, images, PROMPTS), 1e-12);
            assertEquals(1.0, ClipScore.retrievalAccuracy(MODEL, images.narrow(0, 0, 1), PROMPTS.subList(0, 1)), "one caption: always right");
            assertThrows(DiffusionException.class, () -> ClipScore.score(MODEL, images, PROMPTS.subList(0, 2)));
        }
    }
}
