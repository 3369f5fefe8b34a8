package dev.diffusion4j.bench;

import dev.diffusion4j.DiffusionException;
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
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.TrainingRecipe;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training and sampling throughput of the 28×28 image U-Nets, the achieved GFLOP/s next to this
 * machine's matmul peak measured in the same run, and how much of a step is Java-side op dispatch
 * rather than libtorch kernels.
 */
public final class ImageBenchmark {
    private ImageBenchmark() {
    }

    /** The U-Nets measured by name: {@code default} (with other level widths when given) or {@code seed-unet}. */
    public static NetworkConfig architecture(String name, int[] channels) {
        return switch (name) {
            case "default" -> channels == null ? UNet2DConfig.defaults(1, 28) : UNet2DConfig.defaults(1, 28).withBlockOutChannels(channels);
            case "seed-unet" -> SeedUNetConfig.seed(1, 28);
            default -> throw new DiffusionException("unknown model '" + name + "'; use default or seed-unet");
        };
    }

    /**
     * Training images/s (AdamW steps of {@code batch}), sampling image·NFE/s (no-grad forwards of
     * {@code sampleBatch}), the forward GFLOP per image and the ops issued per step, each a median over
     * {@code iters} timed iterations after warm-up.
     */
    public static Map<String, Object> measure(NetworkConfig cfg, String name, Precision precision, int batch, int sampleBatch, int iters) {
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
            double step = Stats.median(times);
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
        r.put("sample_image_nfe_per_s", sampleBatch / Stats.median(times));
        r.put("forward_gflop_per_image", flops / 1e9);
        r.put("ops_per_forward", ops);
        r.put("train_gflops_per_s", 3.0 * flops * (double) r.get("train_images_per_s") / 1e9);
        return r;
    }

    /** Median GFLOP/s of an n×n by n×n matrix product in {@code dtype}. */
    public static double matmulGflops(DType dtype, int n) {
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
        return Stats.median(rates);
    }

    /** Microseconds of one element-wise op on a one-element tensor: the fixed JNI + dispatch cost. */
    public static double opOverheadMicros() {
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


    /**
     * Training steps per second of {@code arch} at the run's batch size, and no-grad network
     * evaluations per second per image at the sampling batch: two warm-up rounds, then the median of five.
     */
    public static double[] rates(NetworkConfig arch, TrainingRecipe cfg, NoiseSchedule schedule) {
        Generator g = new Generator(99);
        arch.applyThreadPolicy();
        DenoisingNetwork net = arch.build(g);
        DiffusionObjective objective = new DiffusionObjective(schedule, cfg.prediction(), cfg.loss(), cfg.weighting());
        long[] item = arch.sampleShape();
        double[] train = new double[5];
        double[] forward = new double[5];
        int sampleBatch = 250;
        try (AdamW opt = new AdamW(net.parameters(), cfg.lr(), 0.9, 0.999, 1e-8, 0)) {
            for (int i = 0; i < 7; i++) {
                try (Scope s = Scope.open()) {
                    Tensor x0 = Tensor.rand(g, cfg.batchSize(), item[0], item[1], item[2]).mul(2).sub(1);
                    long t = System.nanoTime();
                    opt.zeroGrad();
                    Tensor loss;
                    try (Precision.Region region = cfg.precision().open()) {   // as the trainer runs it
                        loss = objective.loss(net, x0, g);
                    }
                    loss.backward();
                    opt.step();
                    long t1 = System.nanoTime();
                    try (NoGrad ng = NoGrad.inference()) {
                        net.predict(Tensor.randn(g, sampleBatch, item[0], item[1], item[2]), Tensor.full(500, sampleBatch));
                    }
                    if (i >= 2) {
                        train[i - 2] = (t1 - t) / 1e9;
                        forward[i - 2] = (System.nanoTime() - t1) / 1e9;
                    }
                }
            }
        }
        Arrays.sort(train);
        Arrays.sort(forward);
        return new double[] {1 / train[2], sampleBatch / forward[2]};
    }

}
