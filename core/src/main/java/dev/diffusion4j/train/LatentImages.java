package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CaptionedData;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.model.LatentSpace;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.models.vae.DiagonalGaussian;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.Captions;
import dev.diffusion4j.text.ClipTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The training data of a latent diffusion model: every image of a data set encoded once by a frozen
 * autoencoder into its posterior q(z | x) = N(μ, σ²) (and, when the set flips, its mirror image
 * too), kept as float arrays. A minibatch draws images as the image set would (indices, then a
 * mirror coin each) and a fresh z = μ + σ·ε per draw, mapped to the model's scale by the
 * autoencoder's scaling factor — Stable Diffusion's training data, whose scaling factor was found
 * the same way (the inverse standard deviation of training latents). Labels, class names and
 * captions are the image set's; labelled images without captions get captions from their class
 * names, the tone and size words read off the images' pixels ({@link Captions}).
 */
public final class LatentImages implements CaptionedData {
    /** The encoded moments in a run directory, so a resumed run does not encode again. */
    public static final String CACHE_FILE = "latents.safetensors";
    private static final int ENCODE_BATCH = 32;

    private final ImageDataset images;
    private final AutoencoderKL autoencoder;
    private final long[] shape;
    private final float[] mean;
    private final float[] logVariance;
    /** The mirror images' moments; null when the set does not flip. */
    private final float[] mirrorMean;
    private final float[] mirrorLogVariance;
    /**
     * Captions from class names for labelled images without their own (null otherwise): their tone and
     * size words are read off the images' pixels, not off the latents.
     */
    private final Captions classCaptions;

    private LatentImages(ImageDataset images, AutoencoderKL autoencoder, long[] shape, float[][] moments) {
        this.images = images;
        this.autoencoder = autoencoder;
        this.shape = shape;
        this.mean = moments[0];
        this.logVariance = moments[1];
        this.mirrorMean = moments.length > 2 ? moments[2] : null;
        this.mirrorLogVariance = moments.length > 2 ? moments[3] : null;
        this.classCaptions = images.hasCaptions() || !images.hasLabels() || images.classNames().isEmpty() ? null
                : new Captions(images.classNames(), ClipTokenizer.clip(), ClipTokenizer.CONTEXT_LENGTH);
    }

    /**
     * The latents of {@code images} under {@code autoencoder} (whose weights hash to {@code sha256}):
     * read from {@code cache} when it holds this autoencoder's latents of this data set, else encoded
     * (posterior moments in float32, no gradients) and written there atomically.
     */
    public static LatentImages encode(ImageDataset images, AutoencoderKL autoencoder, String sha256, Path cache) {
        return encode(images, autoencoder, sha256, cache, EncodeProgress.NONE);
    }

    /** Hears the encoder's progress: {@code done} of {@code total} images (mirror images count as images). */
    @FunctionalInterface
    public interface EncodeProgress {
        EncodeProgress NONE = (done, total) -> { };

        void encoded(int done, int total);
    }

    /** {@link #encode(ImageDataset, AutoencoderKL, String, Path)}, telling {@code progress} how the encoding goes (if it runs). */
    public static LatentImages encode(ImageDataset images, AutoencoderKL autoencoder, String sha256, Path cache, EncodeProgress progress) {
        long[] shape = autoencoder.config().latentShape(images.itemShape());
        Map<String, String> identity = new LinkedHashMap<>();
        identity.put("autoencoder_sha256", sha256);
        identity.put("data", images.name());
        identity.put("images", Integer.toString(images.size()));
        identity.put("mirrored", Boolean.toString(images.flips()));
        Optional<float[][]> cached = readCache(cache, identity);
        float[][] moments = cached.isPresent() ? cached.get() : encodeAll(images, autoencoder, progress);
        if (cached.isEmpty()) {
            writeCache(cache, identity, moments, shape);
        }
        return new LatentImages(images, autoencoder, shape, moments);
    }

