package dev.diffusion4j.eval;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.GaussianMixture;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The fidelity/diversity trade-off of guidance: for each weight, samples of every class — of a
 * class-conditional model by its label, of a text-conditioned one by a prompt naming the class, or
 * of any image model by classifier guidance with a classifier of noisy images — generated through
 * the one request path, then scored. 2D models of a built-in mixture: the {@link MixtureFit} of
 * each class's samples to its component. Image models: the share a feature classifier assigns to
 * the class asked for, and the {@link ImageQuality} report (FID, IS, … next to their floors) of all
 * of them against the training data.
 */
public final class GuidanceSweep {
    /** Samples per class and weight unless told: 2D models are cheap, image models are not. */
    public static final int DEFAULT_VECTOR_SAMPLES = 500;
    public static final int DEFAULT_IMAGE_SAMPLES = 100;
    /** Samples per class kept for an image model's grid. */
    public static final int SHOWN_PER_CLASS = 10;

    /**
     * @param weights         guidance weights w (or classifier scales s)
     * @param perClass        samples per class and weight; 0 for the default
     * @param promptTemplate  text-conditioned models: the prompt asking for a class, {name} its name
     * @param guideClassifier a classifier of noisy images: sweep classifier guidance instead; null for classifier-free
     * @param features        image models: the feature classifier scoring the samples; null for the built-in one
     */
    public record Settings(double[] weights, int perClass, String sampler, int steps, long seed, String promptTemplate,
                           Path guideClassifier, Path features) {
        public Settings {
            if (weights.length == 0 || perClass < 0) {
                throw new DiffusionException("a sweep needs at least one weight and a positive number of samples per class");
            }
            weights = weights.clone();
        }
    }

    /** One weight: its figures, and for image models the first samples of every class (one row each) for a grid. */
    public record Row(double weight, Map<String, Object> figures, Tensor shown) {
    }

    /** Called after each class of each weight. */
    @FunctionalInterface
    public interface Progress {
        void classDone(int done, int total, double weight);
    }

    private final DiffusionPipeline pipe;
    private final Settings settings;
    private final List<String> classNames;
    private final int classes;

    public GuidanceSweep(DiffusionPipeline pipe, Settings settings) {
        this.pipe = pipe;
        this.settings = settings;
        if (settings.guideClassifier() != null) {
            if (!pipe.spec().isImage()) {
                throw new DiffusionException("a guide classifier guides image models; " + pipe.name() + " generates vectors");
            }
            ImageClassifier guide = ImageClassifier.load(settings.guideClassifier());
            if (!guide.config().noisy()) {
                throw new DiffusionException(settings.guideClassifier() + " was trained on clean images; classifier guidance needs one "
                        + "trained on noisy images");
            }
            this.classNames = guide.config().classNames();
            this.classes = guide.config().numClasses();
        } else {
            this.classNames = !pipe.classNames().isEmpty() ? pipe.classNames()
                    : pipe.trainingData().map(DataSource::classNames).orElse(List.of());
            this.classes = pipe.contextLength() > 0 ? classNames.size() : pipe.numClasses();
        }
        if (classes == 0) {
            throw new DiffusionException(pipe.name() + " is not conditional; train one on labels or captions, or sweep classifier "
                    + "guidance with a classifier of noisy images");
        }
    }

    /** Classes asked for: the guiding classifier's, a class-conditional model's, or the class names behind a text model's captions. */
    public int classes() {
        return classes;
    }

    /** The prompt asking for class k (text-conditioned models). */
    public String prompt(int k) {
        return settings.promptTemplate().replace("{name}", classNames.get(k).toLowerCase(Locale.ROOT));
    }

    /** Whether the sweep steers by prompts. */
    public boolean byPrompt() {
        return settings.guideClassifier() == null && pipe.contextLength() > 0;
    }

    /** The request for {@code count} samples of class {@code k} at weight {@code w}. */
    public GenerationRequest request(int k, double w, int count) {
        GenerationRequest.Builder b = GenerationRequest.builder().sampler(settings.sampler()).steps(settings.steps()).count(count)
                .seed(settings.seed() + k);
        if (settings.guideClassifier() != null) {
            return b.label(Integer.toString(k)).classifierScale(w).classifier(settings.guideClassifier()).build();
        }
        return (byPrompt() ? b.prompt(prompt(k)) : b.label(Integer.toString(k))).guidance(w).build();
    }

