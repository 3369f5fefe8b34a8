package dev.diffusion4j.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.eval.SampleQuality;
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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The 2D quality bar, end to end with the defaults of {@code diffuse train} and
 * {@code diffuse sample --num 2000}: the squared energy distance of the samples to fresh data is
 * within 3× of the distance between two fresh data sets of the same size (both averaged over five
 * reference draws).
 */
@Tag("quality")
class QualityBarTest {
    @ParameterizedTest
    @ValueSource(strings = {"swissroll", "moons", "8gaussians", "25gaussians", "checkerboard", "circles", "pinwheel", "spirals"})
    void defaultTrainingMeetsTheEnergyDistanceBar(String data, @TempDir Path dir) {
        Trainer.create(dir, TrainingRecipe.forVectors(data).build(), MlpConfig.defaults(2), NoiseSchedule.of(BetaSchedule.LINEAR, 1000))
                .run(TrainListener.NONE);
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        try (Scope s = Scope.open()) {
            Tensor samples = pipe.generate(GenerationRequest.builder().count(2000).sampler("ddpm").build()).samples();
            SampleQuality.Report r = SampleQuality.evaluate(samples, DataSources.open(data), 5, 0);
            System.out.printf(Locale.ROOT, "%s: energy distance %.5f, floor %.5f, ratio %.2f%n", data, r.energyDistance(), r.energyFloor(),
                    r.energyRatio());
            assertTrue(r.energyRatio() <= 3.0, String.format(Locale.ROOT, "%s: energy distance %.5f is %.2f× the floor %.5f", data,
                    r.energyDistance(), r.energyRatio(), r.energyFloor()));
        }
    }
}
