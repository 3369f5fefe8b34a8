package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CsvDataset;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.pipeline.A1111Parameters;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.pipeline.GenerationResult;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Generates samples from a model: parse the flags into a request, generate, render the outputs with the run's metadata. */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate samples from a trained model.",
                "2D/vector models: --out FILE.csv writes the points; --out FILE.png draws them over the training data. "
                        + "Image models: --out FILE.png writes a grid of the samples (generation parameters in its PNG text), "
                        + "--images DIR one PNG per sample. "
                        + "--trajectory FILE.gif animates the reverse process (with --forward: noising first, then denoising)."})
final class SampleCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true,
            description = "Run or checkpoint directory written by 'diffuse train'; a Stable Diffusion 1.x/2.x pipeline folder saved by "
                    + "diffusers (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/) or an original SD 1.x/2.x checkpoint "
                    + "FILE.safetensors (NAME.yaml beside it gives its parameterization); or oracle:NAME|FILE.json: the exact "
                    + "denoiser of a Gaussian mixture (8gaussians, 25gaussians, or a mixture file), no training needed.")
    String model;

    @Mixin
    RequestOptions request;

    @Option(names = {"--from", "--from-png"}, description = "Generate again what a PNG records in its text — one diffusion4j wrote (a grid, "
            + "a sample, a studio gallery file) or a Stable Diffusion web UI's 'parameters': its seed, class or prompt, guidance, sampler "
            + "and settings; flags given as well override them.")
    Path from;

    @Option(names = "--prompts", description = "Text-conditioned models: a text file of prompts, one per line (blank lines and "
            + "lines starting with # are skipped): --num images of each, the i-th prompt (from 0) with seed SEED + i, one grid row per "
            + "prompt (with --num 1 a square grid in prompt order); with --images every PNG records its own prompt and seed (for 'diffuse eval --clip').")
    Path promptsFile;

    @Option(names = "--out", required = true, description = "Output FILE.csv (points) or FILE.png (scatter plot; for image models a grid).")
    Path out;

    @Option(names = "--images", description = "Image models: also write every sample as DIR/sample-NNNNN.png.")
    Path imagesDir;

    @Option(names = "--grid-cols", defaultValue = "0", description = "Image models: columns of the grid (default: square).")
    int gridCols;

    @Option(names = "--trajectory", description = "Also write an animated GIF of the process.")
    Path trajectory;

    @Option(names = "--forward", description = "Start the animation with the forward (noising) process.")
    boolean forward;

    @Option(names = "--json", description = "Print a one-line JSON summary last: the generation's metadata and the files written.")
    boolean json;

    @Override
    public Integer call() {
        String ext = extension(out);
        if (!ext.equals("csv") && !ext.equals("png")) {
            throw new DiffusionException("--out must end in .csv or .png, got " + out);
        }
        if (trajectory != null && !extension(trajectory).equals("gif")) {
            throw new DiffusionException("--trajectory must end in .gif, got " + trajectory);
        }
        Map<String, String> recorded = from == null ? null : PngWriter.readText(from);
        if (recorded != null && !recorded.containsKey("sampler") && recorded.containsKey(A1111Parameters.KEY)) {
            recorded = A1111Parameters.parse(recorded.get(A1111Parameters.KEY));   // a web UI's PNG
        }
        if (recorded != null && !recorded.containsKey("sampler")) {
            throw new DiffusionException(from + " records no generation in its text (no sampler, seed or steps); --from takes a PNG "
                    + "that diffusion4j or a Stable Diffusion web UI wrote");
        }
        List<String> prompts = promptsFile == null ? null : readPrompts(promptsFile);
        if (prompts != null) {
            if (request.has("prompt")) {
                throw new DiffusionException("give --prompt or --prompts, not both");
            }
            request.prompt(prompts.get(0));   // the template is checked as a prompted request: guidance options apply
        }
        GenerationRequest r = request.request(model, recorded);
        DiffusionPipeline pipe = DiffusionPipeline.open(r);
        boolean image = pipe.spec().isImage();
        if (image && !ext.equals("png")) {
            throw new DiffusionException(pipe.name() + " is an image model: --out must be a .png grid (and --images DIR for single files)");
        }
        if (!image && imagesDir != null) {
            throw new DiffusionException("--images is for image models; " + pipe.name() + " generates vectors (use --out FILE.csv)");
        }
        PrintWriter pw = spec.commandLine().getOut();
        if (promptsFile != null) {
            return samplePrompts(pipe, r, prompts, pw);
        }
        SamplingProgress progress = new SamplingProgress(pipe, trajectory != null);
        try (Scope scope = Scope.open()) {
            GenerationResult result = pipe.generate(r, progress);
            result.warnings().forEach(w -> spec.commandLine().getErr().println("warning: " + w));
            Map<String, String> text = result.metadata().asText();
            Tensor samples = result.samples();
            if (image) {
                ImageOutputs.grid(samples, gridCols, out, text);
                if (imagesDir != null) {
                    ImageOutputs.individual(samples, imagesDir, text);
                }
            } else if (ext.equals("csv")) {
                CsvDataset.write(out, samples, header(pipe));
            } else {
                Plots.scatter(samples, reference(pipe, 2000), out, "samples — " + pipe.name(), text);
            }
            if (trajectory != null) {
                progress.writeAnimation(trajectory, forward);
            }
            pw.printf(Locale.ROOT, "%d samples in %.2f s (%s, %d steps, %d model evaluations) -> %s%n", r.count(),
                    result.seconds(), r.sampler(), result.metadata().steps(), result.metadata().evaluations(), out);
            if (trajectory != null) {
                pw.println("animation: " + trajectory);
            }
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>(result.metadata().asMap());
                if (text.containsKey(A1111Parameters.KEY)) {
                    m.put(A1111Parameters.KEY, text.get(A1111Parameters.KEY));   // what the PNG carries, the web UI's text included
                }
                m.put("seconds", result.seconds());
                m.put("samples_per_second", r.count() / result.seconds());
                printJson(pw, m, result.warnings());
            }
        }
        pw.flush();
        return 0;
    }

    private void printJson(PrintWriter pw, Map<String, Object> m, List<String> warnings) {
        m.put("out", out.toString());
        if (imagesDir != null) {
            m.put("images", imagesDir.toString());
        }
        if (trajectory != null) {
            m.put("trajectory", trajectory.toString());
        }
        m.put("warnings", warnings);
        JsonLine.print(pw, m);
    }

    /** {@code --prompts}: one request per prompt, the i-th with seed + i, their samples in one grid, a row per prompt (with --num > 1). */
    private int samplePrompts(DiffusionPipeline pipe, GenerationRequest template, List<String> prompts, PrintWriter pw) {
        if (trajectory != null) {
            throw new DiffusionException("--trajectory animates one request; drop it with --prompts");
        }
        List<Tensor> samples = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        Map<String, Object> first = null;
        Map<String, String> text = null;
        double seconds = 0;
        try (Scope scope = Scope.open()) {
            for (int i = 0; i < prompts.size(); i++) {
                GenerationRequest r = template.toBuilder().prompt(prompts.get(i)).seed(template.seed() + i).build();
                pw.printf(Locale.ROOT, "prompt %d of %d: %s%n", i + 1, prompts.size(), prompts.get(i));
                pw.flush();
                GenerationResult result = pipe.generate(r, new SamplingProgress(pipe, false));
                result.warnings().forEach(w -> spec.commandLine().getErr().println("warning: " + w));
                warnings.addAll(result.warnings());
                if (imagesDir != null) {
                    ImageOutputs.individual(result.samples(), imagesDir, result.metadata().asText(), i * r.count());
                }
                samples.add(result.samples());
                seconds += result.seconds();
                if (first == null) {
                    first = new LinkedHashMap<>(result.metadata().asMap());
                    text = new LinkedHashMap<>(result.metadata().asText());
                }
            }
            // the grid records the first prompt's request, the prompt itself replaced by the file's list
            text.remove("prompt");
            text.put("prompts", String.join("\n", prompts));
            // a row per prompt; one sample per prompt (a held-out caption list) fills a square instead of one tall column
            int cols = template.count() > 1 ? template.count() : (int) Math.ceil(Math.sqrt(prompts.size()));
            ImageOutputs.grid(Tensor.cat(samples, 0), cols, out, text);
        }
        int total = prompts.size() * template.count();
        pw.printf(Locale.ROOT, "%d samples of %d prompts in %.2f s (%s) -> %s%n", total, prompts.size(), seconds, template.sampler(), out);
        if (json) {
            first.remove("prompt");
            first.put("prompts", prompts.size());
            first.put("num", total);
            first.put("seconds", seconds);
            first.put("samples_per_second", total / seconds);
            printJson(pw, first, warnings);
        }
        pw.flush();
        return 0;
    }

    static List<String> readPrompts(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new DiffusionException("cannot read --prompts " + file + ": " + e.getMessage());
        }
        List<String> prompts = lines.stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        if (prompts.isEmpty()) {
            throw new DiffusionException("--prompts " + file + " holds no prompt (one per line; # starts a comment line)");
        }
        return prompts;
    }

    /** Column names for a CSV of samples: the training CSV's header when there was one, else x0, x1, .... */
    static String[] header(DiffusionPipeline pipe) {
        Optional<DataSource> src = pipe.trainingData();
        if (src.isPresent() && src.get() instanceof CsvDataset csv) {
            return csv.columnNames().toArray(new String[0]);
        }
        String[] h = new String[pipe.dataDim()];
        for (int i = 0; i < h.length; i++) {
            h[i] = "x" + i;
        }
        return h;
    }

    /** Up to {@code n} points of the training data for plot backgrounds, or null if it cannot be opened any more. */
    static Tensor reference(DiffusionPipeline pipe, int n) {
        return pipe.trainingData().map(d -> d.sample(new Generator(12345), n)).orElse(null);
    }

    static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
