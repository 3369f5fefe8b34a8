package dev.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The preview map's least squares recovers a known linear map of latent pixels to colours from noisy pairs. */
class LatentSpacePreviewTest {

    @Test
    void recoversAKnownLinearMap() {
        double[][] truth = {{0.3, -0.2, 0.1, 0.05, 0.1}, {-0.1, 0.4, 0.0, -0.3, -0.05}, {0.2, 0.1, -0.5, 0.25, 0.0}};
        int n = 4000;
        int c = 4;
        float[] latents = new float[n * c];
        float[] rgb = new float[n * 3];
        Random r = new Random(3);
        for (int p = 0; p < n; p++) {
            for (int j = 0; j < c; j++) {
                latents[p * c + j] = (float) r.nextGaussian();
            }
            for (int ch = 0; ch < 3; ch++) {
                double v = truth[ch][c];
                for (int j = 0; j < c; j++) {
                    v += truth[ch][j] * latents[p * c + j];
                }
                rgb[p * 3 + ch] = (float) (v + 0.01 * r.nextGaussian());
            }
        }
        double[][] fitted = LatentSpace.fitPreview(latents, rgb, c);
        for (int ch = 0; ch < 3; ch++) {
            for (int j = 0; j <= c; j++) {
                assertEquals(truth[ch][j], fitted[ch][j], 2e-3, "colour " + ch + ", column " + j);
            }
        }
    }
}
