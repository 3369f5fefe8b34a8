package dev.diffusion4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.GroupNorm;
import dev.diffusion4j.nn.Linear;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.SinusoidalEmbedding;
import dev.diffusion4j.nn.TimestepEmbedding;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A small convolutional classifier whose pooled features stand in for Inception-v3's in FID, KID
 * and precision/recall, and whose class probabilities give the Inception-Score-style score. It
 * runs offline on the machines diffusion4j targets: about 30 MFLOP per 28×28 image.
 *
 * <p>Layout (input in [−1, 1], [n, c, s, s]): 3×3 conv to w₀ at full resolution, 2×2 max pool;
 * two 3×3 convs to w₁, max pool; 3×3 conv to w₂; global average pool → the w₂-dimensional
 * feature vector; linear → logits. Each conv is followed by GroupNorm and ReLU; GroupNorm rather
 * than BatchNorm so that training and evaluation compute the same function with no running
 * statistics to keep.
 *
 * <p>A <em>noisy</em> classifier (Dhariwal &amp; Nichol 2021, sec. 4) reads x = x₀ + σ·n, scaled to
 * x/√(1 + σ²), and is told σ: a sinusoidal embedding of log σ passes through an MLP, and each
 * GroupNorm output h becomes h·(1 + a) + b with (a, b) from that embedding (FiLM). It gives the
 * log p(y | x; σ) that classifier guidance differentiates.
 */
public final class ImageClassifier extends Module implements NoisyClassifier {
    /** The noise levels a noisy classifier is trained on and told apart, log-uniformly: beyond them σ is clamped. */
    public static final double SIGMA_MIN = 0.002;
    public static final double SIGMA_MAX = 160;
    /** Where the trained Fashion-MNIST classifier ships. */
    static final String BUILT_IN_RESOURCE = "/dev/diffusion4j/eval/fashion-mnist-classifier.safetensors";
    /** The file inside a classifier directory. */
    public static final String FILE = "classifier.safetensors";
    private static final String CONFIG_KEY = "config";

    /** What a classifier reads and predicts. */
    public record Config(int channels, int imageSize, List<String> classNames, List<Integer> widths, String data, boolean noisy) {
        public Config {
            if (channels != 1 && channels != 3) {
                throw new DiffusionException("a classifier reads 1 (grey) or 3 (RGB) channels, not " + channels);
            }
            if (imageSize < 8 || imageSize % 4 != 0) {
                throw new DiffusionException("a classifier's image size must be a multiple of 4 and at least 8, not " + imageSize);
            }
            if (classNames.size() < 2) {
                throw new DiffusionException("a classifier needs at least two classes, got " + classNames.size());
            }
            if (widths.size() != 3 || widths.stream().anyMatch(w -> w < 8 || w % 8 != 0)) {
                throw new DiffusionException("classifier widths must be three multiples of 8, got " + widths);
            }
            classNames = List.copyOf(classNames);
            widths = List.copyOf(widths);
        }

        /** The default widths 32, 64, 128. */
        public static Config of(int channels, int imageSize, List<String> classNames, String data) {
            return new Config(channels, imageSize, classNames, List.of(32, 64, 128), data, false);
        }

        /** This classifier made noise-aware (or not). */
        public Config withNoisy(boolean n) {
            return new Config(channels, imageSize, classNames, widths, data, n);
        }

        public int numClasses() {
            return classNames.size();
        }

        public int featureDim() {
            return widths.get(2);
        }

        /** "1x28x28". */
        public String inputShape() {
            return channels + "x" + imageSize + "x" + imageSize;
        }

        String toJson() {
            ObjectNode o = Json.mapper().createObjectNode();
            o.put("channels", channels);
            o.put("image_size", imageSize);
            o.putPOJO("class_names", classNames);
            o.putPOJO("widths", widths);
            o.put("data", data);
            o.put("noisy", noisy);
            return o.toString();
        }

