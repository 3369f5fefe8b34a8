package dev.diffusion4j.eval;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How faithfully an autoencoder reconstructs images: PSNR and SSIM between image batches
 * [B, C, H, W] whose values span {@code range} (2 for images in [−1, 1]).
 */
public final class Reconstruction {
    private static final int BATCH = 100;
    /** Images through the autoencoder at a time: its activations at 64 pixels are megabytes per image. */
    private static final int AUTOENCODER_BATCH = 16;
    private static final int SSIM_CHUNK = 16;
    /** Wang et al. (2004): an 11×11 Gaussian window of σ = 1.5, K₁ = 0.01, K₂ = 0.03. */
    private static final int WINDOW = 11;
    private static final double WINDOW_SIGMA = 1.5;
    private static final double K1 = 0.01;
    private static final double K2 = 0.03;

    private Reconstruction() {
    }

    /**
     * The figures of one evaluation: PSNR, SSIM and reconstruction FID (the Fréchet distance between
     * the feature classifier's features of the originals and of their reconstructions) of the
     * autoencoder, and the same for the baseline it has to beat: area-average down-sampling by the
     * autoencoder's factor and bilinear up-sampling back.
     */
    public record Report(int images, String data, String classifier, int factor, double psnr, double ssim, double rfid,
                         double baselinePsnr, double baselineSsim, double baselineRfid) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("images", images);
            m.put("data", data);
            m.put("classifier", classifier);
            m.put("downsampling_factor", factor);
            m.put("psnr", psnr);
            m.put("ssim", ssim);
            m.put("rfid", rfid);
            m.put("baseline_psnr", baselinePsnr);
            m.put("baseline_ssim", baselineSsim);
            m.put("baseline_rfid", baselineRfid);
            return m;
        }
    }

    /**
     * Reconstructs the first {@code n} images of {@code heldOut} through {@code vae}'s posterior mode
     * and reports {@link Report}; {@code features} (reading images of that shape) gives the rFID.
     */
    public static Report evaluate(AutoencoderKL vae, ImageDataset heldOut, int n, ImageClassifier features) {
        int count = Math.min(n, heldOut.size());
        if (count < 2) {
            throw new DiffusionException("reconstruction metrics need at least 2 held-out images, " + heldOut.name() + " has " + heldOut.size());
        }
        int f = vae.config().downsampleFactor();
        try (Scope s = Scope.open()) {
            Tensor originals = ImageDataset.toModelRange(heldOut.pixels().narrow(0, 0, count));
            List<Tensor> parts = new ArrayList<>();
            try (NoGrad ng = NoGrad.inference()) {
                for (int i = 0; i < count; i += AUTOENCODER_BATCH) {
                    // a scope per batch: the autoencoder's activations go with it
                    try (Scope batch = Scope.open()) {
                        parts.add(batch.keep(vae.reconstruct(originals.narrow(0, i, Math.min(AUTOENCODER_BATCH, count - i))).clamp(-1, 1)));
                    }
                }
            }
            Tensor reconstructions = Tensor.cat(parts, 0);
            Tensor baseline = originals.avgPool2d(f, f).upsampleBilinear(f).clamp(-1, 1);
            Tensor real = features.evaluate(originals, BATCH).features();
            return new Report(count, heldOut.name(), features.config().data(), f,
                    psnr(originals, reconstructions, 2), ssim(originals, reconstructions, 2),
                    ImageMetrics.fid(real, features.evaluate(reconstructions, BATCH).features()),
                    psnr(originals, baseline, 2), ssim(originals, baseline, 2),
                    ImageMetrics.fid(real, features.evaluate(baseline, BATCH).features()));
        }
    }

    /** Peak signal-to-noise ratio in dB, 10·log₁₀(range² / MSE), over the whole batch; infinite for equal images. */
    public static double psnr(Tensor a, Tensor b, double range) {
        checkPair(a, b);
        try (Scope s = Scope.open()) {
            double mse = a.sub(b).square().mean().item();
            return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(range * range / mse);
        }
    }

    /**
     * Mean structural similarity (Wang et al. 2004): at each position of a Gaussian window,
     * (2μₐμ_b + C₁)(2σ_ab + C₂) / ((μₐ² + μ_b² + C₁)(σₐ² + σ_b² + C₂)) with Cᵢ = (Kᵢ·range)²,
     * averaged over the valid positions, channels and images. 1 for equal images.
     */
    public static double ssim(Tensor a, Tensor b, double range) {
        checkPair(a, b);
        if (a.size(2) < WINDOW || a.size(3) < WINDOW) {
            throw new DiffusionException("SSIM needs images of at least " + WINDOW + "×" + WINDOW + " pixels, got "
                    + a.size(2) + "×" + a.size(3));
        }
        // In chunks of images: float64 convolutions take libtorch's im2col path, whose buffer grows with
        // batch × C·11² × positions (7 GB for 826 RGB images of 64×64 at once). Every image has as many
        // positions, so the mean over the batch is the size-weighted mean of the chunks' means.
        long n = a.size(0);
        double sum = 0;
        for (long i = 0; i < n; i += SSIM_CHUNK) {
            long m = Math.min(SSIM_CHUNK, n - i);
            sum += ssimMean(a.narrow(0, i, m), b.narrow(0, i, m), range) * m;
        }
        return sum / n;
    }

    private static double ssimMean(Tensor a, Tensor b, double range) {
        try (Scope s = Scope.open()) {
            // float64: the variances are differences of nearly equal moments, E[x²] − μ²
            Tensor x = a.to(DType.FLOAT64);
            Tensor y = b.to(DType.FLOAT64);
            long c = a.size(1);
            Tensor window = gaussianWindow().expand(c, 1, WINDOW, WINDOW).contiguous();
            Tensor muA = blur(x, window);
            Tensor muB = blur(y, window);
            Tensor varA = blur(x.square(), window).sub(muA.square());
            Tensor varB = blur(y.square(), window).sub(muB.square());
            Tensor cov = blur(x.mul(y), window).sub(muA.mul(muB));
            double c1 = (K1 * range) * (K1 * range);
            double c2 = (K2 * range) * (K2 * range);
            Tensor map = muA.mul(muB).mul(2).add(c1).mul(cov.mul(2).add(c2))
                    .div(muA.square().add(muB.square()).add(c1).mul(varA.add(varB).add(c2)));
            return map.mean().item();
        }
    }

    /** Each channel filtered by the window, valid positions only. */
    private static Tensor blur(Tensor x, Tensor window) {
        return x.conv2d(window, null, 1, 0, x.size(1));
    }

    private static Tensor gaussianWindow() {
        double[] g = new double[WINDOW];
        double sum = 0;
        for (int i = 0; i < WINDOW; i++) {
            double d = i - WINDOW / 2;
            g[i] = Math.exp(-d * d / (2 * WINDOW_SIGMA * WINDOW_SIGMA));
            sum += g[i];
        }
        double[] w = new double[WINDOW * WINDOW];
        for (int i = 0; i < WINDOW; i++) {
            for (int j = 0; j < WINDOW; j++) {
                w[i * WINDOW + j] = g[i] * g[j] / (sum * sum);
            }
        }
        return Tensor.of(w, 1, 1, WINDOW, WINDOW);
    }

    private static void checkPair(Tensor a, Tensor b) {
        if (a.dim() != 4 || !Arrays.equals(a.shape(), b.shape())) {
            throw new DiffusionException("reconstruction metrics compare two image batches [B, C, H, W] of one shape, got "
                    + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()));
        }
    }
}
