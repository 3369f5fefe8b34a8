package dev.diffusion4j.sampling;

import dev.diffusion4j.schedule.GridSpec;

import dev.diffusion4j.process.ReverseVariance;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.schedule.TimestepSpacing;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class SamplersTest {
    private static final NoiseSchedule LINEAR = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);

    @Test
    void spacingsFollowTheirFormulas() {
        assertArrayEquals(new int[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0}, TimestepSpacing.LEADING.timesteps(1000, 10));
        assertArrayEquals(new int[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}, TimestepSpacing.TRAILING.timesteps(1000, 10));
        assertArrayEquals(new int[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0}, TimestepSpacing.LINSPACE.timesteps(1000, 10));
        assertArrayEquals(new int[] {999, 666, 332}, TimestepSpacing.TRAILING.timesteps(1000, 3));
        assertEquals(1000, TimestepSpacing.TRAILING.timesteps(1000, 1000).length);
        assertThrows(DiffusionException.class, () -> TimestepSpacing.TRAILING.timesteps(1000, 1001));
        assertThrows(DiffusionException.class, () -> TimestepSpacing.parse("sideways"));
    }

    /** DDIM must step between the grid's own timesteps (not t − T/n), and end at σ = 0. */
    @Test
    void ddimEvaluatesExactlyTheTrailingGrid() {
        GaussianDenoiser d = new GaussianDenoiser(0.5, 0.3, LINEAR);
        try (Scope s = Scope.open()) {
            Samplers.run(Samplers.create("ddim", SamplerOptions.DEFAULTS), d, Tensor.randn(new Generator(1), 8, 2), GridSpec.steps(3),
                    new Generator(2));
        }
        double[] sig = LINEAR.sigmasForSampling();
        assertEquals(3, d.calls.size());
        assertEquals(sig[999], d.calls.get(0), 1e-4 * sig[999]);
        assertEquals(sig[666], d.calls.get(1), 1e-4 * sig[666]);
        assertEquals(sig[332], d.calls.get(2), 1e-4 * sig[332]);
    }

    @Test
    void singleDeterministicStepReturnsTheDenoisedEstimate() {
        GaussianDenoiser d = new GaussianDenoiser(0.5, 0.3, LINEAR);
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.randn(new Generator(1), 16, 2);
            Tensor out = Samplers.run(Samplers.create("ddim", SamplerOptions.DEFAULTS), d, noise, GridSpec.steps(1), new Generator(2));
            double sMax = LINEAR.sigmasForSampling()[999];
            Tensor x = noise.mul(Math.sqrt(1 + sMax * sMax));
            assertTrue(out.allClose(d.denoise(x, Tensor.full(sMax, 1)), 1e-5, 1e-6));
        }
    }

    /** Exact denoiser of N(μ, s²): full-chain DDPM must reproduce that distribution with either variance. */
    @Test
    void ddpmRecoversAGaussianFromItsExactDenoiser() {
        double mu = 0.5;
        double sd = 0.8;
        int n = 20_000;
        for (ReverseVariance v : new ReverseVariance[] {ReverseVariance.BETA_TILDE, ReverseVariance.BETA}) {
            try (Scope s = Scope.open()) {
                Tensor out = Samplers.run(Samplers.create("ddpm", SamplerOptions.DEFAULTS.withVariance(v)), new GaussianDenoiser(mu, sd, LINEAR), Tensor.randn(new Generator(3), n, 1), GridSpec.DEFAULT, new Generator(4));
                assertEquals(mu, out.mean().item(), 5 * sd / Math.sqrt(n), v + " mean");
                assertEquals(sd, out.std(0, false).item(), 0.02 * sd, v + " std");
            }
        }
    }

    /**
     * For Gaussian data, deterministic DDIM maps x − μ linearly: each step multiplies it by
     * k + (σ_s/σ_t)(1 − k) with k = s²/(s² + σ_t²) (x̂₀ = μ + k(x − μ), x_s = x̂₀ + σ_s·ε̂). The sampler
     * must reproduce that product exactly, and with many steps approach the true std.
     */
    @Test
    void ddimMatchesItsClosedFormOnGaussianData() {
        double mu = 0.5;
        double sd = 0.8;
        for (int steps : new int[] {5, 20, 100}) {
            double[] sig = new double[steps + 1];
            int[] ts = TimestepSpacing.TRAILING.timesteps(1000, steps);
            double[] train = LINEAR.sigmasForSampling();
            for (int i = 0; i < steps; i++) {
                sig[i] = train[ts[i]];
            }
            double gain = Math.sqrt(1 + sig[0] * sig[0]);
            for (int i = 0; i < steps; i++) {
                double k = sd * sd / (sd * sd + sig[i] * sig[i]);
                gain *= k + sig[i + 1] / sig[i] * (1 - k);
            }
            try (Scope s = Scope.open()) {
                Tensor noise = Tensor.randn(new Generator(3), 4096, 1);
                Tensor out = Samplers.run(Samplers.create("ddim", SamplerOptions.DEFAULTS), new GaussianDenoiser(mu, sd, LINEAR), noise, GridSpec.steps(steps), new Generator(4));
                assertEquals(gain, out.std(0, false).item() / noise.std(0, false).item(), 1e-4 * gain, "DDIM " + steps + " steps");
                if (steps == 100) {
                    assertEquals(sd, gain, 0.03 * sd, "100 first-order DDIM steps reach the true std within 3%");
                }
            }
        }
    }

    @Test
    void ddimWithEtaOneAndDdpmAreStochasticButSeeded() {
        GaussianDenoiser d = new GaussianDenoiser(0, 1, LINEAR);
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.randn(new Generator(1), 64, 2);
            for (String name : new String[] {"ddpm", "ddim"}) {
                Sampler sm = Samplers.create(name, SamplerOptions.DEFAULTS.withEta(1.0));
                Tensor a = Samplers.run(sm, d, noise, GridSpec.steps(20), new Generator(9));
                Tensor b = Samplers.run(sm, d, noise, GridSpec.steps(20), new Generator(9));
                Tensor c = Samplers.run(sm, d, noise, GridSpec.steps(20), new Generator(10));
                assertTrue(a.equal(b), name + " must be reproducible for a seed");
                assertFalse(a.equal(c), name + " must depend on the seed");
            }
            Sampler det = Samplers.create("ddim", SamplerOptions.DEFAULTS);
            assertTrue(Samplers.run(det, d, noise, GridSpec.steps(20), new Generator(9))
                    .equal(Samplers.run(det, d, noise, GridSpec.steps(20), new Generator(10))), "eta=0 is deterministic");
        }
    }

    @Test
    void listenerSeesEveryStepAndCanCancel() {
        GaussianDenoiser d = new GaussianDenoiser(0, 1, LINEAR);
        int[] seen = {0};
        double[] lastSigma = {-1};
        try (Scope s = Scope.open()) {
            Samplers.run(Samplers.create("ddim", SamplerOptions.DEFAULTS), d, Tensor.randn(new Generator(1), 4, 2), GridSpec.steps(10), new Generator(2), new SamplingListener() {
                        @Override
                        public void onStep(SamplingStep step) {
                            assertEquals(seen[0], step.index());
                            assertEquals(10, step.total());
                            seen[0]++;
                            lastSigma[0] = step.sigma();
                        }
                    });
            assertEquals(10, seen[0]);
            assertEquals(0.0, lastSigma[0]);
            SamplingListener cancelAt3 = new SamplingListener() {
                int n;

                @Override
                public void onStep(SamplingStep step) {
                    n++;
                }

                @Override
                public boolean isCancelled() {
                    return n >= 3;
                }
            };
            SamplingCancelledException e = assertThrows(SamplingCancelledException.class, () -> Samplers.run(Samplers.create("ddpm", SamplerOptions.DEFAULTS), d, Tensor.randn(new Generator(1), 4, 2), GridSpec.DEFAULT, new Generator(2), cancelAt3));
            assertTrue(e.getMessage().contains("step 3 of 1000"), e.getMessage());
        }
    }

    @Test
    void unknownSamplerNamesTheAvailableOnes() {
        DiffusionException e = assertThrows(DiffusionException.class, () -> Samplers.create("magic", SamplerOptions.DEFAULTS));
        assertTrue(e.getMessage().contains("ddpm") && e.getMessage().contains("ddim"), e.getMessage());
    }
}
