package dev.diffusion4j.cli;

import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.sampling.SamplingListener;
import dev.diffusion4j.sampling.SamplingStep;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.train.TrainingRecipe;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Measures training and sampling throughput of the default 2D setup, and optionally whether
 * resident memory stays flat over long runs. Figures are medians over windows, since the
 * machine may be shared.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark training steps/s and sampling samples/s of the default 2D model; "
                + "with --memory, check that resident memory stays flat over long training and sampling runs."})
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", defaultValue = "swissroll", description = "Built-in data set (default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--train-steps", defaultValue = "1500", description = "Training steps timed (default: ${DEFAULT-VALUE}).")
    int trainSteps;

    @Option(names = "--sample-batch", defaultValue = "2000", description = "Samples per sampling run (default: ${DEFAULT-VALUE}).")
    int sampleBatch;

    @Option(names = "--sample-steps", defaultValue = "200", description = "DDPM steps timed (default: ${DEFAULT-VALUE}).")
    int sampleSteps;

    @Option(names = "--memory", description = "Also run the long memory check.")
    boolean memory;

    @Option(names = "--memory-train-steps", defaultValue = "100000", description = "Training steps of the memory check (default: ${DEFAULT-VALUE}).")
    int memoryTrainSteps;

    @Option(names = "--memory-sample-steps", defaultValue = "10000", description = "Sampling steps of the memory check (default: ${DEFAULT-VALUE}).")
    int memorySampleSteps;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        out.println("backend: " + Backend.describe());
        Map<String, Object> figures = new LinkedHashMap<>();
        Path tmp = Files.createTempDirectory("diffuse-bench");
        try {
            Path run = tmp.resolve("train");
            WindowTimer trainTimer = new WindowTimer(50);
            Trainer trainer = Trainer.create(run, TrainingRecipe.defaults(data).withSteps(trainSteps).withCheckpointEvery(Integer.MAX_VALUE),
                    MlpConfig.defaults(2), NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
            trainer.run(new TrainListener() {
                @Override
                public void onStep(long step, long total, double loss, double lr) {
                    trainTimer.tick();
                }
            });
            double trainRate = trainTimer.medianRate();
            out.printf(Locale.ROOT, "training:  %.1f steps/s (batch %d, %,d parameters; median of %d windows of 50 steps)%n",
                    trainRate, trainer.config().batchSize(), trainer.network().parameterCount(), trainTimer.windows());
            figures.put("train_steps_per_second", trainRate);
            figures.put("train_batch", trainer.config().batchSize());

            DiffusionPipeline pipe = DiffusionPipeline.load(run);
            WindowTimer sampleTimer = new WindowTimer(20);
            pipe.sample(sampleBatch, Samplers.create("ddpm", SamplerOptions.DEFAULTS.withSteps(sampleSteps)), 1, new SamplingListener() {
                @Override
                public void onStep(SamplingStep step) {
                    sampleTimer.tick();
                }
            });
            double stepRate = sampleTimer.medianRate();
            double samplesPerSecond1000 = stepRate * sampleBatch / 1000.0;
            out.printf(Locale.ROOT, "sampling:  %.1f steps/s at batch %d = %,.0f sample-steps/s; a 1000-step DDPM run makes %.0f samples/s%n",
                    stepRate, sampleBatch, stepRate * sampleBatch, samplesPerSecond1000);
            figures.put("sample_steps_per_second", stepRate);
            figures.put("sample_batch", sampleBatch);
            figures.put("ddpm1000_samples_per_second", samplesPerSecond1000);

            if (memory) {
                figures.putAll(memoryCheck(out, tmp.resolve("memory")));
            }
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
        if (json) {
            JsonLine.print(out, figures);
        }
        out.flush();
        return 0;
    }

    /** Resident memory sampled through a long training run and a long sampling run. */
    private Map<String, Object> memoryCheck(PrintWriter out, Path run) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<long[]> trainRss = new ArrayList<>();
        int every = Math.max(1, memoryTrainSteps / 50);
        Trainer trainer = Trainer.create(run, TrainingRecipe.defaults(data).withSteps(memoryTrainSteps).withCheckpointEvery(memoryTrainSteps / 4),
                MlpConfig.defaults(2), NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
        trainer.run(new TrainListener() {
            @Override
            public void onStep(long step, long total, double loss, double lr) {
                if (step % every == 0) {
                    trainRss.add(new long[] {step, Backend.residentBytes()});
                }
            }
        });
        m.putAll(report(out, "training", trainRss, "memory_train"));
        DiffusionPipeline pipe = DiffusionPipeline.load(run);
        List<long[]> sampleRss = new ArrayList<>();
        int sampleEvery = Math.max(1, memorySampleSteps / 50);
        long[] counter = {0};
        int perRun = 1000;
        try (Scope s = Scope.open()) {
            for (int done = 0; done < memorySampleSteps; done += perRun) {
                pipe.sample(sampleBatch, Samplers.create("ddpm", SamplerOptions.DEFAULTS.withSteps(Math.min(perRun, memorySampleSteps - done))),
                        done, new SamplingListener() {
                            @Override
                            public void onStep(SamplingStep step) {
                                if (++counter[0] % sampleEvery == 0) {
                                    sampleRss.add(new long[] {counter[0], Backend.residentBytes()});
                                }
                            }
                        }).close();
            }
        }
        m.putAll(report(out, "sampling", sampleRss, "memory_sample"));
        return m;
    }

    /** Prints RSS after warm-up (first fifth excluded) to the end and the growth between the two halves. */
    static Map<String, Object> report(PrintWriter out, String what, List<long[]> rss, String key) {
        int from = rss.size() / 5;
        List<long[]> steady = rss.subList(from, rss.size());
        int half = steady.size() / 2;
        double firstHalf = steady.subList(0, half).stream().mapToLong(e -> e[1]).average().orElse(0) / 1e6;
        double secondHalf = steady.subList(half, steady.size()).stream().mapToLong(e -> e[1]).average().orElse(0) / 1e6;
        long max = steady.stream().mapToLong(e -> e[1]).max().orElse(0);
        out.printf(Locale.ROOT, "memory (%s): RSS %.0f MB → %.0f MB over steps %d..%d (max %.0f MB, drift %+.1f MB)%n", what,
                steady.get(0)[1] / 1e6, steady.get(steady.size() - 1)[1] / 1e6, steady.get(0)[0], steady.get(steady.size() - 1)[0],
                max / 1e6, secondHalf - firstHalf);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(key + "_rss_start_mb", steady.get(0)[1] / 1e6);
        m.put(key + "_rss_end_mb", steady.get(steady.size() - 1)[1] / 1e6);
        m.put(key + "_drift_mb", secondHalf - firstHalf);
        return m;
    }

    /** Rates over consecutive windows of {@code size} ticks; the median resists machine noise. */
    static final class WindowTimer {
        private final int size;
        private final List<Double> rates = new ArrayList<>();
        private long windowStart = System.nanoTime();
        private int count;

        WindowTimer(int size) {
            this.size = size;
        }

        void tick() {
            if (++count == size) {
                long now = System.nanoTime();
                rates.add(size / ((now - windowStart) / 1e9));
                windowStart = now;
                count = 0;
            }
        }

        int windows() {
            return rates.size();
        }

        double medianRate() {
            // The first window includes JIT warm-up; drop it when there are others.
            List<Double> r = new ArrayList<>(rates.size() > 2 ? rates.subList(1, rates.size()) : rates);
            if (r.isEmpty()) {
                return Double.NaN;
            }
            double[] a = r.stream().mapToDouble(Double::doubleValue).toArray();
            Arrays.sort(a);
            return a.length % 2 == 1 ? a[a.length / 2] : 0.5 * (a[a.length / 2 - 1] + a[a.length / 2]);
        }
    }
}