    private static float[][] encodeAll(ImageDataset images, AutoencoderKL autoencoder, EncodeProgress progress) {
        List<float[]> out = new ArrayList<>();
        boolean[] passes = images.flips() ? new boolean[] {false, true} : new boolean[] {false};
        int total = passes.length * images.size();
        int done = 0;
        for (boolean mirrored : passes) {
            List<Tensor> means = new ArrayList<>();
            List<Tensor> logVariances = new ArrayList<>();
            try (Scope s = Scope.open(); NoGrad ng = NoGrad.inference()) {
                Tensor pixels = images.pixels();
                for (int i = 0; i < images.size(); i += ENCODE_BATCH) {
                    try (Scope batch = Scope.open()) {
                        Tensor x = ImageDataset.toModelRange(pixels.narrow(0, i, Math.min(ENCODE_BATCH, images.size() - i)));
                        var posterior = autoencoder.encode(mirrored ? x.flip(3) : x);
                        means.add(batch.keep(posterior.mean().contiguous()));
                        logVariances.add(batch.keep(posterior.logVariance().contiguous()));
                    }
                    done += Math.min(ENCODE_BATCH, images.size() - i);
                    progress.encoded(done, total);
                }
                out.add(Tensor.cat(means, 0).toFloatArray());
                out.add(Tensor.cat(logVariances, 0).toFloatArray());
            }
        }
        return out.toArray(float[][]::new);
    }

    private static final List<String> NAMES = List.of("mean", "log_variance", "mirror_mean", "mirror_log_variance");

    private static Optional<float[][]> readCache(Path cache, Map<String, String> identity) {
        if (!Files.isRegularFile(cache)) {
            return Optional.empty();
        }
        try (SafetensorsFile file = Safetensors.open(cache); Scope s = Scope.open()) {
            if (!file.metadata().entrySet().containsAll(identity.entrySet())) {
                return Optional.empty();
            }
            List<float[]> moments = new ArrayList<>();
            for (String name : NAMES) {
                if (file.names().contains(name)) {
                    moments.add(file.read(name).toFloatArray());
                }
            }
            return Optional.of(moments.toArray(float[][]::new));
        } catch (DiffusionException e) {
            // a damaged cache is encoded again
            return Optional.empty();
        }
    }

    private static void writeCache(Path cache, Map<String, String> identity, float[][] moments, long[] shape) {
        try (Scope s = Scope.open()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            long n = moments[0].length / (shape[0] * shape[1] * shape[2]);
            for (int i = 0; i < moments.length; i++) {
                tensors.put(NAMES.get(i), Tensor.of(moments[i], n, shape[0], shape[1], shape[2]));
            }
            Safetensors.write(cache, tensors, identity);
        }
    }

    /** The autoencoder the latents are of. */
    public AutoencoderKL autoencoder() {
        return autoencoder;
    }

    /** The image set that was encoded. */
    public ImageDataset images() {
        return images;
    }

    @Override
    public String name() {
        return images.name();
    }

    @Override
    public int dim() {
        return (int) (shape[0] * shape[1] * shape[2]);
    }

    /** [latent channels, H / f, W / f]. */
    @Override
    public long[] itemShape() {
        return shape.clone();
    }

    @Override
    public Optional<Tensor> all() {
        return Optional.empty();
    }

    @Override
    public int numClasses() {
        return images.numClasses();
    }

    @Override
    public List<String> classNames() {
        return images.classNames();
    }

    /** The images' own captions, or ones made from class names and the images' pixels (see {@link Captions}). */
    @Override
    public boolean hasCaptions() {
        return images.hasCaptions() || classCaptions != null;
    }

    /** {@code batch} latents z·scaling_factor with z drawn from the posteriors of uniformly drawn images. */
    @Override
    public Tensor sample(Generator g, int batch) {
        return draw(g, batch).batch().images();
    }

