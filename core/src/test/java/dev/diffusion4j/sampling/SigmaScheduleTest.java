package dev.diffusion4j.sampling;

import dev.diffusion4j.schedule.TimestepSpacing;

import dev.diffusion4j.schedule.SigmaSchedule;

import dev.diffusion4j.schedule.NoiseSchedule;

import dev.diffusion4j.schedule.GridSpec;

import dev.diffusion4j.schedule.BetaSchedule;

import dev.diffusion4j.model.Denoiser;


import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import org.junit.jupiter.api.Test;

/** The σ grids against their formulas, and the options that choose them. */
class SigmaScheduleTest {
    private static final NoiseSchedule LINEAR = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
    private static final GaussianDenoiser EDM = new GaussianDenoiser(0, 1, 0.002, 80);

    /** {@code schedule}'s grid of {@code n} steps over the model's range (and its training levels). */
    private static double[] grid(SigmaSchedule schedule, Denoiser model, int n, GridSpec spec) {
        return schedule.grid(n, model.sigmaMin(), model.sigmaMax(), model.trainingSigmas(), spec);
    }

    private static void assertDescendingToZero(double[] g) {
        assertEquals(0.0, g[g.length - 1]);
        for (int i = 1; i < g.length; i++) {
            assertTrue(g[i] < g[i - 1], "strictly descending at " + i);
        }
    }

    @Test
    void karrasFollowsEquationFive() {
        double[] g = grid(SigmaSchedule.KARRAS, EDM, 11, GridSpec.DEFAULT);
        assertEquals(12, g.length);
        assertDescendingToZero(g);
        assertEquals(80, g[0], 1e-12);
        assertEquals(0.002, g[10], 1e-15);
        // i = 5 of 0..10 sits halfway in σ^{1/7}: ((80^{1/7} + 0.002^{1/7})/2)^7, worked out separately.
        assertEquals(2.515218976147159, g[5], 1e-12);
        // ρ = 1 makes it linear in σ.
        double[] lin = grid(SigmaSchedule.KARRAS, EDM, 11, GridSpec.DEFAULT.withRho(1));
        assertEquals((80 + 0.002) / 2, lin[5], 1e-12);
        assertEquals(40.001 + (0.002 - 80) / 10, lin[6], 1e-12);
    }

    @Test
    void exponentialIsGeometricAndPolyexponentialBendsIt() {
        double[] g = grid(SigmaSchedule.EXPONENTIAL, EDM, 9, GridSpec.DEFAULT);
        assertDescendingToZero(g);
        assertEquals(80, g[0], 1e-12);
        assertEquals(0.002, g[8], 1e-15);
        double ratio = Math.pow(0.002 / 80, 1.0 / 8);
        for (int i = 1; i < 9; i++) {
            assertEquals(ratio, g[i] / g[i - 1], 1e-12, "constant ratio at " + i);
        }
        assertArrayEquals(g, grid(SigmaSchedule.POLYEXPONENTIAL, EDM, 9, GridSpec.DEFAULT), 1e-12, "ρ = 1 is exponential");
        double[] p = grid(SigmaSchedule.POLYEXPONENTIAL, EDM, 9, GridSpec.DEFAULT.withRho(2));
        assertDescendingToZero(p);
        // Halfway: log σ = log σ_min + (1/2)²·(log σ_max − log σ_min) = σ_min^{3/4}·σ_max^{1/4}.
        assertEquals(0.028284271247461905, p[4], 1e-14);
        assertEquals(80, p[0], 1e-12);
        assertEquals(0.002, p[8], 1e-15);
    }

    @Test
    void modelScheduleKeepsTheTrainingGridAndOthersSpanItsRange() {
        GaussianDenoiser discrete = new GaussianDenoiser(0, 1, LINEAR);
        double[] train = LINEAR.sigmasForSampling();
        double[] g = grid(SigmaSchedule.MODEL, discrete, 3, GridSpec.DEFAULT);
        assertArrayEquals(new double[] {train[999], train[666], train[332], 0}, g);
        double[] lead = grid(SigmaSchedule.MODEL, discrete, 10, GridSpec.DEFAULT.withSpacing(TimestepSpacing.LEADING));
        assertEquals(train[900], lead[0]);
        assertEquals(train[0], lead[9]);
        // Karras on a discrete model spans its trained [σ_min, σ_max], not the EDM defaults.
        double[] k = grid(SigmaSchedule.KARRAS, discrete, 20, GridSpec.DEFAULT);
        assertEquals(train[999], k[0], 1e-9 * train[999]);
        assertEquals(train[0], k[19], 1e-12);
        // A continuous model's own grid is the log-linear one.
        assertArrayEquals(grid(SigmaSchedule.EXPONENTIAL, EDM, 7, GridSpec.DEFAULT), grid(SigmaSchedule.MODEL, EDM, 7, GridSpec.DEFAULT));
        // One step starts at σ_max.
        assertArrayEquals(new double[] {80, 0}, grid(SigmaSchedule.KARRAS, EDM, 1, GridSpec.DEFAULT), 1e-12);
        assertThrows(DiffusionException.class, () -> grid(SigmaSchedule.MODEL, discrete, 1001, GridSpec.DEFAULT));
    }

    @Test
    void samplersUseTheChosenSchedule() {
        GaussianDenoiser d = new GaussianDenoiser(0, 1, 0.002, 80);
        try (var s = dev.diffusion4j.tensor.Scope.open()) {
            Samplers.run(Samplers.create("euler", SamplerOptions.DEFAULTS), d, dev.diffusion4j.tensor.Tensor.randn(new dev.diffusion4j.tensor.Generator(1), 4, 1), GridSpec.DEFAULT.withSteps(6).withSchedule(SigmaSchedule.KARRAS), new dev.diffusion4j.tensor.Generator(2));
        }
        double[] k = SigmaSchedule.karras(6, 0.002, 80, 7);
        assertEquals(6, d.calls.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(k[i], d.calls.get(i), 1e-6 * k[i], "evaluation " + i);   // σ reaches the model as float32
        }
    }

    @Test
    void namesParseAndBadOptionsSayWhatToDo() {
        assertEquals(SigmaSchedule.KARRAS, SigmaSchedule.parse("Karras"));
        assertEquals(SigmaSchedule.POLYEXPONENTIAL, SigmaSchedule.parse("polyexponential"));
        DiffusionException e = assertThrows(DiffusionException.class, () -> SigmaSchedule.parse("cosine"));
        assertTrue(e.getMessage().contains("model, karras, exponential or polyexponential"), e.getMessage());
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withEta(1.5));
        assertThrows(DiffusionException.class, () -> GridSpec.DEFAULT.withRho(0));
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withOrder(5));
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withSNoise(-1));
        assertThrows(DiffusionException.class, () -> new SamplerOptions.Churn(-1, 0, 1));
        DiffusionException c = assertThrows(DiffusionException.class, () -> new SamplerOptions.Churn(10, 2, 1));
        assertTrue(c.getMessage().contains("s-tmin"), c.getMessage());
        assertThrows(DiffusionException.class, () -> SigmaSchedule.karras(5, 1, 0.5, 7));
        // γ = min(S_churn/N, √2 − 1) inside [S_tmin, S_tmax], else 0.
        SamplerOptions.Churn churn = new SamplerOptions.Churn(10, 0.05, 50);
        assertEquals(0.1, churn.gamma(1, 100), 1e-15);
        assertEquals(Math.sqrt(2) - 1, churn.gamma(1, 10), 1e-15);
        assertEquals(0, churn.gamma(60, 100));
        assertEquals(0, churn.gamma(0.01, 100));
    }
}