    /** Runs the sweep, one row per weight. */
    public List<Row> run(Progress progress) {
        return pipe.spec().isImage() ? images(progress) : vectors(progress);
    }

    private List<Row> vectors(Progress progress) {
        int perClass = settings.perClass() > 0 ? settings.perClass() : DEFAULT_VECTOR_SAMPLES;
        GaussianMixture mixture = mixture();
        List<Row> rows = new ArrayList<>();
        double[] weights = settings.weights();
        for (int i = 0; i < weights.length; i++) {
            double inComponent = 0;
            double within = 0;
            double spread = 0;
            for (int k = 0; k < classes; k++) {
                try (Scope scope = Scope.open()) {
                    MixtureFit fit = MixtureFit.of(pipe.generate(request(k, weights[i], perClass)).samples(), mixture, k);
                    inComponent += fit.inComponent();
                    within += fit.within3Std();
                    spread += fit.spreadRatio();
                }
                progress.classDone(i * classes + k + 1, weights.length * classes, weights[i]);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("w", weights[i]);
            m.put("in_component", inComponent / classes);
            m.put("within_3_std", within / classes);
            m.put("spread_ratio", spread / classes);
            rows.add(new Row(weights[i], m, null));
        }
        return rows;
    }

    private List<Row> images(Progress progress) {
        int perClass = settings.perClass() > 0 ? settings.perClass() : DEFAULT_IMAGE_SAMPLES;
        long[] shape = pipe.sampleShape();
        String source = dataSource();
        if (!(DataSources.open(source, new ImageOptions((int) shape[1], (int) shape[0], false)) instanceof ImageDataset data)) {
            throw new DiffusionException(pipe.name() + " is an image model but its data set " + source + " does not open as images");
        }
        ImageClassifier features = ImageClassifier.features(settings.features(), shape[0], shape[1], shape[2]);
        if (features.config().numClasses() != classes) {
            throw new DiffusionException("the feature classifier knows " + features.config().numClasses() + " classes but " + pipe.name()
                    + " is conditioned on " + classes);
        }
        List<Row> rows = new ArrayList<>();
        double[] weights = settings.weights();
        for (int i = 0; i < weights.length; i++) {
            try (Scope scope = Scope.open()) {
                List<Tensor> parts = new ArrayList<>();
                long[] labels = new long[classes * perClass];
                for (int k = 0; k < classes; k++) {
                    parts.add(pipe.generate(request(k, weights[i], perClass)).samples());
                    Arrays.fill(labels, k * perClass, (k + 1) * perClass, k);
                    progress.classDone(i * classes + k + 1, weights.length * classes, weights[i]);
                }
                Tensor all = Tensor.cat(parts, 0);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("w", weights[i]);
                m.put("accuracy", features.accuracy(all, Tensor.of(labels, labels.length)));
                m.putAll(ImageQuality.evaluate(all, data, features, settings.seed()).toMap());
                int shown = Math.min(SHOWN_PER_CLASS, perClass);
                Tensor grid = Tensor.cat(parts.stream().map(p -> p.narrow(0, 0, shown)).toList(), 0);
                rows.add(new Row(weights[i], m, scope.keep(grid)));
            }
        }
        return rows;
    }

    private String dataSource() {
        Object data = pipe.config().get("data");
        Object source = data instanceof Map<?, ?> m ? m.get("source") : null;
        if (!(source instanceof String name)) {
            throw new DiffusionException(pipe.name() + "'s config names no training data");
        }
        return name;
    }

    private GaussianMixture mixture() {
        String source = dataSource();
        if (DataSources.open(source) instanceof Toy2D toy && toy.mixture().isPresent()) {
            return toy.mixture().get();
        }
        throw new DiffusionException("a 2D guidance sweep scores classes against the components of a built-in mixture (8gaussians, "
                + "25gaussians); " + pipe.name() + " was trained on " + source);
    }
}