    @Override
    public Labeled sampleLabeled(Generator g, int batch) {
        if (!images.hasLabels()) {
            return images.sampleLabeled(g, batch);
        }
        ImageDataset.Captioned drawn = draw(g, batch).batch();
        return new Labeled(drawn.images(), drawn.labels());
    }

    @Override
    public ImageDataset.Captioned sampleCaptioned(Generator g, int batch) {
        if (!hasCaptions()) {
            return images.sampleCaptioned(g, batch);
        }
        Drawn drawn = draw(g, batch);
        if (images.hasCaptions()) {
            return drawn.batch();
        }
        // class-name captions: the template coins come after the draw; tone and size are a mirror image's too
        try (Scope s = Scope.open()) {
            Tensor pixels = ImageDataset.toModelRange(images.pixels().indexSelect(0, Tensor.of(drawn.indices(), batch)));
            List<String> captions = classCaptions.captions(pixels, drawn.batch().labels(), g);
            return new ImageDataset.Captioned(drawn.batch().images(), drawn.batch().labels(), captions);
        }
    }

    /** A drawn batch and the indices of its images. */
    private record Drawn(ImageDataset.Captioned batch, long[] indices) {
    }

    /** Indices, then mirror coins (when the set flips), then ε, all from {@code g}. */
    private Drawn draw(Generator g, int batch) {
        if (batch < 1) {
            throw new DiffusionException("batch size must be at least 1, got " + batch);
        }
        long[] idx;
        long[] mirror = null;
        try (Scope s = Scope.open()) {
            idx = Tensor.randint(g, images.size(), new long[] {batch}).toLongArray();
            if (mirrorMean != null) {
                mirror = Tensor.randint(g, 2, new long[] {batch}).toLongArray();
            }
        }
        int item = dim();
        float[] mu = new float[batch * item];
        float[] logVar = new float[batch * item];
        for (int b = 0; b < batch; b++) {
            boolean m = mirror != null && mirror[b] == 1;
            System.arraycopy(m ? mirrorMean : mean, (int) idx[b] * item, mu, b * item, item);
            System.arraycopy(m ? mirrorLogVariance : logVariance, (int) idx[b] * item, logVar, b * item, item);
        }
        long[] batchShape = {batch, shape[0], shape[1], shape[2]};
        Tensor z = new DiagonalGaussian(Tensor.of(mu, batchShape), Tensor.of(logVar, batchShape)).sample(g);
        Tensor labels = images.hasLabels() ? Tensor.of(Arrays.stream(idx).map(i -> images.label((int) i)).toArray(), batch) : null;
        List<String> captions = images.hasCaptions() ? Arrays.stream(idx).mapToObj(i -> images.caption((int) i)).toList() : List.of();
        return new Drawn(new ImageDataset.Captioned(autoencoder.toDiffusionLatent(z), labels, captions), idx);
    }

    /**
     * A linear map of one latent pixel (at the model's scale) to the mean RGB of the f×f image pixels
     * it covers, [3][latent channels + 1] with the bias last: least squares over the first images'
     * posterior means. Cheap previews of latents without the decoder (grey images get three equal rows).
     */
    public double[][] fitPreview(int maxImages) {
        int n = Math.min(maxImages, images.size());
        int c = (int) shape[0];
        int f = autoencoder.config().downsampleFactor();
        float[] rgb;
        float[] latents;
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.inference()) {
            Tensor target = ImageDataset.toModelRange(images.pixels().narrow(0, 0, n)).avgPool2d(f, f);
            if (target.size(1) == 1) {
                target = target.expand(n, 3, shape[1], shape[2]);
            }
            rgb = target.permute(0, 2, 3, 1).contiguous().toFloatArray();
            Tensor mu = Tensor.of(Arrays.copyOf(mean, n * dim()), n, c, shape[1], shape[2]);
            latents = autoencoder.toDiffusionLatent(mu).permute(0, 2, 3, 1).contiguous().toFloatArray();
        }
        return LatentSpace.fitPreview(latents, rgb, c);
    }
}
