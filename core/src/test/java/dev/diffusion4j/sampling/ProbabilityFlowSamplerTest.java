package dev.diffusion4j.sampling;

import dev.diffusion4j.schedule.GridSpec;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.process.DormandPrince;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ProbabilityFlowSamplerTest {
    /** y' = −2t·y, y(0) = 1 has y(t) = exp(−t²): the error shrinks with the tolerance. */
    @Test
    void dormandPrinceMeetsItsTolerance() {
        try (Scope s = Scope.open()) {
            Tensor y0 = Tensor.full(DType.FLOAT64, 1.0, 3);
            double previous = Double.MAX_VALUE;
            int previousEvaluations = 0;
            for (double tol : new double[] {1e-4, 1e-7, 1e-10}) {
                DormandPrince.Result r = new DormandPrince(tol, tol, 100_000).solve((t, y) -> y.mul(-2 * t), 0, y0, 2, DormandPrince.StepObserver.NONE);
                double err = Math.abs(r.y().toDoubleArray()[0] - Math.exp(-4));
                assertTrue(err < 50 * tol, "tol " + tol + ": error " + err);
                assertTrue(err < previous && r.evaluations() > previousEvaluations, "tighter tolerance, smaller error, more work");
                previous = err;
                previousEvaluations = r.evaluations();
            }
            // backwards in time recovers the start
            Tensor end = Tensor.full(DType.FLOAT64, Math.exp(-4), 1);
            DormandPrince.Result back = new DormandPrince(1e-9, 1e-12, 100_000).solve((t, y) -> y.mul(-2 * t), 2, end, 0, DormandPrince.StepObserver.NONE);
            assertEquals(1.0, back.y().item(), 1e-7);
            DiffusionException e = assertThrows(DiffusionException.class,
                    () -> new DormandPrince(1e-12, 1e-12, 50).solve((t, y) -> y.mul(-2 * t), 0, y0, 2, DormandPrince.StepObserver.NONE));
            assertTrue(e.getMessage().contains("budget of 50 evaluations"), e.getMessage());
        }
    }

    /**
     * For Gaussian data N(μ, s²) the probability-flow ODE has the closed-form solution
     * x(σ) = μ + (x(σ₀) − μ)·√((s² + σ²)/(s² + σ₀²)); the sampler then returns D(x(σ_min); σ_min).
     */
    @Test
    void followsTheExactProbabilityFlowOfGaussianData() {
        double mu = 0.7;
        double sd = 0.4;
        GaussianDenoiser d = new GaussianDenoiser(mu, sd, NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.randn(new Generator(5), 512, 1);
            Tensor out = Samplers.run(Samplers.create("rk45", SamplerOptions.DEFAULTS), d, noise, GridSpec.DEFAULT, new Generator(6));
            double[] z = noise.toDoubleArray();
            float[] got = out.toFloatArray();
            double lo = d.sigmaMin();
            double hi = d.sigmaMax();
            double worst = 0;
            for (int i = 0; i < z.length; i++) {
                double x0 = z[i] * d.initNoiseScale();
                double xMin = mu + (x0 - mu) * Math.sqrt((sd * sd + lo * lo) / (sd * sd + hi * hi));
                double expected = mu + sd * sd / (sd * sd + lo * lo) * (xMin - mu);
                worst = Math.max(worst, Math.abs(got[i] - expected));
            }
            assertTrue(worst < 1e-3, "worst deviation from the exact flow " + worst);
            // the samples are N(μ, s²) in distribution: a deterministic map of the noise
            assertEquals(mu, out.mean().item(), 4 * sd / Math.sqrt(512));
        }
    }

    @Test
    void reportsStepsWithTheDenoisedEstimateAndCanBeCancelled() {
        GaussianDenoiser d = new GaussianDenoiser(0, 1, NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
        try (Scope s = Scope.open()) {
            java.util.List<Double> sigmas = new java.util.ArrayList<>();
            double[] maxGap = {0};
            Samplers.run(Samplers.create("rk45", SamplerOptions.DEFAULTS), d, Tensor.randn(new Generator(1), 64, 1), GridSpec.DEFAULT, new Generator(2), new SamplingListener() {
                @Override
                public void onStep(SamplingStep step) {
                    sigmas.add(step.sigma());
                    // x − D must equal (1 − s²/(s²+σ²))·x for this data: checks the reported estimate
                    Tensor expected = step.x().mul(1.0 / (1 + step.sigma() * step.sigma()));
                    maxGap[0] = Math.max(maxGap[0], step.denoised().sub(expected).abs().amax().item());
                    assertTrue(step.index() < step.total());
                }
            });
            assertTrue(sigmas.size() > 5);
            for (int i = 1; i < sigmas.size(); i++) {
                assertTrue(sigmas.get(i) < sigmas.get(i - 1), "σ decreases");
            }
            assertEquals(d.sigmaMin(), sigmas.get(sigmas.size() - 1), 1e-9);
            assertTrue(maxGap[0] < 1e-4, "denoised estimate in the step (float32 rounding of states up to ~400) " + maxGap[0]);
            assertThrows(SamplingCancelledException.class, () -> Samplers.run(Samplers.create("rk45", SamplerOptions.DEFAULTS), d, Tensor.randn(new Generator(1), 4, 1), GridSpec.DEFAULT, new Generator(2), new SamplingListener() {
                        @Override
                        public boolean isCancelled() {
                            return true;
                        }
                    }));
        }
    }
}
