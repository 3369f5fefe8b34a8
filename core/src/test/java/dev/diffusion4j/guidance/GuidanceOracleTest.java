package dev.diffusion4j.guidance;

import dev.diffusion4j.schedule.GridSpec;

import dev.diffusion4j.model.Denoiser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.GaussianMixture;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.oracle.MixtureDenoiser;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Guidance against the analytic oracle of a Gaussian mixture, where the conditional denoiser and
 * the noisy classifier are exact: classifier guidance with s = 1 must give D(x; σ, k) (Tweedie's
 * formula), classifier-free guidance interpolates between D(x; σ) and D(x; σ, k), and sampling
 * with either draws component k.
 */
class GuidanceOracleTest {
    private static final MixtureDenoiser ORACLE = MixtureDenoiser.of(Toy2D.EIGHT_GAUSSIANS.mixture().orElseThrow());

    private static double maxDiff(Tensor a, Tensor b) {
        return a.to(DType.FLOAT64).sub(b.to(DType.FLOAT64)).abs().amax().item();
    }

    @Test
    void classifierGuidanceWithTheExactClassifierIsTheConditionalDenoiser() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor x = Tensor.randn(new Generator(4), 64, 2).mul(2).to(DType.FLOAT64);
            for (double sigma : new double[] {0.05, 0.3, 1.0, 4.0}) {
                Tensor sig = Tensor.of(new double[] {sigma}, 1);
                for (int k : new int[] {0, 3, 7}) {
                    Tensor exact = ORACLE.denoise(x, sig, Tensor.full(DType.INT64, k, 64));
                    Tensor guided = new ClassifierGuidance(ORACLE, ORACLE, k, 1.0).denoise(x, sig);
                    assertTrue(maxDiff(guided, exact) < 1e-8, "sigma " + sigma + " class " + k + ": " + maxDiff(guided, exact));
                    Tensor plain = ORACLE.denoise(x, sig);
                    Tensor doubled = new ClassifierGuidance(ORACLE, ORACLE, k, 2.0).denoise(x, sig);
                    assertTrue(maxDiff(doubled, plain.add(exact.sub(plain).mul(2))) < 1e-8, "s = 2 doubles the step");
                    assertTrue(maxDiff(new ClassifierGuidance(ORACLE, ORACLE, k, 0).denoise(x, sig), plain) == 0, "s = 0 is the model");
                }
            }
            Tensor perSample = Tensor.rand(new Generator(5), 64).mul(2).add(0.1).to(DType.FLOAT64);
            Tensor exact = ORACLE.denoise(x, perSample, Tensor.full(DType.INT64, 5, 64));
            assertTrue(maxDiff(new ClassifierGuidance(ORACLE, ORACLE, 5, 1.0).denoise(x, perSample), exact) < 1e-8, "per-sample sigma");
        }
    }

    @Test
    void classifierFreeGuidanceOnTheOracleInterpolatesAndSamplesTheComponent() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor x = Tensor.randn(new Generator(6), 32, 2).mul(2).to(DType.FLOAT64);
            Tensor sig = Tensor.of(new double[] {0.7}, 1);
            Tensor cond = ORACLE.denoise(x, sig, Tensor.full(DType.INT64, 2, 32));
            Tensor uncond = ORACLE.denoise(x, sig);
            assertTrue(maxDiff(ORACLE.denoise(x, sig, Tensor.full(DType.INT64, 8, 32)), uncond) == 0, "the null label is the mixture");
            assertTrue(maxDiff(new ClassifierFreeGuidance(ORACLE, ClassifierFreeGuidance.Options.of(2, 1)).denoise(x, sig), cond) < 1e-12);
            assertTrue(maxDiff(new ClassifierFreeGuidance(ORACLE, ClassifierFreeGuidance.Options.of(2, 0)).denoise(x, sig), uncond) < 1e-12);

            GaussianMixture gm = Toy2D.EIGHT_GAUSSIANS.mixture().orElseThrow();
            Denoiser[] exactConditionals = {
                new ClassifierFreeGuidance(ORACLE, ClassifierFreeGuidance.Options.of(2, 1)),
                new ClassifierGuidance(ORACLE, ORACLE, 2, 1.0),
            };
            for (Denoiser d : exactConditionals) {
                Tensor samples = Samplers.run(Samplers.create("heun", SamplerOptions.DEFAULTS), d, Tensor.randn(new Generator(7), 4000, 2), GridSpec.steps(40), new Generator(8));   // samplers scale unit noise themselves
                Tensor mean = samples.mean(0, false);
                double[] m = mean.toDoubleArray();
                double spread = samples.sub(mean).square().mean().sqrt().item();
                assertEquals(gm.means()[2][0], m[0], 0.02, d.getClass().getSimpleName() + " mean x");
                assertEquals(gm.means()[2][1], m[1], 0.02, d.getClass().getSimpleName() + " mean y");
                assertEquals(0.2, spread, 0.02, d.getClass().getSimpleName() + ": the component's std");
            }
        }
    }

    @Test
    void badScalesAndClassesAreClearErrors() {
        assertThrows(DiffusionException.class, () -> new ClassifierGuidance(ORACLE, ORACLE, 0, -1));
        assertThrows(DiffusionException.class, () -> new ClassifierGuidance(ORACLE, ORACLE, -2, 1));
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            DiffusionException e = assertThrows(DiffusionException.class, () -> new ClassifierGuidance(ORACLE, ORACLE, 8, 1)
                    .denoise(Tensor.zeros(2, 2), Tensor.of(new float[] {1}, 1)));
            assertTrue(e.getMessage().contains("unknown class 8"), e.getMessage());
        }
    }
}
