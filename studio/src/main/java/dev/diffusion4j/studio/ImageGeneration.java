package dev.diffusion4j.studio;

import dev.diffusion4j.data.ImageGrids;
import dev.diffusion4j.guidance.ClassifierFreeGuidance;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.sampling.SamplingListener;
import dev.diffusion4j.sampling.SamplingStep;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
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
        String samplerName = p.choice("sampler", "dpmpp_2m_sde", Samplers.names());
        int steps = p.integer("steps", 20, 1, MAX_STEPS);
        int num = p.integer("num", 16, 1, MAX_NUM);
        long seed = p.integer("seed", 0L, 0L, Long.MAX_VALUE);
        // at most MAX_PREVIEWS previews per job: each is a PNG of the whole batch
        int previewEvery = Math.max(p.integer("previewEvery", 5, 1, MAX_STEPS), (steps + MAX_PREVIEWS - 1) / MAX_PREVIEWS);
        String cls = p.string("class", null, 100);
        String prompt = p.string("prompt", null, MAX_PROMPT_CHARS);
        String negative = p.string("negative", null, MAX_PROMPT_CHARS);
        boolean conditioned = cls != null || prompt != null;
        double guidance = p.number("guidance", conditioned ? 3 : 0, 0, MAX_GUIDANCE);
        if (cls != null && prompt != null) {
            throw ApiException.badRequest("give a class or a prompt, not both");
        }
        if (cls != null && info.classes().isEmpty()) {
            throw ApiException.badRequest(model + " is not class-conditional" + (info.text() ? "; give a prompt" : ""));
        }
        if ((prompt != null || negative != null) && !info.text()) {
            throw ApiException.badRequest(model + " is not text-conditioned, so it takes no prompt"
                    + (info.classes().isEmpty() ? "" : "; give a class"));
        }
        if (negative != null && prompt == null) {
            throw ApiException.badRequest("a negative prompt needs a prompt");
        }
        if (!conditioned && p.has("guidance")) {
            throw ApiException.badRequest("guidance steers towards a class or a prompt: give one");
        }
        DiffusionPipeline base = models.pipeline(model);
        DiffusionPipeline pipe = base;
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("Software", "diffusion4j studio");
        parameters.put("model", model);
        parameters.put("sampler", samplerName);
        parameters.put("steps", Integer.toString(steps));
        parameters.put("seed", Long.toString(seed));
        parameters.put("num", Integer.toString(num));
        if (conditioned) {
            Condition positive = prompt != null ? promptCondition(base, prompt, "prompt") : classCondition(base, info, cls);
            Condition against = negative == null ? null : promptCondition(base, negative, "negative prompt");
            pipe = base.withGuidance(new ClassifierFreeGuidance.Options(positive, against, guidance, 0, Double.POSITIVE_INFINITY, 0), 0);
            parameters.put(prompt != null ? "prompt" : "class", prompt != null ? prompt : info.classes().get(positive.label()));
            if (negative != null) {
                parameters.put("negative", negative);
            }
            parameters.put("guidance", Double.toString(guidance));
        }
        DiffusionPipeline guided = pipe;
        return job -> run(guided, samplerName, steps, num, seed, previewEvery, parameters, job);
    }

    /** The pipeline's own name-or-index lookup, with the index bounded by the model's classes. */
    private static Condition classCondition(DiffusionPipeline pipe, Models.Info info, String cls) {
        int k = pipe.classIndex(cls);
        if (k < 0 || k >= info.classes().size()) {
            throw ApiException.badRequest("unknown class '" + cls + "'; " + pipe.name() + " knows " + String.join(", ", info.classes()));
        }
        return Condition.ofClass(k);
    }

    private static Condition promptCondition(DiffusionPipeline pipe, String text, String what) {
        ClipTokenizer.Encoding e = pipe.encodePrompt(text);
        if (e.truncated()) {
            throw ApiException.badRequest("the " + what + " is longer than the model's " + pipe.contextLength()
                    + " tokens; shorten it");
        }
        return Condition.ofTokens(e.ids());
    }

    private Map<String, Object> run(DiffusionPipeline pipe, String samplerName, int steps, int num, long seed, int previewEvery,
            Map<String, String> parameters, Job job) {
        pipe.spec().network().applyThreadPolicy();
        try (Scope s = Scope.open()) {
            Tensor images = pipe.sample(num, Explorer.sampler(samplerName, steps), seed, new SamplingListener() {
                @Override
                public void onStep(SamplingStep step) {
                    boolean last = step.index() + 1 == step.total();
                    if ((step.index() + 1) % previewEvery == 0 || last) {
                        try (Scope inner = Scope.open()) {
                            job.emit("preview", Map.of("step", step.index() + 1, "total", step.total(),
                                    "image", dataUrl(step.denoised().clamp(-1, 1))));
                        }
                    }
                    job.progress(step.index() + 1, step.total(), null);
                }

                @Override
                public boolean isCancelled() {
                    return job.cancelRequested();
                }
            });
            String file = gallery.add(images, job.id(), parameters);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("image", "api/gallery/" + file);
            m.put("file", file);
            m.put("parameters", parameters);
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
