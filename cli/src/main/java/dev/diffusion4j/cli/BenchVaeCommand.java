package dev.diffusion4j.cli;

import dev.diffusion4j.bench.AutoencoderBenchmark;
import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.models.vae.AutoencoderKLConfig;
import dev.diffusion4j.models.vae.AutoencoderSource;
import dev.diffusion4j.tensor.Precision;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Throughput of an autoencoder's training step, encode and decode; bench/pytorch/bench_vae.py is its PyTorch peer. */
@Command(name = "bench-vae", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark an AutoencoderKL: training images/s of its reconstruction step (encode, posterior draw, decode, "
                + "L1 + 1e-6 KL, backward, AdamW; no perceptual network or critic) and no-grad encode and decode images/s, "
                + "fp32 and bf16. bench/pytorch/bench_vae.py measures diffusers' own AutoencoderKL of the same config the same way.",
                "Example: diffuse bench-vae --vae runs/vae --batch 16"})
final class BenchVaeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--vae", description = "The autoencoder's architecture: a train-vae run or a diffusers vae/ folder (its "
            + "config.json; weights are not needed) (default: what 'diffuse train-vae' builds for 64x64 RGB images: levels "
            + "32,64,128, one block each, 4 latent channels).")
    Path vae;

    @Mixin
    BenchPrecisions precisions;

    @Option(names = "--batch", defaultValue = "16", description = "Images per step (default: ${DEFAULT-VALUE}, train-vae's).")
    int batch;

    @Option(names = "--iters", defaultValue = "8", description = "Timed iterations per measurement; the median is reported "
            + "(default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        AutoencoderKLConfig config = vae == null ? AutoencoderKLConfig.of(3, 64, List.of(32, 64, 128), 1, 4, 16)
                : AutoencoderKLConfig.fromConfig(ModelFolder.readConfig(AutoencoderSource.resolve(vae)));
        out.printf(Locale.ROOT, "AutoencoderKL %dx%dx%d -> %d latent channels, levels %s, batch %d%n", config.inChannels(),
                config.sampleSize(), config.sampleSize(), config.latentChannels(), config.blockOutChannels(), batch);
        out.printf(Locale.ROOT, "%-5s %10s %12s %12s %12s%n", "prec", "params", "train img/s", "encode img/s", "decode img/s");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String p : precisions.names()) {
            Map<String, Object> r = AutoencoderBenchmark.measure(config, Precision.parse(p), batch, iters);
            out.printf(Locale.ROOT, "%-5s %,10d %12.1f %12.1f %12.1f%n", r.get("precision"), (long) r.get("parameters"),
                    (double) r.get("train_images_per_s"), (double) r.get("encode_images_per_s"), (double) r.get("decode_images_per_s"));
            out.flush();
            rows.add(r);
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("config", config.toConfig());
            m.put("results", rows);
            JsonLine.print(out, m);
        }
        return 0;
    }
}
