package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.IdxReader;
import dev.diffusion4j.io.IdxReader.IdxArray;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The built-in image data sets and IDX loading. {@code fashion-mnist} (Xiao et al. 2017) is the
 * 60,000-image train split when it is installed — in the directory named by the environment
 * variable {@code DIFFUSION4J_FASHION_MNIST}, else in {@code /usr/share/datasets/fashion-mnist}
 * (Debian package {@code dataset-fashion-mnist}) — and otherwise the 10,000-image test split the
 * project ships; {@code fashion-mnist-test} is always the shipped test split, for evaluation.
 */
public final class ImageDatasets {
    /** The environment variable naming a directory that holds the Fashion-MNIST train split. */
    public static final String FASHION_MNIST_ENV = "DIFFUSION4J_FASHION_MNIST";

    static final Path SYSTEM_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    /** Fashion-MNIST's class names, indexed by label. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private static final String RESOURCE_DIR = "/dev/diffusion4j/data/fashion-mnist/";
    private static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    private static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    private static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    private static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";

    private static final Map<String, String> DESCRIPTIONS = new LinkedHashMap<>();

    static {
        DESCRIPTIONS.put("fashion-mnist", "Fashion-MNIST, 1x28x28 greyscale clothing in 10 classes: the 60,000-image train split "
                + "when installed, else the shipped 10,000-image test split");
        DESCRIPTIONS.put("fashion-mnist-test", "Fashion-MNIST test split, 10,000 images 1x28x28 in 10 classes (shipped; for evaluation)");
    }

    private ImageDatasets() {
    }

    /** The names of the built-in image data sets, in listing order. */
    public static List<String> names() {
        return List.copyOf(DESCRIPTIONS.keySet());
    }

    /** A one-line description of each built-in image data set, by name, in listing order. */
    public static Map<String, String> descriptions() {
        return java.util.Collections.unmodifiableMap(DESCRIPTIONS);
    }

    /** Whether {@code name} (case and surrounding blanks ignored) names a built-in image data set. */
    public static boolean isBuiltIn(String name) {
        return name != null && DESCRIPTIONS.containsKey(name.trim().toLowerCase(Locale.ROOT));
    }

    /** The built-in image data set with this name, loaded at its native size; empty for other names. */
    public static Optional<ImageDataset> find(String name) {
        if (!isBuiltIn(name)) {
            return Optional.empty();
        }
        return Optional.of(switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "fashion-mnist" -> fashionMnist();
            default -> fashionMnistTest();
        });
    }

    /** Fashion-MNIST's train split if installed (see the class comment), else the shipped test split; flip off. */
    public static ImageDataset fashionMnist() {
        return fashionMnist(System.getenv(FASHION_MNIST_ENV), SYSTEM_FASHION_MNIST);
    }

    /** {@link #fashionMnist()} with the environment variable's value ({@code null} when unset) and the system directory given. */
    static ImageDataset fashionMnist(String envDir, Path systemDir) {
        if (envDir != null && !envDir.isBlank()) {
            Path dir = Path.of(envDir);
            Optional<ImageDataset> train = fashionMnistTrain(dir);
            if (train.isEmpty()) {
                throw new DiffusionException(FASHION_MNIST_ENV + "=" + envDir + " but that directory holds no " + TRAIN_IMAGES
                        + "[.gz] and " + TRAIN_LABELS + "[.gz]; fix or unset the variable");
            }
            return train.get();
        }
        return fashionMnistTrain(systemDir).orElseGet(() -> {
            ImageDataset test = fashionMnistTest();
            return test.withName("fashion-mnist").withDescription("fashion-mnist (test split, " + test.size() + " images 1x28x28, 10 classes; "
                    + "the train split is not installed: set " + FASHION_MNIST_ENV + " to its directory)");
        });
    }

    private static Optional<ImageDataset> fashionMnistTrain(Path dir) {
        Optional<Path> images = existing(dir, TRAIN_IMAGES);
        Optional<Path> labels = existing(dir, TRAIN_LABELS);
        if (images.isEmpty() || labels.isEmpty()) {
            return Optional.empty();
        }
        ImageDataset d = fromIdx("fashion-mnist", IdxReader.read(images.get()), IdxReader.read(labels.get()), images.get().toString(),
                FASHION_MNIST_CLASSES);
        return Optional.of(d.withDescription("fashion-mnist (train split, " + d.size() + " images 1x28x28, 10 classes, from " + dir + ")"));
    }

    /** The shipped Fashion-MNIST test split: 10,000 images 1×28×28 with labels; flip off. */
    public static ImageDataset fashionMnistTest() {
        IdxArray images = resource(TEST_IMAGES);
        IdxArray labels = resource(TEST_LABELS);
        ImageDataset d = fromIdx("fashion-mnist-test", images, labels, TEST_IMAGES, FASHION_MNIST_CLASSES);
        return d.withDescription("fashion-mnist-test (test split, " + d.size() + " images 1x28x28, 10 classes; shipped)");
    }

    private static IdxArray resource(String file) {
        try (InputStream in = ImageDatasets.class.getResourceAsStream(RESOURCE_DIR + file)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE_DIR + file + " is missing from the diffusion4j jar");
            }
            return IdxReader.read(in, file);
        } catch (IOException e) {
            throw new DiffusionException("cannot read the built-in " + file + ": " + e.getMessage());
        }
    }

    private static Optional<Path> existing(Path dir, String base) {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * An image data set from IDX arrays: {@code images} [N, H, W] (one grey channel) and optional
     * {@code labels} [N] (null for none); {@code source} names the images in messages.
     */
    public static ImageDataset fromIdx(String name, IdxArray images, IdxArray labels, String source, List<String> classNames) {
        long[] s = images.shape();
        if (s.length != 3) {
            throw new DiffusionException(source + " holds an IDX array of shape " + Arrays.toString(s)
                    + "; images must be [count, height, width]");
        }
        int[] ys = null;
        if (labels != null) {
            if (labels.shape().length != 1 || labels.shape()[0] != s[0]) {
                throw new DiffusionException("the labels for " + source + " have shape " + Arrays.toString(labels.shape())
                        + " but there are " + s[0] + " images; give the matching labels file");
            }
            ys = new int[labels.count()];
            byte[] raw = labels.data();
            for (int i = 0; i < ys.length; i++) {
                ys[i] = raw[i] & 0xff;
            }
        }
        return ImageDataset.of(name, images.data(), (int) s[0], 1, (int) s[1], (int) s[2], ys,
                ys == null ? List.of() : classNames);
    }
}
