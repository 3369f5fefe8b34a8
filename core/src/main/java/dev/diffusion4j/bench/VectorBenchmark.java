package dev.diffusion4j.bench;

import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training and sampling throughput of the default 2D setup (the default MLP on a built-in data set),
 * and whether resident memory stays flat over long runs. Rates are medians over windows, since the
 * machine may be shared.
 */
public final class VectorBenchmark {
    private VectorBenchmark() {
    }

    /** Training steps/s of the default recipe (median of windows of 50 steps) and DDPM sampling steps/s at a batch. */
    public record Speed(double trainStepsPerSecond, int trainBatch, long parameters, int trainWindows, double sampleStepsPerSecond,
                        int sampleBatch) {
        /** Samples per second of a 1000-step DDPM run at this batch. */
        public double ddpm1000SamplesPerSecond() {
            return sampleStepsPerSecond * sampleBatch / 1000.0;
        }

        public Map<String, Object> figures() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("train_steps_per_second", trainStepsPerSecond);
            m.put("train_batch", trainBatch);
            m.put("sample_steps_per_second", sampleStepsPerSecond);
            m.put("sample_batch", sampleBatch);
            m.put("ddpm1000_samples_per_second", ddpm1000SamplesPerSecond());
            return m;
        }
    }

    /** Trains {@code trainSteps} steps on {@code data} into {@code runDir}, then samples {@code sampleBatch} points with DDPM. */
    public static Speed speed(String data, int trainSteps, int sampleBatch, int sampleSteps, Path runDir) {
        Stats.WindowTimer trainTimer = new Stats.WindowTimer(50);
        Trainer trainer = Trainer.create(runDir, TrainingRecipe.forVectors(data).steps(trainSteps).checkpointEvery(Integer.MAX_VALUE).build(),
                MlpConfig.defaults(2), NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
        trainer.run(new TrainListener() {
            @Override
            public void onStep(long step, long total, double loss, double lr) {
                trainTimer.tick();
            }
        });
        Stats.WindowTimer sampleTimer = new Stats.WindowTimer(20);
        try (Scope s = Scope.open()) {
            DiffusionPipeline.load(runDir).generate(GenerationRequest.builder().sampler("ddpm").steps(sampleSteps).count(sampleBatch)
                    .seed(1).build(), (batch, batches, step) -> sampleTimer.tick());
        }
        return new Speed(trainTimer.medianRate(), trainer.config().batchSize(), trainer.network().parameterCount(), trainTimer.windows(),
                sampleTimer.medianRate(), sampleBatch);
    }

    /** Resident memory through a run, after warm-up (the first fifth excluded). */
    public record Memory(String what, long firstStep, long lastStep, double startMb, double endMb, double maxMb, double driftMb) {
        public Map<String, Object> figures(String key) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(key + "_rss_start_mb", startMb);
            m.put(key + "_rss_end_mb", endMb);
            m.put(key + "_drift_mb", driftMb);
            return m;
        }

        /** The readings (step, bytes) from the end of warm-up; drift is the mean of the second half minus the first. */
        static Memory of(String what, List<long[]> rss) {
            List<long[]> steady = rss.subList(rss.size() / 5, rss.size());
            int half = steady.size() / 2;
            double firstHalf = steady.subList(0, half).stream().mapToLong(e -> e[1]).average().orElse(0) / 1e6;
            double secondHalf = steady.subList(half, steady.size()).stream().mapToLong(e -> e[1]).average().orElse(0) / 1e6;
            long max = steady.stream().mapToLong(e -> e[1]).max().orElse(0);
            return new Memory(what, steady.get(0)[0], steady.get(steady.size() - 1)[0], steady.get(0)[1] / 1e6,
                    steady.get(steady.size() - 1)[1] / 1e6, max / 1e6, secondHalf - firstHalf);
        }
    }

    /** Resident memory sampled through a long training run into {@code runDir} and a long DDPM sampling run of its model. */
    public static List<Memory> memory(String data, int trainSteps, int sampleSteps, int sampleBatch, Path runDir) {
        List<long[]> trainRss = new ArrayList<>();
        int every = Math.max(1, trainSteps / 50);
        Trainer.create(runDir, TrainingRecipe.forVectors(data).steps(trainSteps).checkpointEvery(Math.max(1, trainSteps / 4)).build(),
                MlpConfig.defaults(2), NoiseSchedule.of(BetaSchedule.LINEAR, 1000)).run(new TrainListener() {
                    @Override
                    public void onStep(long step, long total, double loss, double lr) {
                        if (step % every == 0) {
                            trainRss.add(new long[] {step, Backend.residentBytes()});
                        }
                    }
                });
        DiffusionPipeline pipe = DiffusionPipeline.load(runDir);
        List<long[]> sampleRss = new ArrayList<>();
        int sampleEvery = Math.max(1, sampleSteps / 50);
        long[] counter = {0};
        int perRun = 1000;
        for (int done = 0; done < sampleSteps; done += perRun) {
            try (Scope s = Scope.open()) {
                pipe.generate(GenerationRequest.builder().sampler("ddpm").steps(Math.min(perRun, sampleSteps - done)).count(sampleBatch)
                        .seed(done).build(), (batch, batches, step) -> {
                            if (++counter[0] % sampleEvery == 0) {
                                sampleRss.add(new long[] {counter[0], Backend.residentBytes()});
                            }
                        });
            }
        }
        return List.of(Memory.of("training", trainRss), Memory.of("sampling", sampleRss));
    }
}
