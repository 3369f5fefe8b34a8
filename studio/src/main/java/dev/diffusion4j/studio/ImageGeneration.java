package dev.diffusion4j.studio;

import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationListener;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.pipeline.GenerationResult;
import dev.diffusion4j.sampling.SamplingStep;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.ImageGrids;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Image generation as a job: an image model from the models folder, optionally steered to a class or
 * prompt by classifier-free guidance; every few steps the current x̂₀ estimates go out as a preview
 * image, and the final grid lands in the gallery with its parameters in the PNG text.
 */
final class ImageGeneration {
    static final int MAX_NUM = 64;
    static final int MAX_STEPS = 200;
    static final int MAX_PROMPT_CHARS = 1000;
    static final double MAX_GUIDANCE = 30;
    static final int MAX_PREVIEWS = 50;
    static final int MAX_LEVEL_STEPS = 1000;
    static final int MAX_CORRECTOR_STEPS = 20;
    static final int MAX_FIELD_CHARS = 1000;
    static final int MAX_SIDE = 256;
    /** Request fields that are file paths: the studio takes models from its own folder only. */
    static final java.util.Set<String> PATHS = java.util.Set.of("model", "classifier", "lora");

    private final Models models;
    private final Gallery gallery;

    ImageGeneration(Models models, Gallery gallery) {
        this.models = models;
        this.gallery = gallery;
    }

    Job.Work prepare(Params p) {
        String model = p.required("model");
        Models.Info info = models.info(model);
        if (!info.image()) {
            throw ApiException.badRequest(model + " is a 2D model; generate takes image models (use the explorer for 2D)");
        }
        // the server's limits: every number that sets the amount of work is bounded
        int steps = p.integer("steps", 20, 1, MAX_STEPS);
        p.integer("level_steps", 0, 0, MAX_LEVEL_STEPS);
        p.integer("corrector_steps", 1, 0, MAX_CORRECTOR_STEPS);
        p.number("guidance", GenerationRequest.DEFAULT_GUIDANCE, 0, MAX_GUIDANCE);
        p.string("prompt", null, MAX_PROMPT_CHARS);
        p.string("negative", null, MAX_PROMPT_CHARS);
        String size = p.string("size", null, 20);
        if (size != null && !size.matches("(\\d{1,3})x(\\d{1,3})") || size != null
                && java.util.Arrays.stream(size.split("x")).mapToInt(Integer::parseInt).anyMatch(v -> v > MAX_SIDE)) {
            throw ApiException.badRequest("size must be HEIGHTxWIDTH with sides up to " + MAX_SIDE + " pixels, got " + size);
        }
        // at most MAX_PREVIEWS previews per job: each is a PNG of the whole batch
        int previewEvery = Math.max(p.integer("previewEvery", 5, 1, MAX_STEPS), (steps + MAX_PREVIEWS - 1) / MAX_PREVIEWS);
        GenerationRequest.Builder b = GenerationRequest.builder().model(models.checkpoint(model).toString()).steps(steps)
                .count(p.integer("num", 16, 1, MAX_NUM));
        // every other field of a request passes through as core reads it; paths (model, classifier) never come from a request
        for (String field : GenerationRequest.Builder.FIELDS) {
            if (!PATHS.contains(field) && !field.equals("num") && p.has(field)) {
                b.set(field, p.string(field, null, MAX_FIELD_CHARS));
            }
        }
        GenerationRequest request = b.build();
        DiffusionPipeline pipe = models.pipeline(model);
        pipe.check(request);   // a bad class, prompt or sampler is a 400 now, not a failed job later
        return job -> run(pipe, request, previewEvery, job);
    }

    private Map<String, Object> run(DiffusionPipeline pipe, GenerationRequest request, int previewEvery, Job job) {
        pipe.spec().network().applyThreadPolicy();
        try (Scope s = Scope.open()) {
            GenerationResult result = pipe.generate(request, new GenerationListener() {
                @Override
                public void onStep(int batch, int batches, SamplingStep step) {
                    boolean last = batch + 1 == batches && step.index() + 1 == step.total();
                    if ((step.index() + 1) % previewEvery == 0 || last) {
                        try (Scope inner = Scope.open()) {
                            job.emit("preview", Map.of("step", step.index() + 1, "total", step.total(),
                                    "image", dataUrl(pipe.preview(step.denoised()).clamp(-1, 1))));
                        }
                    }
                    job.progress((long) batch * step.total() + step.index() + 1, (long) batches * step.total(), null);
                }

                @Override
                public boolean isCancelled() {
                    return job.cancelRequested();
                }
            });
            Map<String, String> parameters = result.metadata().asText();
            String file = gallery.add(result.samples(), job.id(), parameters);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("image", "api/gallery/" + file);
            m.put("file", file);
            m.put("parameters", parameters);
            m.put("warnings", result.warnings());
            return m;
        }
    }

    static String dataUrl(Tensor images) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(ImageGrids.render(images, 0), "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
    }
}
