package dev.diffusion4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.GaussianMixture;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The 2D guidance bar: a class-conditional MLP trained on 8gaussians (label = mixture component,
 * condition dropout 0.1) puts ≥ 95% of the samples for class k in component k at w = 3, while at
 * w = 0 (the unconditional model it also learned) the components come out in about equal shares.
 */
@Tag("quality")
class ConditionalBarTest {

    /** Share of {@code points} [n, 2] whose nearest component mean is {@code k}; also fills {@code counts} per component. */
    private static double shareNearest(Tensor points, GaussianMixture gm, int k, int[] counts) {
        float[] p = points.toFloatArray();
        double[][] means = gm.means();
        int hits = 0;
        for (int i = 0; i < p.length / 2; i++) {
            int best = 0;
            double bestD = Double.POSITIVE_INFINITY;
            for (int j = 0; j < means.length; j++) {
                double dx = p[2 * i] - means[j][0];
                double dy = p[2 * i + 1] - means[j][1];
                if (dx * dx + dy * dy < bestD) {
                    bestD = dx * dx + dy * dy;
                    best = j;
                }
            }
            counts[best]++;
            hits += best == k ? 1 : 0;
        }
        return hits / (p.length / 2.0);
    }

    @Test
    void guidedSamplesLandInTheirComponent(@TempDir Path dir) {
        Trainer.create(dir, TrainingRecipe.forVectors("8gaussians").steps(2000).build(), MlpConfig.defaults(2).withNumClasses(8),
                NoiseSchedule.of(BetaSchedule.LINEAR, 1000)).run(TrainListener.NONE);
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        assertEquals(8, pipe.numClasses());
        GaussianMixture gm = Toy2D.EIGHT_GAUSSIANS.mixture().orElseThrow();
        GenerationRequest.Builder request = GenerationRequest.builder().model(dir.toString()).sampler("dpmpp_2m").steps(30);
        try (Scope s = Scope.open()) {
            for (int k = 0; k < 8; k++) {
                Tensor samples = pipe.generate(request.label(Integer.toString(k)).guidance(3).count(400).seed(k).build()).samples();
                double share = shareNearest(samples, gm, k, new int[8]);
                System.out.printf(Locale.ROOT, "class %d, w = 3: %.3f in its component%n", k, share);
                assertTrue(share >= 0.95, "class " + k + " at w = 3: only " + share + " in its component");
            }
            int[] counts = new int[8];
            Tensor free = pipe.generate(request.label("0").guidance(0).count(1600).seed(99).build()).samples();
            shareNearest(free, gm, 0, counts);
            for (int j = 0; j < 8; j++) {
                assertTrue(counts[j] > 100 && counts[j] < 300, "w = 0 is the unconditional model: component " + j + " got " + counts[j] + " of 1600");
            }
            DiffusionException unknown = assertThrows(DiffusionException.class,
                    () -> pipe.generate(request.label("8").build()));
            assertTrue(unknown.getMessage().contains("unknown class '8'"), unknown.getMessage());
        }
    }
}
