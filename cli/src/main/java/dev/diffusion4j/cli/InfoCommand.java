package dev.diffusion4j.cli;

import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Describes a checkpoint: configuration, parameter count and training state. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show a trained model's configuration, size and training state.")
final class InfoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "Run directory, checkpoint directory, a diffusers pipeline folder or a Stable Diffusion checkpoint file.")
    Path dir;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        if (pipe.checkpoint() == null) {
            return pipelineFolder(out, pipe);
        }
        Path ckpt = pipe.checkpoint().dir();
        Map<String, Object> state = pipe.checkpoint().trainerState();
        Map<String, Object> cfg = pipe.config();
        out.println("checkpoint:  " + ckpt);
        out.println("model:       " + cfg.get("model"));
        out.println("scheduler:   " + cfg.get("scheduler"));
        String varianceType = pipe.isOracle() ? "fixed" : pipe.spec().network().varianceType().configName();
        out.println("variance:    " + (varianceType.equals("fixed")
                ? "fixed (sample with --variance fixed_small or fixed_large)"
                : varianceType + " (learned by the network; sample and score with --variance learned_range)"));
        Object data = cfg.get("data");
        if (data instanceof Map<?, ?> d) {
            String shape = pipe.spec().isImage()
                    ? String.join("x", java.util.Arrays.stream(pipe.sampleShape()).mapToObj(Long::toString).toList()) + " images"
                    : pipe.dataDim() + " dims";
            out.println("data:        " + d.get("source") + " (" + shape + ")");
        }
        if (pipe.isLatent()) {
            var latent = pipe.spec().latent();
            out.println("latent:      " + String.join("x", java.util.Arrays.stream(pipe.spec().network().sampleShape())
                    .mapToObj(Long::toString).toList()) + " of the autoencoder from " + latent.source() + " (weights sha256 "
                    + latent.sha256().substring(0, 16) + "…; a copy is in the checkpoint)");
        }
        out.printf(Locale.ROOT, "parameters:  %,d%n", pipe.parameterCount());
        Object training = cfg.get("training");
        long step = ((Number) state.get("step")).longValue();
        Object total = training instanceof Map<?, ?> t ? t.get("steps") : "?";
        double elapsed = ((Number) state.get("elapsed_seconds")).doubleValue();
        out.printf(Locale.ROOT, "training:    step %d of %s, %s of training%n", step, total, ProgressBar.formatDuration(elapsed));
        Object log = state.get("loss_log");
        Double lastLoss = null;
        if (log instanceof List<?> l && !l.isEmpty() && l.get(l.size() - 1) instanceof List<?> e) {
            lastLoss = ((Number) e.get(1)).doubleValue();
            out.printf(Locale.ROOT, "last loss:   %.5f%n", lastLoss);
        }
        out.println("weights:     " + (pipe.usesEmaWeights() ? "EMA (ema.safetensors)" : "raw (model.safetensors)"));
        out.println("checkpoints: " + CheckpointStore.list(ckpt.getParent()).stream().map(p -> p.getFileName().toString()).toList());
        try (Stream<Path> files = Files.list(ckpt)) {
            for (Path f : files.sorted().toList()) {
                out.printf(Locale.ROOT, "  %-22s %,12d bytes%n", f.getFileName(), Files.size(f));
            }
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("checkpoint", ckpt.toString());
            m.put("parameters", pipe.parameterCount());
            m.put("step", step);
            m.put("elapsed_seconds", elapsed);
            m.put("last_loss", lastLoss);
            m.put("variance_type", varianceType);
            m.put("config", cfg);
            JsonLine.print(out, m);
        }
        out.flush();
        return 0;
    }

    /** A pipeline folder of another tool: its parts, their sizes and what it generates by default. */
    private int pipelineFolder(PrintWriter out, DiffusionPipeline pipe) {
        Map<String, Object> cfg = pipe.config();
        long[] image = pipe.sampleShape();
        long[] latent = pipe.spec().network().sampleShape();
        out.println("pipeline:    " + dir + " (" + ((Map<?, ?>) cfg.get("model_index")).get("_class_name") + ")");
        out.println("model:       " + cfg.get("model"));
        out.println("scheduler:   " + cfg.get("scheduler"));
        out.println("images:      " + image[1] + "x" + image[2] + " by default, from " + latent[0] + "x" + latent[1] + "x" + latent[2]
                + " latents (sizes in multiples of " + pipe.spec().network().sizeMultiple() * image[1] / latent[1] + ")");
        out.println("prompts:     " + pipe.contextLength() + " tokens");
        out.printf(Locale.ROOT, "parameters:  %,d (text encoder and U-Net)%n", pipe.parameterCount());
        if (cfg.get("ignored_keys") instanceof List<?> ignored) {
            out.println("not read:    " + ignored.size() + " keys the training code saved besides the weights: "
                    + ignored.stream().limit(6).map(String::valueOf).toList() + (ignored.size() > 6 ? " …" : ""));
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pipeline", dir.toString());
            m.put("parameters", pipe.parameterCount());
            m.put("config", cfg);
            JsonLine.print(out, m);
        }
        out.flush();
        return 0;
    }
}