        static Config fromJson(String text, String where) {
            try {
                JsonNode o = Json.mapper().readTree(text);
                List<String> names = new ArrayList<>();
                o.get("class_names").forEach(n -> names.add(n.asText()));
                List<Integer> widths = new ArrayList<>();
                o.get("widths").forEach(n -> widths.add(n.asInt()));
                return new Config(o.get("channels").asInt(), o.get("image_size").asInt(), names, widths, o.path("data").asText(""),
                        o.path("noisy").asBoolean(false));
            } catch (IOException | NullPointerException e) {
                throw new DiffusionException(where + " has no valid classifier configuration (" + e.getMessage() + ")");
            }
        }
    }

    private final Config config;
    private final Conv2d conv0;
    private final GroupNorm norm0;
    private final Conv2d conv1;
    private final GroupNorm norm1;
    private final Conv2d conv2;
    private final GroupNorm norm2;
    private final Conv2d conv3;
    private final GroupNorm norm3;
    private final Linear head;
    private final SinusoidalEmbedding noiseProj;
    private final TimestepEmbedding noiseEmbedding;
    private final Linear[] films;

    public ImageClassifier(Config config, Generator g) {
        this.config = config;
        int w0 = config.widths().get(0);
        int w1 = config.widths().get(1);
        int w2 = config.widths().get(2);
        conv0 = child("conv0", new Conv2d(config.channels(), w0, 3, g));
        norm0 = child("norm0", new GroupNorm(8, w0));
        conv1 = child("conv1", new Conv2d(w0, w1, 3, g));
        norm1 = child("norm1", new GroupNorm(8, w1));
        conv2 = child("conv2", new Conv2d(w1, w1, 3, g));
        norm2 = child("norm2", new GroupNorm(8, w1));
        conv3 = child("conv3", new Conv2d(w1, w2, 3, g));
        norm3 = child("norm3", new GroupNorm(8, w2));
        head = child("head", new Linear(w2, config.numClasses(), g));
        noiseProj = config.noisy() ? new SinusoidalEmbedding(w0) : null;
        noiseEmbedding = config.noisy() ? child("noise_embedding", new TimestepEmbedding(w0, 4 * w0, g)) : null;
        films = new Linear[config.noisy() ? 4 : 0];
        int[] widths = {w0, w1, w1, w2};
        for (int i = 0; i < films.length; i++) {
            films[i] = child("film" + i, new Linear(4 * w0, 2 * widths[i], g));
        }
    }

    public Config config() {
        return config;
    }

    /** Pooled features [n, featureDim] of images [n, c, s, s] in [−1, 1] (for a noisy classifier: at the lowest noise level). */
    public Tensor features(Tensor x) {
        return features(x, config.noisy() ? Tensor.full(SIGMA_MIN, x.size(0)) : null);
    }

    /**
     * Pooled features of images x/√(1 + σ²) (x = x₀ + σ·n) at noise levels {@code sigma} [n] (or [1]);
     * {@code sigma} must be null for a clean classifier and given for a noisy one.
     */
    public Tensor features(Tensor x, Tensor sigma) {
        List<Tensor> maps = featureMaps(x, sigma);
        return maps.get(maps.size() - 1).mean(new long[] {2, 3}, false);
    }

    /**
     * The activations after each of the four convolution blocks (before pooling), [n, width, h, w]
     * from full to quarter resolution: what a perceptual distance compares. {@code sigma} as in
     * {@link #features(Tensor, Tensor)}.
     */
    public List<Tensor> featureMaps(Tensor x, Tensor sigma) {
        checkInput(x);
        if (config.noisy() != (sigma != null)) {
            throw new IllegalArgumentException(config.noisy() ? "a noisy classifier needs noise levels" : "a clean classifier takes no noise level");
        }
        Tensor emb = sigma == null ? null : noiseEmbedding.forward(noiseProj.forward(noiseTimestep(sigma, x.size(0)))).silu();
        Tensor h0 = film(0, norm0.forward(conv0.forward(x)), emb).relu();
        Tensor h1 = film(1, norm1.forward(conv1.forward(h0.maxPool2d(2, 2))), emb).relu();
        Tensor h2 = film(2, norm2.forward(conv2.forward(h1)), emb).relu();
        Tensor h3 = film(3, norm3.forward(conv3.forward(h2.maxPool2d(2, 2))), emb).relu();
        return List.of(h0, h1, h2, h3);
    }

