package dev.diffusion4j.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.TrainingRecipe;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void train() {
        Trainer.create(dir, TrainingRecipe.defaults("circles").withSteps(300).withCheckpointEvery(300),
                new MlpConfig(2, 32, 1, 16, Activation.SILU, 8, 1.0), NoiseSchedule.of(BetaSchedule.LINEAR, 200)).run(TrainListener.NONE);
    }

    @Test
    void samplesAreSeededAndInDataUnits() {
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        assertTrue(pipe.usesEmaWeights());
        try (Scope s = Scope.open()) {
            var ddim = Samplers.create("ddim", SamplerOptions.DEFAULTS.withSteps(20));
            Tensor a = pipe.sample(500, ddim, 1);
            Tensor b = pipe.sample(500, ddim, 1);
            Tensor c = pipe.sample(500, ddim, 2);
            assertArrayEquals(new long[] {500, 2}, a.shape());
            assertTrue(a.equal(b));
            assertFalse(a.equal(c));
            assertEquals(60, pipe.evaluations(), "20 steps per call, three calls");
            // circles has radii 1 and 2: the mean radius of samples is near 1.5, not the normalised ~1
            double meanRadius = a.norm(1, false).mean().item();
            assertEquals(1.5, meanRadius, 0.35);
        }
    }

    @Test
    void largeRequestsAreSplitIntoBatchesWithTheSameResultShape() {
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        try (Scope s = Scope.open()) {
            Tensor x = pipe.sample(DiffusionPipeline.MAX_BATCH + 10, Samplers.create("ddim", SamplerOptions.DEFAULTS.withSteps(2)), 3);
            assertEquals(DiffusionPipeline.MAX_BATCH + 10, x.size(0));
            assertTrue(x.allFinite());
        }
    }

    @Test
    void clippingKeepsEstimatesInsideTheTrainingRange() {
        DiffusionPipeline clipped = DiffusionPipeline.load(dir, true, true);
        double[] max = clipped.spec().sampleRange().max();
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.full(1e4, 4, 2);
            Tensor d = clipped.denoiser().denoise(x, Tensor.full(1.0, 1));
            float[] v = d.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertTrue(v[i] <= max[i % 2] + 1e-6, "clipped to the range");
            }
        }
    }
}
