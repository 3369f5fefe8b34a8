package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a latent diffusion model's samples live: the latents of an autoencoder, which its decoder
 * turns into images. Stored as the {@code latent} section of a checkpoint's config.json; the
 * checkpoint carries the autoencoder's weights too, so it samples with no file outside it.
 *
 * @param autoencoder the autoencoder's config.json (diffusers' {@code AutoencoderKL} keys, with the
 *                    {@code scaling_factor} and {@code shift_factor} that map its latents to the model's)
 * @param imageShape  one decoded image, [C, H, W]
 * @param source      the folder the autoencoder came from, as it was resolved when training began
 * @param sha256      SHA-256 of that folder's weights file: which autoencoder the latents are of
 * @param preview     a linear map of one latent pixel to RGB in [−1, 1], [3][latent channels + 1]
 *                    (the last column the bias), fitted to the autoencoder's decodes for cheap live
 *                    previews; null when none was fitted
 */
public record LatentSpace(Map<String, Object> autoencoder, long[] imageShape, String source, String sha256, double[][] preview) {
    public LatentSpace {
        if (autoencoder == null || imageShape == null || imageShape.length != 3 || source == null || sha256 == null) {
            throw new DiffusionException("a latent space needs the autoencoder's config, the image shape [C, H, W], its source and hash");
        }
        autoencoder = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(autoencoder));
        imageShape = imageShape.clone();
    }

    /** The {@code latent} config section. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("autoencoder", new java.util.TreeMap<>(autoencoder));
        m.put("image_shape", Arrays.stream(imageShape).boxed().toList());
        m.put("autoencoder_source", source);
        m.put("autoencoder_sha256", sha256);
        if (preview != null) {
            m.put("preview_rgb", Arrays.stream(preview).map(row -> Arrays.stream(row).boxed().toList()).toList());
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    public static LatentSpace fromMap(Map<?, ?> m) {
        try {
            List<?> shape = (List<?>) m.get("image_shape");
            double[][] preview = null;
            if (m.get("preview_rgb") instanceof List<?> rows) {
                preview = rows.stream().map(r -> ((List<?>) r).stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray())
                        .toArray(double[][]::new);
            }
            return new LatentSpace((Map<String, Object>) m.get("autoencoder"),
                    shape.stream().mapToLong(v -> ((Number) v).longValue()).toArray(), (String) m.get("autoencoder_source"),
                    (String) m.get("autoencoder_sha256"), preview);
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException("config.json latent section is malformed: " + e.getMessage());
        }
    }

    /** A copy with the preview map {@code rgb}. */
    public LatentSpace withPreview(double[][] rgb) {
        return new LatentSpace(autoencoder, imageShape, source, sha256, rgb);
    }

    /**
     * The least-squares linear map of latent pixels to RGB in [−1, 1], [3][c + 1] with the bias last:
     * {@code latents} holds {@code count} pixels of {@code c} channels each, {@code rgb} their colours
     * (3 each); the normal equations carry a small ridge so that a constant channel stays solvable.
     */
    public static double[][] fitPreview(float[] latents, float[] rgb, int c) {
        int count = rgb.length / 3;
        // normal equations (XᵀX + εI) w = Xᵀy per colour, X = [latent, 1]
        int k = c + 1;
        double[][] xtx = new double[k][k];
        double[][] xty = new double[3][k];
        double[] row = new double[k];
        for (int p = 0; p < count; p++) {
            for (int j = 0; j < c; j++) {
                row[j] = latents[p * c + j];
            }
            row[c] = 1;
            for (int a = 0; a < k; a++) {
                for (int b = 0; b < k; b++) {
                    xtx[a][b] += row[a] * row[b];
                }
                for (int ch = 0; ch < 3; ch++) {
                    xty[ch][a] += row[a] * rgb[p * 3 + ch];
                }
            }
        }
        for (int a = 0; a < k; a++) {
            xtx[a][a] += 1e-6 * count;
        }
        double[][] w = new double[3][];
        for (int ch = 0; ch < 3; ch++) {
            w[ch] = solve(xtx, xty[ch]);
        }
        return w;
    }

    /** Gaussian elimination with partial pivoting of a small symmetric positive definite system. */
    private static double[] solve(double[][] a, double[] b) {
        int k = b.length;
        double[][] m = new double[k][];
        for (int i = 0; i < k; i++) {
            m[i] = Arrays.copyOf(a[i], k + 1);
            m[i][k] = b[i];
        }
        for (int col = 0; col < k; col++) {
            int pivot = col;
            for (int r = col + 1; r < k; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) {
                    pivot = r;
                }
            }
            double[] t = m[col];
            m[col] = m[pivot];
            m[pivot] = t;
            for (int r = 0; r < k; r++) {
                if (r != col) {
                    double factor = m[r][col] / m[col][col];
                    for (int j = col; j <= k; j++) {
                        m[r][j] -= factor * m[col][j];
                    }
                }
            }
        }
        double[] x = new double[k];
        for (int i = 0; i < k; i++) {
            x[i] = m[i][k] / m[i][i];
        }
        return x;
    }
}
