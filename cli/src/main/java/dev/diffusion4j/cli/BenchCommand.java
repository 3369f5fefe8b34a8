package dev.diffusion4j.cli;

import dev.diffusion4j.bench.VectorBenchmark;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.tensor.Backend;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
            VectorBenchmark.Speed r = VectorBenchmark.speed(data, trainSteps, sampleBatch, sampleSteps, tmp.resolve("train"));
            out.printf(Locale.ROOT, "training:  %.1f steps/s (batch %d, %,d parameters; median of %d windows of 50 steps)%n",
                    r.trainStepsPerSecond(), r.trainBatch(), r.parameters(), r.trainWindows());
            out.printf(Locale.ROOT, "sampling:  %.1f steps/s at batch %d = %,.0f sample-steps/s; a 1000-step DDPM run makes %.0f samples/s%n",
                    r.sampleStepsPerSecond(), r.sampleBatch(), r.sampleStepsPerSecond() * r.sampleBatch(), r.ddpm1000SamplesPerSecond());
            figures.putAll(r.figures());
            if (memory) {
                for (VectorBenchmark.Memory m : VectorBenchmark.memory(data, memoryTrainSteps, memorySampleSteps, sampleBatch,
                        tmp.resolve("memory"))) {
                    out.printf(Locale.ROOT, "memory (%s): RSS %.0f MB → %.0f MB over steps %d..%d (max %.0f MB, drift %+.1f MB)%n", m.what(),
                            m.startMb(), m.endMb(), m.firstStep(), m.lastStep(), m.maxMb(), m.driftMb());
                    figures.putAll(m.figures(m.what().equals("training") ? "memory_train" : "memory_sample"));
                }
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
}
