package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A finite set of equally sized images, decoded once and held as 8-bit pixels [N, C, H, W] on the
 * Java heap (60,000 Fashion-MNIST images take 47 MB), with optional integer class labels and
 * optional captions, one text per image. Batches are drawn uniformly with replacement and scaled to
 * the models' range, x = p/127.5 − 1 ∈ [−1, 1]; the viz package's ImageTiles.fromTensor is the exact
 * inverse (rounding, clamping).
 * With horizontal flip on, each drawn image is mirrored left–right with probability ½, the
 * augmentation Ho et al. 2020 (DDPM) used on CIFAR-10.
 */
public final class ImageDataset implements CaptionedData {

    private final String name;
    private final String source;
    private final byte[] pixels;
    private final int count;
    private final int channels;
    private final int height;
    private final int width;
    private final int[] labels;
    private final List<String> classNames;
    private final List<String> captions;
    private final boolean flip;
    private final String warning;

    private ImageDataset(String name, String source, byte[] pixels, int count, int channels, int height, int width,
            int[] labels, List<String> classNames, List<String> captions, boolean flip, String warning) {
        this.name = name;
        this.source = source;
        this.pixels = pixels;
        this.count = count;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.labels = labels;
        this.classNames = List.copyOf(classNames);
        this.captions = captions;
        this.flip = flip;
        this.warning = warning;
    }

    /**
     * A data set over {@code pixels}, 8-bit values laid out [count, channels, height, width]
     * (channels 1 or 3); {@code labels} (one per image, 0 ≤ label, or null) and {@code classNames}
     * (empty when unknown; else one name per class, covering every label) are optional. Flip is off.
     * The pixel array is kept as is, not copied: do not change it afterwards.
     */
    public static ImageDataset of(String name, byte[] pixels, int count, int channels, int height, int width,
            int[] labels, List<String> classNames) {
        if (count < 1 || height < 1 || width < 1 || (channels != 1 && channels != 3)) {
            throw new DiffusionException("image data set " + name + " has shape [" + count + ", " + channels + ", " + height + ", "
                    + width + "]; it needs at least one image with 1 or 3 channels");
        }
        if ((long) count * channels * height * width != pixels.length) {
            throw new DiffusionException("image data set " + name + ": " + pixels.length + " pixel values do not fill ["
                    + count + ", " + channels + ", " + height + ", " + width + "]");
        }
        if (labels != null) {
            if (labels.length != count) {
                throw new DiffusionException("image data set " + name + " has " + count + " images but " + labels.length
                        + " labels; give one label per image");
            }
            for (int i = 0; i < count; i++) {
                if (labels[i] < 0 || (!classNames.isEmpty() && labels[i] >= classNames.size())) {
                    throw new DiffusionException("image " + i + " of " + name + " has label " + labels[i] + "; labels must lie in [0, "
                            + (classNames.isEmpty() ? "∞" : classNames.size()) + ")");
                }
            }
        } else if (!classNames.isEmpty()) {
            throw new DiffusionException("image data set " + name + " has class names but no labels");
        }
        int[] ownLabels = labels == null ? null : labels.clone();
        return new ImageDataset(name, null, pixels, count, channels, height, width, ownLabels, classNames, null, false, null);
    }

    private static int numClasses(int[] labels, List<String> classNames) {
        return classNames.isEmpty() ? Arrays.stream(labels).max().orElse(-1) + 1 : classNames.size();
    }

    /** This data set with random horizontal flips on or off. */
    public ImageDataset withFlip(boolean on) {
        return new ImageDataset(name, source, pixels, count, channels, height, width, labels, classNames, captions, on, warning);
    }

    /** This data set under another name. */
    public ImageDataset withName(String newName) {
        return new ImageDataset(newName, source, pixels, count, channels, height, width, labels, classNames, captions, flip, warning);
    }

    /**
     * This data set with one caption per image, in image order (null for none); a caption may not be
     * blank, as a text-conditioned model learns nothing from it.
     */
    public ImageDataset withCaptions(List<String> texts) {
        if (texts != null) {
            if (texts.size() != count) {
                throw new DiffusionException("image data set " + name + " has " + count + " images but " + texts.size()
                        + " captions; give one caption per image");
            }
            for (int i = 0; i < count; i++) {
                if (texts.get(i) == null || texts.get(i).isBlank()) {
                    throw new DiffusionException("image " + i + " of " + name + " has a blank caption; give every image a caption");
                }
            }
        }
        List<String> own = texts == null ? null : List.copyOf(texts);
        return new ImageDataset(name, source, pixels, count, channels, height, width, labels, classNames, own, flip, warning);
    }

