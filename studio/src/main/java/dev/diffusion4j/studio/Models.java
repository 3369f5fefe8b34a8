package dev.diffusion4j.studio;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.models.sd.StableDiffusionFolder;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.model.TextUNet2DConfig;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The models folder: every run directory directly inside it is a model, named by its directory, and
 * so is every Stable Diffusion pipeline folder saved by diffusers or checkpoint file (.safetensors).
 * Names are plain file names checked against {@link #NAME}, and a resolved path must stay inside the
 * folder, so no request can reach a file outside it. Loaded pipelines are cached (the newest few) and
 * reloaded when the run writes a newer checkpoint.
 */
final class Models {
    /** What a model or run name may look like: no separators, no dots at the start. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}");
    private static final int CACHED = 3;

    /** A listed model. */
    record Info(String name, boolean image, long[] shape, List<String> classes, boolean text, long step) {
        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("kind", image ? "image" : "2d");
            m.put("shape", shape);
            m.put("classes", classes);
            m.put("text", text);
            m.put("step", step);
            return m;
        }
    }

    private final Path root;
    private final Map<String, Cached> cache = new LinkedHashMap<>(8, 0.75f, true);

    private record Cached(Path checkpoint, DiffusionPipeline pipeline) {
    }

    Models(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    Path root() {
        return root;
    }

    /** The run directory of {@code name}, which need not exist yet; 400 for a name that could leave the folder. */
    Path dir(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ApiException.badRequest("bad model name '" + name + "': use letters, digits, '_', '-' and '.', at most 64, "
                    + "not starting with a dot");
        }
        Path p = root.resolve(name).normalize();
        if (!p.getParent().equals(root)) {
            throw ApiException.badRequest("model '" + name + "' is outside the models folder");
        }
        return p;
    }

    /** Whether {@code p} is a Stable Diffusion pipeline folder or checkpoint file, which opens as it is. */
    static boolean isStableDiffusion(Path p) {
        return StableDiffusionFolder.isPipelineFolder(p)
                || (Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors"));
    }

    /** The newest checkpoint of model {@code name} (a Stable Diffusion folder or file itself); 404 if there is none. */
    Path checkpoint(String name) {
        Path dir = dir(name);
        if (isStableDiffusion(dir)) {
            return dir;
        }
        Optional<Path> latest = Files.isDirectory(dir) ? CheckpointStore.latest(dir) : Optional.empty();
        return latest.orElseThrow(() -> ApiException.notFound("no model '" + name + "' in " + root));
    }

    List<Info> list() {
        List<Info> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path d : dirs.filter(p -> Files.isDirectory(p) || isStableDiffusion(p)).sorted().toList()) {
                String name = d.getFileName().toString();
                if (!NAME.matcher(name).matches()) {
                    continue;
                }
                try {
                    if (isStableDiffusion(d)) {
                        out.add(info(name, d));
                        continue;
                    }
                    CheckpointStore.latest(d).ifPresent(ckpt -> out.add(info(name, ckpt)));
                } catch (DiffusionException e) {
                    // a run being written or a broken one is not offered
                }
            }
        } catch (IOException e) {
            throw new DiffusionException("cannot list the models folder " + root + ": " + e.getMessage());
        }
        return out;
    }

    Info info(String name) {
        return info(name, checkpoint(name));
    }

    private static Info info(String name, Path ckpt) {
        if (isStableDiffusion(ckpt)) {
            // text-to-image at the model's default size (read without loading the weights)
            return new Info(name, true, StableDiffusionFolder.imageShape(ckpt), List.of(), true, 0);
        }
        Map<String, Object> cfg = Checkpoint.readConfig(ckpt);
        ModelSpec spec = ModelSpec.fromConfig(cfg);
        Map<String, Object> net = ModelSpec.section(cfg, "model");
        List<String> classes = List.of();
        int k = classCount(net);
        if (k > 0) {
            Object data = cfg.get("data");
            Object names = data instanceof Map<?, ?> m ? m.get("class_names") : null;
            List<String> list = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                list.add(names instanceof List<?> l && i < l.size() ? String.valueOf(l.get(i)) : Integer.toString(i));
            }
            classes = list;
        }
        boolean text = TextUNet2DConfig.TYPE.equals(net.get("model_type"));
        return new Info(name, spec.isImage(), spec.outputShape(), classes, text, CheckpointStore.step(ckpt));
    }

    /** Classes a network is conditioned on: a U-Net's class table has one more row (the null label) than classes. */
    private static int classCount(Map<String, Object> net) {
        if (net.get("num_class_embeds") instanceof Number n) {
            return n.intValue() - 1;
        }
        return net.get("num_classes") instanceof Number n ? n.intValue() : 0;
    }

    /** The pipeline of model {@code name} at its newest checkpoint (EMA weights, x̂₀ clipped). */
    synchronized DiffusionPipeline pipeline(String name) {
        Path ckpt = checkpoint(name);
        Cached c = cache.get(name);
        if (c == null || !c.checkpoint().equals(ckpt)) {
            c = new Cached(ckpt, DiffusionPipeline.load(ckpt));
            cache.put(name, c);
            while (cache.size() > CACHED) {
                cache.remove(cache.keySet().iterator().next());
            }
        }
        return c.pipeline();
    }
}
