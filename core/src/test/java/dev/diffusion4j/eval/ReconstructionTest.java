package dev.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ReconstructionTest {

    @Test
    void psnrIsTenLogOfRangeSquaredOverMse() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(2, 3, 16, 16);
            assertEquals(10 * Math.log10(4 / 0.01), Reconstruction.psnr(a, Tensor.full(0.1, 2, 3, 16, 16), 2), 1e-4);
            assertEquals(Double.POSITIVE_INFINITY, Reconstruction.psnr(a, a, 2));
            assertThrows(DiffusionException.class, () -> Reconstruction.psnr(a, Tensor.zeros(2, 3, 16, 8), 2));
        }
    }

    @Test
    void ssimOfConstantImagesIsTheLuminanceTerm() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.full(0.5, 1, 1, 16, 16);
            Tensor b = Tensor.full(-0.5, 1, 1, 16, 16);
            double c1 = 0.02 * 0.02;
            // no variance and no covariance: the contrast-structure factor is C2 / C2
            assertEquals((2 * 0.5 * -0.5 + c1) / (0.25 + 0.25 + c1), Reconstruction.ssim(a, b, 2), 1e-5);
            assertEquals(1, Reconstruction.ssim(a, a, 2), 1e-6);
        }
    }

    /** The convolutional form against the definition summed by hand, window by window, in float64. */
    /** A batch larger than the chunks SSIM is computed in averages exactly as its images one by one. */
    @Test
    void ssimOfABatchIsTheMeanOfItsImages() {
        try (Scope s = Scope.open()) {
            Generator g = new Generator(5);
            Tensor a = Tensor.rand(g, 37, 2, 13, 13).mul(2).sub(1);
            Tensor b = a.add(Tensor.randn(g, 37, 2, 13, 13).mul(0.3)).clamp(-1, 1);
            double sum = 0;
            for (int i = 0; i < 37; i++) {
                sum += Reconstruction.ssim(a.narrow(0, i, 1), b.narrow(0, i, 1), 2);
            }
            assertEquals(sum / 37, Reconstruction.ssim(a, b, 2), 1e-12);
        }
    }

    @Test
    void ssimMatchesTheDefinitionSummedDirectly() {
        try (Scope s = Scope.open()) {
            Generator g = new Generator(1);
            Tensor a = Tensor.rand(g, 1, 2, 13, 14).to(DType.FLOAT64);
            Tensor b = a.add(Tensor.randn(g, 1, 2, 13, 14).to(DType.FLOAT64).mul(0.2));
            double[] x = a.toDoubleArray();
            double[] y = b.toDoubleArray();
            double[] w = new double[11];
            double sum = 0;
            for (int i = 0; i < 11; i++) {
                w[i] = Math.exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5));
                sum += w[i];
            }
            double c1 = 1e-4;
            double c2 = 9e-4;
            double total = 0;
            int count = 0;
            for (int ch = 0; ch < 2; ch++) {
                for (int top = 0; top + 11 <= 13; top++) {
                    for (int left = 0; left + 11 <= 14; left++) {
                        double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
                        for (int i = 0; i < 11; i++) {
                            for (int j = 0; j < 11; j++) {
                                double k = w[i] * w[j] / (sum * sum);
                                int at = ch * 13 * 14 + (top + i) * 14 + left + j;
                                mx += k * x[at];
                                my += k * y[at];
                                xx += k * x[at] * x[at];
                                yy += k * y[at] * y[at];
                                xy += k * x[at] * y[at];
                            }
                        }
                        double vx = xx - mx * mx, vy = yy - my * my, cxy = xy - mx * my;
                        total += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                        count++;
                    }
                }
            }
            double ssim = Reconstruction.ssim(a, b, 1);
            assertEquals(total / count, ssim, 1e-6);
            assertTrue(ssim < 0.9 && ssim > 0.1, "noise of 0.2 on [0, 1] images lowers SSIM clearly: " + ssim);
            assertThrows(DiffusionException.class, () -> Reconstruction.ssim(Tensor.zeros(1, 1, 8, 8), Tensor.zeros(1, 1, 8, 8), 1));
        }
    }
}