    /** log σ mapped linearly onto [0, 1000], the range the sinusoidal embedding is made for; [n]. */
    private static Tensor noiseTimestep(Tensor sigma, long n) {
        double lo = Math.log(SIGMA_MIN);
        double hi = Math.log(SIGMA_MAX);
        Tensor t = sigma.to(dev.diffusion4j.tensor.DType.FLOAT32).clamp(SIGMA_MIN, SIGMA_MAX).log().sub(lo).mul(1000 / (hi - lo));
        return t.numel() == 1 ? t.reshape(1).expand(n) : t.reshape(n);
    }

    /** h·(1 + a) + b with (a, b) = film_i(emb), per channel; h itself for a clean classifier. */
    private Tensor film(int i, Tensor h, Tensor emb) {
        if (emb == null) {
            return h;
        }
        Tensor ab = films[i].forward(emb).view(h.size(0), 2 * h.size(1), 1, 1);
        return h.mul(ab.narrow(1, 0, h.size(1)).add(1.0)).add(ab.narrow(1, h.size(1), h.size(1)));
    }

    /**
     * log p(y | x; σ) [n, classes] for x = x₀ + σ·n in the data's scale ([−1, 1] images), differentiable
     * in x; only for a noisy classifier.
     */
    @Override
    public Tensor logProbabilities(Tensor x, Tensor sigma) {
        if (!config.noisy()) {
            throw new DiffusionException("this classifier was trained on clean images; classifier guidance needs one trained on noisy "
                    + "images");
        }
        Tensor s = sigma.to(dev.diffusion4j.tensor.DType.FLOAT32);
        Tensor scale = s.square().add(1.0).rsqrt();
        Tensor xs = x.to(dev.diffusion4j.tensor.DType.FLOAT32);
        xs = xs.mul(scale.numel() == 1 ? scale : scale.view(x.size(0), 1, 1, 1));
        return logits(features(xs, s)).logSoftmax(1);
    }

    /** Logits [n, classes] from features, at inference. */
    public Tensor logits(Tensor features) {
        return head.forward(features);
    }

    /** Logits [n, classes] from features in training, with dropout 0.2 on the features drawn from {@code dropoutGen}. */
    public Tensor trainingLogits(Tensor features, Generator dropoutGen) {
        return head.forward(features.dropout(0.2, dropoutGen));
    }

    /** Logits [n, classes] of images. */
    public Tensor classify(Tensor x) {
        return logits(features(x));
    }

    /** Features and class probabilities of many images, in batches, without gradients. */
    public record Outputs(Tensor features, Tensor probabilities) {
    }

    public Outputs evaluate(Tensor images, int batch) {
        List<Tensor> feats = new ArrayList<>();
        List<Tensor> probs = new ArrayList<>();
        long n = images.size(0);
        Backend.useThreadPolicy(Backend.ThreadPolicy.OP_PARALLEL);   // a conv net
        try (NoGrad ng = NoGrad.inference()) {
            for (long i = 0; i < n; i += batch) {
                try (Scope s = Scope.open()) {
                    Tensor f = features(images.narrow(0, i, Math.min(batch, n - i)));
                    Tensor p = logits(f).softmax(1);
                    feats.add(s.keep(f));
                    probs.add(s.keep(p));
                }
            }
        }
        return new Outputs(Tensor.cat(feats, 0), Tensor.cat(probs, 0));
    }

    /** Fraction of {@code images} whose predicted class equals {@code labels}. */
    public double accuracy(Tensor images, Tensor labels) {
        try (Scope s = Scope.open()) {
            Tensor predicted = evaluate(images, 500).probabilities().argmax(1);
            return predicted.eq(labels).to(dev.diffusion4j.tensor.DType.FLOAT32).mean().item();
        }
    }

