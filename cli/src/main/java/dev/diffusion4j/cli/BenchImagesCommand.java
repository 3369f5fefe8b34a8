package dev.diffusion4j.cli;

import dev.diffusion4j.model.DenoisingNetwork;
import dev.diffusion4j.model.NetworkConfig;
import dev.diffusion4j.model.SeedUNetConfig;
import dev.diffusion4j.model.UNet2DConfig;
import dev.diffusion4j.objective.DiffusionObjective;
import dev.diffusion4j.objective.LossType;
import dev.diffusion4j.objective.Weighting;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.AdamW;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.FlopCounter;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.Precision;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
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

    @Option(names = "--precision", split = ",", description = "Precisions to measure (default: fp32, plus bf16 on CPUs with "
            + "bf16 hardware that oneDNN can use; elsewhere bf16 is emulated and far slower).")
    List<String> precisions;

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
        // bf16 is fast only through oneDNN on bf16 hardware; where oneDNN failed its check it is off and bf16 is emulated
        boolean bf16Fast = Backend.hasBf16Hardware() && !Backend.oneDnnOff();
        if (precisions == null) {
            precisions = bf16Fast ? List.of("fp32", "bf16") : List.of("fp32");
        }
        double peak32 = matmulGflops(DType.FLOAT32, 2048);
        // without bf16 units the emulated product is ~100x slower: a smaller one measures it in seconds
        double peak16 = matmulGflops(DType.BFLOAT16, bf16Fast ? 2048 : 512);
        double opMicros = opOverheadMicros();
        out.printf(Locale.ROOT, "matmul peak (median of 5): fp32 %.1f GFLOP/s, bf16 %.1f GFLOP/s (%s); one tiny op costs %.1f us%n",
                peak32, peak16, bf16Fast ? "AMX/AVX512-BF16 through oneDNN"
                        : Backend.hasBf16Hardware() ? "oneDNN off here: bf16 emulated" : "no bf16 hardware on this CPU: emulated", opMicros);
        figures.put("matmul_fp32_gflops", peak32);
        figures.put("matmul_bf16_gflops", peak16);
        figures.put("op_overhead_us", opMicros);
        out.printf(Locale.ROOT, "%-10s %-5s %10s %12s %12s %10s %10s %9s %9s%n", "model", "prec", "params", "train img/s",
                "sample i*NFE/s", "GFLOP/img", "GFLOP/s", "of peak", "glue");
        for (String model : models) {
            NetworkConfig cfg = architecture(model);
            for (String p : precisions) {
                Precision precision = Precision.parse(p);
                Map<String, Object> r = measure(cfg, model, precision);
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

    NetworkConfig architecture(String name) {
        return switch (name) {
            case "default" -> channels == null ? UNet2DConfig.defaults(1, 28) : UNet2DConfig.defaults(1, 28).withBlockOutChannels(channels);
            case "seed-unet" -> SeedUNetConfig.seed(1, 28);
            default -> throw new dev.diffusion4j.DiffusionException("unknown model '" + name + "'; use default or seed-unet");
        };
    }

    private Map<String, Object> measure(NetworkConfig cfg, String name, Precision precision) {
        Map<String, Object> r = new LinkedHashMap<>();
        cfg.applyThreadPolicy();
        r.put("thread_policy", Backend.threadPolicy().name());
        Generator g = new Generator(1);
        DenoisingNetwork net = cfg.build(g);
        r.put("parameters", net.parameterCount());
        NoiseSchedule schedule = name.equals("seed-unet") ? NoiseSchedule.of(BetaSchedule.LINEAR, 200) : NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
        DiffusionObjective objective = new DiffusionObjective(schedule, Prediction.EPSILON,
                name.equals("seed-unet") ? LossType.HUBER : LossType.L2, Weighting.NONE);
        long[] item = cfg.sampleShape();
        try (AdamW opt = new AdamW(net.parameters(), 1e-4, 0.9, 0.999, 1e-8, 0)) {
            List<Double> times = new ArrayList<>();
            long stepOps = 0;
            for (int i = 0; i < iters + 2; i++) {
                try (Scope s = Scope.open(); FlopCounter c = FlopCounter.open()) {
                    Tensor x0 = Tensor.rand(g, batch, item[0], item[1], item[2]).mul(2).sub(1);
                    long t0 = System.nanoTime();
                    opt.zeroGrad();
                    Tensor loss;
                    try (Precision.Region region = precision.open()) {
                        loss = objective.loss(net, x0, g);
                    }
                    loss.backward();
                    opt.step();
                    if (i >= 2) {
                        times.add((System.nanoTime() - t0) / 1e9);
                    }
                    stepOps = c.ops();
                }
            }
            r.put("ops_per_train_step", stepOps);
            double step = median(times);
            r.put("train_step_seconds", step);
            r.put("train_images_per_s", batch / step);
        }
        long flops;
        long ops;
        List<Double> times = new ArrayList<>();
        net.train(false);
        try (NoGrad ng = NoGrad.open()) {
            try (Scope s = Scope.open(); FlopCounter c = FlopCounter.open()) {
                Tensor x = Tensor.randn(g, 1, item[0], item[1], item[2]);
                net.predict(x, Tensor.full(500, 1));
                flops = c.flops();
                ops = c.ops();
            }
            for (int i = 0; i < Math.max(3, iters / 2) + 1; i++) {
                try (Scope s = Scope.open(); Precision.Region region = precision.open()) {
                    Tensor x = Tensor.randn(g, sampleBatch, item[0], item[1], item[2]);
                    Tensor t = Tensor.full(500, sampleBatch);
                    long t0 = System.nanoTime();
                    net.predict(x, t).sum().item();
                    if (i > 0) {
                        times.add((System.nanoTime() - t0) / 1e9);
                    }
                }
            }
        }
        r.put("sample_image_nfe_per_s", sampleBatch / median(times));
        r.put("forward_gflop_per_image", flops / 1e9);
        r.put("ops_per_forward", ops);
        r.put("train_gflops_per_s", 3.0 * flops * (double) r.get("train_images_per_s") / 1e9);
        return r;
    }

    /** Median GFLOP/s of an n×n by n×n matrix product in {@code dtype}. */
    static double matmulGflops(DType dtype, int n) {
        List<Double> rates = new ArrayList<>();
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Generator g = new Generator(3);
            Tensor a = Tensor.randn(g, n, n).to(dtype);
            Tensor b = Tensor.randn(g, n, n).to(dtype);
            for (int i = 0; i < 6; i++) {
                try (Scope inner = Scope.open()) {
                    long t0 = System.nanoTime();
                    a.matmul(b).sum().item();
                    if (i > 0) {
                        rates.add(2.0 * n * n * n / ((System.nanoTime() - t0) / 1e9) / 1e9);
                    }
                }
            }
        }
        return median(rates);
    }

    /** Microseconds of one element-wise op on a one-element tensor: the fixed JNI + dispatch cost. */
    static double opOverheadMicros() {
        int n = 20_000;
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor x = Tensor.ones(1);
            for (int i = 0; i < 2000; i++) {
                try (Scope inner = Scope.open()) {
                    x.add(x);
                }
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                try (Scope inner = Scope.open()) {
                    x.add(x);
                }
            }
            return (System.nanoTime() - t0) / 1e3 / n;
        }
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