    /** This data set with a note on where it came from (which split, which directory), shown by {@link #description()}. */
    public ImageDataset withSource(String text) {
        return new ImageDataset(name, text, pixels, count, channels, height, width, labels, classNames, captions, flip, warning);
    }

    /** This data set carrying a one-line warning for the user (e.g. files skipped while loading); null for none. */
    public ImageDataset withWarning(String text) {
        return new ImageDataset(name, source, pixels, count, channels, height, width, labels, classNames, captions, flip, text);
    }

    // ------------------------------------------------------------------ accessors

    @Override
    public String name() {
        return name;
    }

    /** One line saying what was loaded: name, count, shape, classes and source. */
    public String description() {
        return name + ": " + count + " images " + channels + "x" + height + "x" + width
                + (labels != null ? ", " + numClasses() + " classes" : ", unlabelled")
                + (captions != null ? ", captioned" : "")
                + (source != null ? " (" + source + ")" : "");
    }

    /** The same images, labels and settings with new pixels [size, channels, height, width]. */
    ImageDataset withPixels(byte[] newPixels, int newChannels, int newHeight, int newWidth) {
        return new ImageDataset(name, source, newPixels, count, newChannels, newHeight, newWidth, labels, classNames, captions, flip,
                warning);
    }

    /**
     * The images at {@code indices}, in that order, as a data set of their own (same classes, flip
     * and name with {@code suffix} appended; their labels and captions) — for held-out splits.
     */
    public ImageDataset subset(int[] indices, String suffix) {
        if (indices.length == 0) {
            throw new DiffusionException("a subset of " + name + " needs at least one image");
        }
        int item = dim();
        byte[] px = new byte[indices.length * item];
        int[] lab = labels == null ? null : new int[indices.length];
        List<String> texts = captions == null ? null : new ArrayList<>(indices.length);
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= count) {
                throw new DiffusionException("image index " + indices[i] + " is outside " + name + " (" + count + " images)");
            }
            System.arraycopy(pixels, indices[i] * item, px, i * item, item);
            if (lab != null) {
                lab[i] = labels[indices[i]];
            }
            if (texts != null) {
                texts.add(captions.get(indices[i]));
            }
        }
        return new ImageDataset(name + suffix, source, px, indices.length, channels, height, width, lab, classNames,
                texts == null ? null : List.copyOf(texts), flip, null);
    }

    /** The pixel array itself (not a copy), for package-level transforms. */
    byte[] pixelBytes() {
        return pixels;
    }

    /** One line the CLI should show the user, if loading skipped or adjusted anything. */
    public Optional<String> warning() {
        return Optional.ofNullable(warning);
    }

    /** Number of images. */
    public int size() {
        return count;
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    @Override
    public int dim() {
        return channels * height * width;
    }

    @Override
    public long[] itemShape() {
        return new long[] {channels, height, width};
    }

    /** Whether sampled images are mirrored left–right with probability ½. */
    public boolean flips() {
        return flip;
    }

    public boolean hasLabels() {
        return labels != null;
    }

    /** The label of image {@code i}; the data set must have labels. */
    public int label(int i) {
        requireLabels();
        return labels[i];
    }

    /** Number of classes: the class names' count, else the largest label + 1; 0 when unlabelled. */
    @Override
    public int numClasses() {
        return labels == null ? 0 : numClasses(labels, classNames);
    }

    /** Class names indexed by label (empty when the source names none). */
    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public boolean hasCaptions() {
        return captions != null;
    }

    /** The caption of image {@code i}; the data set must have captions. */
    public String caption(int i) {
        requireCaptions();
        return captions.get(i);
    }

    /** Every caption, in image order; the data set must have captions. */
    public List<String> captions() {
        requireCaptions();
        return captions;
    }

    /** Every image's 8-bit pixels as a new uint8 tensor [N, C, H, W]. */
    public Tensor pixels() {
        return Tensor.fromBytes(pixels, DType.UINT8, count, channels, height, width);
    }

    /** Every label as a new int64 tensor [N]; the data set must have labels. */
    public Tensor labels() {
        requireLabels();
        return Tensor.of(Arrays.stream(labels).asLongStream().toArray(), count);
    }

    /** Every image in [−1, 1] as float32 [N, C, H, W], unflipped. */
    @Override
    public Optional<Tensor> all() {
        try (Scope s = Scope.open()) {
            return Optional.of(s.keep(toModelRange(pixels())));
        }
    }

    /** 8-bit pixels (any integer tensor with values in [0, 255]) to float32 in [−1, 1]: p/127.5 − 1. */
    public static Tensor toModelRange(Tensor pixels) {
        return pixels.to(DType.FLOAT32).div(127.5).sub(1);
    }

    // ------------------------------------------------------------------ sampling

    /**
     * {@code batch} images drawn uniformly with replacement, float32 [batch, C, H, W] in [−1, 1]. The
     * indices come from {@code g}, then (with flip on) one fair coin per image, so the same
     * generator state gives the same batch.
     */
    @Override
    public Tensor sample(Generator g, int batch) {
        return draw(g, batch).items();
    }

    /** Like {@link #sample}, with the drawn images' labels; the same generator state gives the same images as {@code sample}. */
    @Override
    public Labeled sampleLabeled(Generator g, int batch) {
        requireLabels();
        return draw(g, batch);
    }

    /** A minibatch with the drawn images' captions, and their labels when the data set has them (else null). */
    public record Captioned(Tensor images, Tensor labels, List<String> captions) {
    }

    /**
     * Like {@link #sample}, with the drawn images' captions (and labels, when there are any); the same
     * generator state gives the same images as {@code sample}.
     */
    @Override
    public Captioned sampleCaptioned(Generator g, int batch) {
        requireCaptions();
        long[] idx = drawIndices(g, batch);
        Labeled drawn = drawn(g, idx);
        return new Captioned(drawn.items(), drawn.labels(), Arrays.stream(idx).mapToObj(i -> captions.get((int) i)).toList());
    }

    private Labeled draw(Generator g, int batch) {
        return drawn(g, drawIndices(g, batch));
    }

    private long[] drawIndices(Generator g, int batch) {
        if (batch < 1) {
            throw new DiffusionException("batch size must be at least 1, got " + batch);
        }
        try (Scope s = Scope.open()) {
            return Tensor.randint(g, count, new long[] {batch}).toLongArray();
        }
    }

    /** The images at {@code idx} (with their labels), each mirrored on a fair coin from {@code g} when flip is on. */
    private Labeled drawn(Generator g, long[] idx) {
        int batch = idx.length;
        long[] mirror = null;
        if (flip) {
            try (Scope s = Scope.open()) {
                mirror = Tensor.randint(g, 2, new long[] {batch}).toLongArray();
            }
        }
        int item = dim();
        float[] out = new float[batch * item];
        for (int b = 0; b < batch; b++) {
            int src = (int) idx[b] * item;
            int dst = b * item;
            if (mirror != null && mirror[b] == 1) {
                for (int row = 0; row < channels * height; row++) {
                    int from = src + row * width;
                    int to = dst + row * width + width - 1;
                    for (int x = 0; x < width; x++) {
                        out[to - x] = (pixels[from + x] & 0xff) / 127.5f - 1;
                    }
                }
            } else {
                for (int p = 0; p < item; p++) {
                    out[dst + p] = (pixels[src + p] & 0xff) / 127.5f - 1;
                }
            }
        }
        Tensor images = Tensor.of(out, batch, channels, height, width);
        Tensor y = null;
        if (labels != null) {
            long[] ys = new long[batch];
            for (int b = 0; b < batch; b++) {
                ys[b] = labels[(int) idx[b]];
            }
            y = Tensor.of(ys, batch);
        }
        return new Labeled(images, y);
    }

    private void requireLabels() {
        if (labels == null) {
            throw new DiffusionException("data set " + name + " has no labels; class conditioning needs labelled data "
                    + "(IDX with a labels file, or a folder with one sub-folder per class)");
        }
    }

    private void requireCaptions() {
        if (captions == null) {
            throw new DiffusionException("data set " + name + " has no captions; give an image folder a metadata.jsonl "
                    + "({\"file_name\": ..., \"text\": ...} per line) or one .txt file per image, or use a built-in captioned set (emoji)");
        }
    }

    @Override
    public String toString() {
        return "ImageDataset[" + description() + "]";
    }
}
