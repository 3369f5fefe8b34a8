package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.bench.LatentUNetBenchmark;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.model.NetworkConfig;
import dev.diffusion4j.model.TextEncoderConfig;
import dev.diffusion4j.model.TextUNet2DConditionConfig;
import dev.diffusion4j.model.UNet2DConfig;
import dev.diffusion4j.models.unet.UNet2DConditionConfig;
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

/** Throughput of the latent text-to-image U-Net; bench/pytorch/bench_latent_unet.py is its PyTorch peer. */
@Command(name = "bench-latent", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark the latent text-to-image U-Net (UNet2DConditionModel, diffusers' names): training images/s "
                + "of its step (the trainer's ε-prediction loss on latents with a prompt context through cross-attention, "
                + "backward, AdamW; the frozen text encoder left out) and sampling image-NFE/s, fp32 and bf16. "
                + "bench/pytorch/bench_latent_unet.py measures diffusers' own UNet2DConditionModel of the same config the same way.",
                "Example: diffuse bench-latent --channels 64,128,192"})
final class BenchLatentCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "A latent text model trained with --model unet2d-condition (its U-Net's "
            + "config; weights are not needed). Default: what 'diffuse train --data emoji --latent VAE --text --model "
            + "unet2d-condition' builds on train-vae's 4x16x16 latents, at the widths --channels gives.")
    Path model;

    @Option(names = "--channels", split = ",", paramLabel = "C1,C2,...", description = "U-Net widths per level without "
            + "--model (default: the trainer's default for 16x16 latents).")
    int[] channels;

    @Mixin
    BenchPrecisions precisions;

    @Option(names = "--batch", defaultValue = "64", description = "Latents per training step (default: ${DEFAULT-VALUE}, "
            + "the trainer's for images).")
    int batch;

    @Option(names = "--sample-batch", defaultValue = "64", description = "Latents per no-grad forward (default: ${DEFAULT-VALUE}).")
    int sampleBatch;

    @Option(names = "--iters", defaultValue = "8", description = "Timed iterations per measurement; the median is reported "
            + "(default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        TextUNet2DConditionConfig network = network();
        UNet2DConditionConfig config = network.unet();
        int tokens = network.textEncoder().maxPositionEmbeddings();
        network.applyThreadPolicy();
        out.printf(Locale.ROOT, "UNet2DConditionModel on %dx%dx%d latents, levels %s, context %d tokens x %d, batch %d%n",
                config.inChannels(), config.sampleSize(), config.sampleSize(), config.blockOutChannels(), tokens,
                config.crossAttentionDim(), batch);
        out.printf(Locale.ROOT, "%-5s %10s %12s %16s%n", "prec", "params", "train img/s", "sample img*NFE/s");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String p : precisions.names()) {
            Map<String, Object> r = LatentUNetBenchmark.measure(config, Precision.parse(p), batch, sampleBatch, tokens, iters);
            out.printf(Locale.ROOT, "%-5s %,10d %12.1f %16.1f%n", r.get("precision"), (long) r.get("parameters"),
                    (double) r.get("train_images_per_s"), (double) r.get("sample_image_nfe_per_s"));
            out.flush();
            rows.add(r);
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("config", config.toConfig());
            m.put("tokens", tokens);
            m.put("results", rows);
            JsonLine.print(out, m);
        }
        return 0;
    }

    private TextUNet2DConditionConfig network() {
        if (model == null) {
            UNet2DConfig unet = channels == null ? UNet2DConfig.defaults(4, 16) : UNet2DConfig.defaults(4, 16, channels);
            return TextUNet2DConditionConfig.of(unet, TextEncoderConfig.defaults());
        }
        if (channels != null) {
            throw new DiffusionException("--channels builds a U-Net; --model reads one: give one of them");
        }
        Path checkpoint = CheckpointStore.resolve(model);
        @SuppressWarnings("unchecked")
        Map<String, Object> section = (Map<String, Object>) ModelFolder.readConfig(checkpoint).get("model");
        if (section == null || !(NetworkConfig.fromConfig(section) instanceof TextUNet2DConditionConfig c)) {
            throw new DiffusionException(model + " is not a model trained with --text --model unet2d-condition");
        }
        return c;
    }
}
