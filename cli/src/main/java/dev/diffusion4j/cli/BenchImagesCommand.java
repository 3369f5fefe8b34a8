package dev.diffusion4j.cli;

import dev.diffusion4j.bench.ImageBenchmark;
import dev.diffusion4j.model.NetworkConfig;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Precision;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Training and sampling throughput of the 28×28 image U-Nets in fp32 and bf16, the achieved
 * GFLOP/s next to this machine's matmul peak measured in the same run, and how much of a step is
 * Java-side op dispatch rather than libtorch kernels.
 */
@Command(name = "bench-images", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark the 28x28 image U-Nets: training images/s, sampling image-NFE/s, achieved GFLOP/s against the "
                + "machine's matmul peak (measured in the same run), fp32 and bf16, and the share of time spent outside libtorch kernels."})
final class BenchImagesCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--models", split = ",", defaultValue = "default,seed-unet",
            description = "U-Nets to measure: default, seed-unet (the seed tutorial's, with its T = 200 and Huber loss) "
                    + "(default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Mixin
    BenchPrecisions precisions;

    @Option(names = "--channels", split = ",", paramLabel = "C1,C2,...", description = "Widths of the default U-Net's levels "
            + "(default: its own).")
    int[] channels;

    @Option(names = "--batch", defaultValue = "128", description = "Training batch (default: ${DEFAULT-VALUE}, the seed's).")
    int batch;

    @Option(names = "--sample-batch", defaultValue = "256", description = "Batch of the sampling (no-grad forward) measurement (default: ${DEFAULT-VALUE}).")
    int sampleBatch;

    @Option(names = "--iters", defaultValue = "8", description = "Timed iterations per measurement; the median is reported (default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("backend: " + Backend.describe());
        Map<String, Object> figures = new LinkedHashMap<>();
        boolean bf16Fast = Backend.bf16Fast();
        double peak32 = ImageBenchmark.matmulGflops(DType.FLOAT32, 2048);
        // without bf16 units the emulated product is ~100x slower: a smaller one measures it in seconds
        double peak16 = ImageBenchmark.matmulGflops(DType.BFLOAT16, bf16Fast ? 2048 : 512);
        double opMicros = ImageBenchmark.opOverheadMicros();
        out.printf(Locale.ROOT, "matmul peak (median of 5): fp32 %.1f GFLOP/s, bf16 %.1f GFLOP/s (%s); one tiny op costs %.1f us%n",
                peak32, peak16, bf16Fast ? "AMX/AVX512-BF16 through oneDNN"
                        : Backend.hasBf16Hardware() ? "oneDNN off here: bf16 emulated" : "no bf16 hardware on this CPU: emulated", opMicros);
        figures.put("matmul_fp32_gflops", peak32);
        figures.put("matmul_bf16_gflops", peak16);
        figures.put("op_overhead_us", opMicros);
        out.printf(Locale.ROOT, "%-10s %-5s %10s %12s %12s %10s %10s %9s %9s%n", "model", "prec", "params", "train img/s",
                "sample i*NFE/s", "GFLOP/img", "GFLOP/s", "of peak", "glue");
        for (String model : models) {
            NetworkConfig cfg = ImageBenchmark.architecture(model, channels);
            for (String p : precisions.names()) {
                Precision precision = Precision.parse(p);
                Map<String, Object> r = ImageBenchmark.measure(cfg, model, precision, batch, sampleBatch, iters);
                double peak = precision == Precision.BF16 && bf16Fast ? peak16 : peak32;   // emulated bf16 against the real best
                double gflops = (double) r.get("train_gflops_per_s");
                double glue = (long) r.get("ops_per_train_step") * opMicros * 1e-6 / (double) r.get("train_step_seconds");
                r.put("fraction_of_peak", gflops / peak);
                r.put("glue_fraction_estimate", glue);
                out.printf(Locale.ROOT, "%-10s %-5s %10d %12.1f %12.1f %10.3f %10.1f %8.0f%% %8.1f%%%n", model, p, r.get("parameters"),
                        r.get("train_images_per_s"), r.get("sample_image_nfe_per_s"), r.get("forward_gflop_per_image"),
                        gflops, 100 * gflops / peak, 100 * glue);
                out.flush();
                figures.put(model + "_" + p, r);
            }
        }
        out.println("GFLOP/s counts matmul-class ops (convolutions, linear, attention) of forward + backward (3x forward). "
                + "glue = ops issued from Java per training step (backward runs inside libtorch) x the cost of one tiny op, "
                + "as a share of the step time.");
        if (json) {
            JsonLine.print(out, figures);
        }
        out.flush();
        return 0;
    }
}
