package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.io.IdxReader;
import dev.diffusion4j.io.IdxReader.IdxArray;
import dev.diffusion4j.io.NpyReader;
import dev.diffusion4j.io.NpyReader.NpyArray;
import dev.diffusion4j.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The built-in image data sets and IDX loading. {@code fashion-mnist} (Xiao et al. 2017) is the
 * 60,000-image train split when it is installed — in the directory named by the environment
 * variable {@code DIFFUSION4J_FASHION_MNIST}, else in {@code /usr/share/datasets/fashion-mnist}
 * (Debian package {@code dataset-fashion-mnist}) — and otherwise the 10,000-image test split the
 * project ships; {@code fashion-mnist-test} is always the shipped test split, for evaluation.
 * {@code emoji}, {@code emoji-google} and {@code emoji-twitter} are captioned colour images, 90% of
 * the emoji, and their {@code -test} names the held-out 10% (see {@link EmojiDatasets}).
 *
 * <p>Files are opened by {@link #open(Path, ImageOptions)}: IDX files, .npy arrays and folders of
 * PNG/JPEG images.
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

    private static final Pattern IDX_NAME = Pattern.compile("(?i).*idx\\d-ubyte(\\.gz)?");
    private static final Pattern IDX_IMAGES_NAME = Pattern.compile("(?i).*images-idx3-ubyte(\\.gz)?");

    private static final Map<String, String> DESCRIPTIONS = builtInDescriptions();

    private ImageDatasets() {
    }

    private static Map<String, String> builtInDescriptions() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("fashion-mnist", "Fashion-MNIST, 1x28x28 greyscale clothing in 10 classes: the 60,000-image train split "
                + "when installed, else the shipped 10,000-image test split");
        m.put("fashion-mnist-test", "Fashion-MNIST test split, 10,000 images 1x28x28 in 10 classes (shipped; for evaluation)");
        m.put("emoji", "emoji, 3x64x64 colour on white, captioned, in 10 categories: the Noto (google) and Twemoji (twitter) "
                + "styles of 90% of the emoji, 6,746 images; fetched with npm on first use");
        m.put("emoji-google", "emoji in the Noto style alone, 3,373 images of 90% of the emoji");
        m.put("emoji-twitter", "emoji in the Twemoji style alone, 3,373 images of 90% of the emoji");
        m.put("emoji-test", "the held-out 10% of the emoji in both styles, 826 images (for evaluation)");
        m.put("emoji-google-test", "the held-out 10% of the emoji in the Noto style, 413 images");
        m.put("emoji-twitter-test", "the held-out 10% of the emoji in the Twemoji style, 413 images");
        return Collections.unmodifiableMap(m);
    }

    /** The names of the built-in image data sets, in listing order. */
    public static List<String> names() {
        return List.copyOf(DESCRIPTIONS.keySet());
    }

    /** A one-line description of each built-in image data set, by name, in listing order. */
    public static Map<String, String> descriptions() {
        return DESCRIPTIONS;
    }

    /** Whether {@code name} (case and surrounding blanks ignored) names a built-in image data set. */
    public static boolean isBuiltIn(String name) {
        return name != null && DESCRIPTIONS.containsKey(name.trim().toLowerCase(Locale.ROOT));
    }

    /** The built-in image data set with this name, loaded at its native size; empty for other names. */
    public static Optional<ImageDataset> find(String name) {
        return find(name, ImageOptions.NATIVE);
    }

    /** The built-in image data set with this name, loaded with {@code options} (flip defaults to off); empty for other names. */
    public static Optional<ImageDataset> find(String name, ImageOptions options) {
        if (!isBuiltIn(name)) {
            return Optional.empty();
        }
        String key = name.trim().toLowerCase(Locale.ROOT);
        ImageDataset d = switch (key) {
            case "fashion-mnist" -> fashionMnist();
            case "fashion-mnist-test" -> fashionMnistTest();
            default -> emoji(key);
        };
        return Optional.of(applyOptions(d, options, false));
    }

    /** The emoji set a built-in name picks: "emoji[-google|-twitter][-test]". */
    private static ImageDataset emoji(String name) {
        boolean heldOut = name.endsWith("-test");
        String style = name.replaceFirst("^emoji-?", "").replaceFirst("-?test$", "");
        return EmojiDatasets.load(style.isEmpty() ? EmojiDatasets.STYLES : List.of(style), heldOut);
    }

    /**
     * Whether {@code path} is image data {@link #open(Path, ImageOptions)} reads: a .npy file, an
     * IDX file (named like MNIST's, {@code *-idx3-ubyte} or {@code *-idx1-ubyte}, optionally
     * {@code .gz}) or a directory.
     */
    public static boolean isImageSource(Path path) {
        String n = path.getFileName() == null ? "" : path.getFileName().toString();
        String lower = n.toLowerCase(Locale.ROOT);
        return Files.isDirectory(path) || lower.endsWith(".npy") || lower.endsWith(".png") || IDX_NAME.matcher(n).matches();
    }

    /**
     * Opens image data from a path. A {@code .npy} file: images [N, H, W], [N, H, W, C] or
     * [N, C, H, W] (see {@link #fromNpy}). An IDX images file {@code X-images-idx3-ubyte[.gz]}: its
     * labels are read from {@code X-labels-idx1-ubyte[.gz]} beside it when present. A directory
     * holding {@code *-images-idx3-ubyte[.gz]} files: {@code train-images-...} if present, else the
     * only one. Any other directory: a folder of .png/.jpg images, either loose (unlabelled) or in one
     * sub-folder per class (labels in sorted sub-folder order), captioned when it holds a
     * {@code metadata.jsonl} or a {@code .txt} file beside each image; hidden
     * files are ignored, other files skipped and counted in {@link ImageDataset#warning()}. Folders are flipped by default, the
     * other sources are not (see {@link ImageOptions}). A {@code .png} file: the tiles of a sample grid
     * written by {@code diffuse sample} (see {@link ImageGrids}).
     */
    public static ImageDataset open(Path path, ImageOptions options) {
        if (!Files.exists(path)) {
            throw new DiffusionException("no file or directory " + path);
        }
        String n = path.getFileName() == null ? "" : path.getFileName().toString();
        if (Files.isDirectory(path)) {
            List<Path> idx = idxImagesIn(path);
            if (idx.isEmpty()) {
                return ImageFolder.load(path, options);
            }
            Path chosen = idx.stream().filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).startsWith("train-"))
                    .findFirst().orElse(null);
            if (chosen == null && idx.size() > 1) {
                throw new DiffusionException(path + " holds several IDX image files (" + String.join(", ",
                        idx.stream().map(p -> p.getFileName().toString()).toList()) + ") and none named train-images-...; "
                        + "give the file itself");
            }
            return applyOptions(idxWithLabels(chosen != null ? chosen : idx.get(0), n), options, false);
        }
        if (n.toLowerCase(Locale.ROOT).endsWith(".npy")) {
            return applyOptions(fromNpy(path), options, false);
        }
        if (IDX_NAME.matcher(n).matches()) {
            return applyOptions(idxWithLabels(path, n), options, false);
        }
        if (n.toLowerCase(Locale.ROOT).endsWith(".png")) {
            return applyOptions(SampleGrid.read(path), options, false);
        }
        throw new DiffusionException(path + " is not image data: give a .npy file, an IDX file (*-images-idx3-ubyte[.gz]), "
                + "a sample grid .png or a folder of .png/.jpg images");
    }

    private static ImageDataset applyOptions(ImageDataset d, ImageOptions options, boolean defaultFlip) {
        ImageDataset out = ImageTransforms.apply(d, options.imageSize(), options.channels());
        return out.withFlip(options.flip() != null ? options.flip() : defaultFlip);
    }

    private static List<Path> idxImagesIn(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> IDX_IMAGES_NAME.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p))
                    .sorted().toList();
        } catch (IOException e) {
            throw new DiffusionException("cannot list " + dir + ": " + AtomicFiles.reason(e));
        }
    }

    /** The IDX images at {@code images} with the labels file beside it, if any. */
    private static ImageDataset idxWithLabels(Path images, String name) {
        String file = images.getFileName().toString();
        IdxArray labels = null;
        Path labelFile = null;
        int at = file.toLowerCase(Locale.ROOT).indexOf("images-idx3-ubyte");
        if (at >= 0) {
            String base = file.substring(0, at) + "labels-idx1-ubyte";
            labelFile = existing(images.toAbsolutePath().getParent(), base).orElse(null);
            if (labelFile != null) {
                labels = IdxReader.read(labelFile);
            }
        }
        ImageDataset d = fromIdx(name, IdxReader.read(images), labels, images.toString(), List.of());
        return d.withSource("IDX " + images + (labelFile != null ? ", labels " + labelFile.getFileName() : ", no labels file"));
    }

    /**
     * Images from a .npy array. Layout: [N, H, W] is grey; [N, C, H, W] when axis 1 has size 1 or
     * 3, else [N, H, W, C] when the last axis does. Values: uint8 and integers are levels 0–255
     * (integers outside are an error); bool is 0 or 255; floats are mapped by their range — all in
     * [0, 1] means [0, 1], else all in [−1, 1] means [−1, 1], else all in [0, 255] means levels — and
     * rounded to 8 bits (a float array that happens to hold only values in [0, 1] is read as [0, 1]).
     */
    public static ImageDataset fromNpy(Path file) {
        NpyArray a = NpyReader.read(file);
        long[] s = a.shape();
        boolean channelsFirst = s.length == 4 && (s[1] == 1 || s[1] == 3);
        boolean channelsLast = s.length == 4 && !channelsFirst && (s[3] == 1 || s[3] == 3);
        if (!(s.length == 3 || channelsFirst || channelsLast) || s[0] < 1) {
            throw new DiffusionException(file + " holds an array of shape " + Arrays.toString(s) + "; images must be [N, H, W], "
                    + "[N, H, W, C] or [N, C, H, W] with C = 1 or 3 and N > 0");
        }
        int count = (int) s[0];
        int c = s.length == 3 ? 1 : (int) (channelsFirst ? s[1] : s[3]);
        int h = (int) (channelsFirst ? s[2] : s[1]);
        int w = (int) (channelsFirst ? s[3] : s[2]);
        ByteBuffer raw = ByteBuffer.wrap(a.data()).order(ByteOrder.LITTLE_ENDIAN);
        int total = (int) a.numel();
        double scale = 1;
        double shift = 0;
        if (a.dtype().isFloatingPoint()) {
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < total; i++) {
                double x = value(raw, a.dtype(), i);
                if (!Double.isFinite(x)) {
                    throw new DiffusionException(file + " holds NaN or infinite values; images must be finite");
                }
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
            if (lo >= 0 && hi <= 1) {
                scale = 255;
            } else if (lo >= -1 && hi <= 1) {
                scale = 127.5;
                shift = 1;
            } else if (!(lo >= 0 && hi <= 255)) {
                throw new DiffusionException(file + " holds values in [" + lo + ", " + hi + "]; float images must lie in [0, 1], "
                        + "[-1, 1] or [0, 255]");
            }
        } else if (a.dtype() == DType.BOOL) {
            scale = 255;
        }
        int plane = h * w;
        byte[] pixels = new byte[total];
        for (int i = 0; i < total; i++) {
            double x = value(raw, a.dtype(), i);
            double level = (x + shift) * scale;
            if (!(level >= 0 && level <= 255)) {
                throw new DiffusionException(file + " holds the value " + x + " at flat index " + i + "; integer images must lie in "
                        + "[0, 255]");
            }
            int n = i / (c * plane);
            int within = i % (c * plane);
            // Channels-last input: element (y, x, ch) goes to plane ch.
            int dst = channelsLast ? n * c * plane + (within % c) * plane + within / c : i;
            pixels[dst] = (byte) Math.round(level);
        }
        return ImageDataset.of(file.getFileName().toString(), pixels, count, c, h, w, null, List.of())
                .withSource("array " + file + " " + Arrays.toString(s) + " " + a.dtype().name().toLowerCase(Locale.ROOT));
    }

    /** Element {@code i} of a little-endian array of {@code dtype}, as a double. */
    private static double value(ByteBuffer b, DType dtype, int i) {
        return switch (dtype) {
            case UINT8 -> b.get(i) & 0xff;
            case BOOL -> b.get(i) != 0 ? 1 : 0;
            case INT32 -> b.getInt(4 * i);
            case INT64 -> b.getLong(8 * i);
            case FLOAT32 -> b.getFloat(4 * i);
            case FLOAT64 -> b.getDouble(8 * i);
            default -> throw new IllegalStateException("NpyReader returned " + dtype);
        };
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
            return test.withName("fashion-mnist").withSource("test split, shipped; the train split is not installed: set "
                    + FASHION_MNIST_ENV + " to its directory");
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
        return Optional.of(d.withSource("train split, from " + dir));
    }

    /** The shipped Fashion-MNIST test split: 10,000 images 1×28×28 with labels; flip off. */
    public static ImageDataset fashionMnistTest() {
        IdxArray images = resource(TEST_IMAGES);
        IdxArray labels = resource(TEST_LABELS);
        ImageDataset d = fromIdx("fashion-mnist-test", images, labels, TEST_IMAGES, FASHION_MNIST_CLASSES);
        return d.withSource("test split, shipped");
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
