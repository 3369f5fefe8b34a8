package dev.diffusion4j.train;

import dev.diffusion4j.pipeline.GenerationRequest;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Scope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resident memory stays flat over long training and sampling runs: every native tensor of a step
 * is released with its scope. A leak of even one activation per step ([256, 128] float32 = 128 KiB)
 * would add over 300 MiB across the measured window; the bound allows 40 MiB of allocator and JIT
 * noise. ({@code diffuse bench --memory} runs the full 100k training and 10k sampling steps.)
 */
@Tag("quality")
class MemoryTest {
    private static final double ALLOWED_GROWTH_MB = 40;

    @Test
    void trainingAndSamplingHoldFlatResidentMemory(@TempDir Path dir) {
        List<Long> trainRss = new ArrayList<>();
        Trainer t = Trainer.create(dir, TrainingRecipe.forVectors("swissroll").steps(5000).checkpointEvery(2500).build(),
                new MlpConfig(2, 128, 2, 32, Activation.SILU, 16, 1.0), NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
        t.run(new TrainListener() {
            @Override
            public void onStep(long step, long total, double loss, double lr) {
                if (step % 250 == 0) {
                    trainRss.add(Backend.residentBytes());
                }
            }
        });
        assertFlat("training", trainRss);

        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        List<Long> sampleRss = new ArrayList<>();
        try (Scope s = Scope.open()) {
            pipe.generate(GenerationRequest.builder().count(4096).sampler("ddpm").steps(1000).build(), (batch, batches, step) -> {
                if (step.index() % 50 == 0) {
                    sampleRss.add(Backend.residentBytes());
                }
            });
        }
        assertFlat("sampling", sampleRss);
    }

    /** Growth from the end of warm-up (first 40% of readings) to the last reading. */
    private static void assertFlat(String what, List<Long> rss) {
        assertTrue(rss.size() >= 10, "enough readings");
        long warm = rss.get(rss.size() * 2 / 5);
        long peakAfter = rss.subList(rss.size() * 2 / 5, rss.size()).stream().mapToLong(Long::longValue).max().orElseThrow();
        double growthMb = (peakAfter - warm) / 1e6;
        assertTrue(growthMb < ALLOWED_GROWTH_MB, what + ": resident memory grew by " + growthMb + " MB after warm-up; readings " + rss);
    }
}
