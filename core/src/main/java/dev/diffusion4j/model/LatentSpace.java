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
}