    /**
     * Fraction of {@code images} x₀ + σ·n (fresh noise from {@code g}) that a noisy classifier puts in
     * their class {@code labels}.
     */
    public double noisyAccuracy(Tensor images, Tensor labels, double sigma, Generator g) {
        long n = images.size(0);
        long correct = 0;
        try (NoGrad ng = NoGrad.inference()) {
            for (long i = 0; i < n; i += 500) {
                try (Scope s = Scope.open()) {
                    Tensor x = images.narrow(0, i, Math.min(500, n - i));
                    Tensor noisy = x.add(Tensor.randn(g, x.shape()).mul(sigma));
                    Tensor predicted = logProbabilities(noisy, Tensor.full(sigma, 1)).argmax(1);
                    correct += (long) predicted.eq(labels.narrow(0, i, x.size(0))).sum().item();
                }
            }
        }
        return (double) correct / n;
    }

    private void checkInput(Tensor x) {
        long[] s = x.shape();
        if (s.length != 4 || s[1] != config.channels() || s[2] != config.imageSize() || s[3] != config.imageSize()) {
            throw new DiffusionException("this classifier reads " + config.inputShape() + " images, got a batch of shape "
                    + Arrays.toString(s) + (s.length == 4 ? " (" + s[1] + "x" + s[2] + "x" + s[3] + ")" : ""));
        }
    }

    /** Writes the weights with the configuration in the file's metadata, atomically. */
    public void save(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new DiffusionException("cannot create the folder for " + file + ": " + AtomicFiles.reason(e));
        }
        Safetensors.write(file, stateDict(), Map.of(CONFIG_KEY, config.toJson(), "format", "diffusion4j-image-classifier"));
    }

    /** A classifier from a {@code .safetensors} file or a directory holding {@value #FILE}. */
    public static ImageClassifier load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(FILE) : path;
        if (!Files.isRegularFile(file)) {
            throw new DiffusionException("no classifier at " + path + (Files.isDirectory(path) ? " (no " + FILE + " inside)" : "")
                    + "; train a classifier into it first");
        }
        try (SafetensorsFile f = Safetensors.open(file)) {
            String json = f.metadata().get(CONFIG_KEY);
            if (json == null) {
                throw new DiffusionException(file + " is not a diffusion4j image classifier (no '" + CONFIG_KEY + "' metadata)");
            }
            ImageClassifier c = new ImageClassifier(Config.fromJson(json, file.toString()), new Generator(0));
            try (Scope s = Scope.open()) {
                c.loadStateDict(f.readAll());
            }
            c.train(false);
            return c;
        }
    }

    /**
     * The feature classifier for images of this shape: the one at {@code path} when given, else the
     * shipped one when it reads them; an error saying what to do when there is none.
     */
    public static ImageClassifier features(Path path, long channels, long height, long width) {
        if (path != null) {
            return load(path);
        }
        return builtIn(channels, height, width).orElseThrow(() -> new DiffusionException("there is no built-in classifier for "
                + channels + "x" + height + "x" + width + " images; train one on this data and give it as the feature classifier"));
    }

    /** The shipped Fashion-MNIST classifier, when it reads images of this shape. */
    public static Optional<ImageClassifier> builtIn(long channels, long height, long width) {
        if (channels != 1 || height != 28 || width != 28) {
            return Optional.empty();
        }
        return Optional.of(fashionMnist());
    }

    /** The shipped classifier for 1×28×28 Fashion-MNIST images. */
    public static ImageClassifier fashionMnist() {
        try (InputStream in = ImageClassifier.class.getResourceAsStream(BUILT_IN_RESOURCE)) {
            if (in == null) {
                throw new DiffusionException("the built-in Fashion-MNIST classifier is missing from this build (" + BUILT_IN_RESOURCE + ")");
            }
            Path tmp = Files.createTempFile("diffusion4j-classifier", ".safetensors");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                return load(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new DiffusionException("cannot read the built-in classifier: " + AtomicFiles.reason(e));
        }
    }
}
