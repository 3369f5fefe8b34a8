package dev.diffusion4j.sampling;

import dev.diffusion4j.schedule.GridSpec;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.process.Sde;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.schedule.TimestepSpacing;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The score-SDE family (sde_euler, pc, the Langevin corrector) and annealed Langevin dynamics
 * against the exact denoiser of Gaussian data x₀ ~ N(μ, s²).
 */
class ScoreSdeSamplersTest {
    private static final double MU = 0.5;
    private static final double SD = 0.8;
    private static final double SIGMA_MIN = 0.002;
    private static final double SIGMA_MAX = 80;
    private static final int N = 20_000;
    /** Four standard errors of the sample mean and of the sample std of N draws from N(μ, s²). */
    private static final double MEAN_TOL = 4 * SD / Math.sqrt(N);
    private static final double STD_TOL = 4 * SD / Math.sqrt(2.0 * N);

    private static GaussianDenoiser edm() {
        return new GaussianDenoiser(MU, SD, SIGMA_MIN, SIGMA_MAX);
    }

    /**
     * Each SDE's drift and diffusion must produce the marginals its clock and scale claim: for
     * dy = f·y dt + g dw the mean scale obeys dα/dt = f·α and the std m = α·σ obeys
     * d(m²)/dt = 2f·m² + g² (checked by central differences), and time(σ(t)) = t. Anchors: the VE
     * clock spans [σ_min, σ_max] on t ∈ [0, 1]; the VP clock on DDPM's linear schedule (σ from
     * 0.0100 to 157) runs from t ≈ 1e-3 — Song et al.'s ε — to t ≈ 1.
     */
    @Test
    void sdeCoefficientsProduceTheirMarginals() {
        for (Sde kind : Sde.values()) {
            Sde.Process p = new Sde.Process(kind, 0.01, 157);
            for (double t : new double[] {0.02, 0.3, 0.7, 0.98}) {
                double sigma = p.sigma(t);
                assertEquals(t, p.time(sigma), 1e-12, kind + " time(σ(t))");
                double dt = 1e-5;
                double aPlus = p.scale(p.sigma(t + dt));
                double aMinus = p.scale(p.sigma(t - dt));
                double dLogAlpha = (Math.log(aPlus) - Math.log(aMinus)) / (2 * dt);
                assertEquals(p.drift(t), dLogAlpha, 1e-6 * (1 + Math.abs(p.drift(t))), kind + " dα/dt = f·α at t = " + t);
                double mPlus = Math.pow(aPlus * p.sigma(t + dt), 2);
                double mMinus = Math.pow(aMinus * p.sigma(t - dt), 2);
                double m2 = Math.pow(p.scale(sigma) * sigma, 2);
                double expected = 2 * p.drift(t) * m2 + p.diffusionSquared(t);
                assertEquals(expected, (mPlus - mMinus) / (2 * dt), 1e-6 * Math.abs(expected), kind + " d(m²)/dt = 2f·m² + g² at t = " + t);
            }
        }
        Sde.Process ve = new Sde.Process(Sde.VE, 0.01, 157);
        assertEquals(0.01, ve.sigma(0), 1e-15);
        assertEquals(157, ve.sigma(1), 1e-9);
        assertEquals(0, ve.drift(0.5));
        double[] ddpm = NoiseSchedule.of(BetaSchedule.LINEAR, 1000).sigmasForSampling();
        Sde.Process vp = new Sde.Process(Sde.VP, ddpm[0], ddpm[ddpm.length - 1]);
        assertEquals(1e-3, vp.time(ddpm[0]), 1e-4, "VP time of DDPM's smallest level");
        assertEquals(1.0, vp.time(ddpm[ddpm.length - 1]), 0.005, "VP time of DDPM's largest level");
        // VP and sub-VP states: α = 1/√(1+σ²) and α·σ = 1 − α² respectively
        Sde.Process sub = new Sde.Process(Sde.SUB_VP, 0.01, 157);
        for (double sigma : new double[] {0.01, 1, 157}) {
            assertEquals(1 / Math.sqrt(1 + sigma * sigma), vp.scale(sigma), 1e-15);
            double a = sub.scale(sigma);
            assertEquals(1 - a * a, a * sigma, 1e-12);
        }
    }

    /** Max |x − exact| at σ_min after {@code steps} steps uniform in SDE time, in float64 (no final 0). */
    private static double sdeOdeError(Sde sde, int steps) {
        GaussianDenoiser d = edm();
        double[] grid = Arrays.copyOf(SigmaSchedule.uniformIn(new Sde.Process(sde, SIGMA_MIN, SIGMA_MAX), steps + 1, SIGMA_MIN, SIGMA_MAX), steps + 1);
        SigmaSampler euler = (SigmaSampler) Samplers.create("sde_euler", SamplerOptions.DEFAULTS.withEta(0).withSde(sde));
        try (Scope s = Scope.open()) {
            Tensor noise = Tensor.of(new double[] {-2.1, -1.3, -0.4, 0.2, 0.9, 1.7, 2.4, 3.0}, 8, 1);
            Tensor out = euler.sample(d, noise, grid, new Generator(1), SamplingListener.NONE);
            Tensor exact = d.flow(noise.mul(Math.sqrt(1 + SIGMA_MAX * SIGMA_MAX)), SIGMA_MAX, SIGMA_MIN);
            return out.sub(exact).abs().amax().item();
        }
    }

    /**
     * At η = 0 the Euler–Maruyama step is Euler's method on the probability-flow ODE in the SDE's
     * own time, so it must converge to the exact solution at first order for each SDE. Measured
     * fitted slopes over 32–256 steps: VP 0.89, VE 0.90, sub-VP 1.05.
     */
    @Test
    void sdeEulerAtEtaZeroIsFirstOrderForEachSde() {
        for (Sde sde : Sde.values()) {
            assertEquals(1.0, Orders.of(new int[] {32, 64, 128, 256}, n -> sdeOdeError(sde, n)), 0.3, sde + " Euler order at eta = 0");
        }
    }

    /**
     * The stochastic samplers at their default step counts recover N(μ, s²) within four standard
     * errors (n = 20,000). Measured std: sde_euler 0.799 (VP), 0.793 (VE), 0.800 (sub-VP); pc 0.807
     * for each SDE — the corrector's step rule keeps a bias of its own, std·√(1 + r²) ≈ +1.3% at
     * r = 0.16 (see {@link #langevinCorrectorReachesItsStationaryLaw}).
     */
    @Test
    void sdeSamplersRecoverTheGaussian() {
        Map<String, SamplerOptions> cases = new LinkedHashMap<>();
        for (Sde sde : Sde.values()) {
            cases.put("sde_euler " + sde, SamplerOptions.DEFAULTS.withSde(sde));
            cases.put("pc " + sde, SamplerOptions.DEFAULTS.withSde(sde));
        }
        cases.put("pc euler_maruyama", SamplerOptions.DEFAULTS.withPredictor(PredictorCorrectorSampler.Predictor.EULER_MARUYAMA));
        for (var c : cases.entrySet()) {
            try (Scope s = Scope.open()) {
                Tensor out = Samplers.run(Samplers.create(c.getKey().split(" ")[0], c.getValue()), edm(), Tensor.randn(new Generator(3), N, 1), GridSpec.DEFAULT, new Generator(4));
                assertEquals(MU, out.mean().item(), MEAN_TOL, c.getKey() + " mean");
                assertEquals(SD, out.std(0, false).item(), STD_TOL, c.getKey() + " std");
            }
        }
    }

    /**
     * The Langevin corrector alone at a fixed level σ, on Gaussian data whose noisy marginal is
     * N(μ, v) with v = s² + σ². With g = −(y − μ)/v, the step rule ε = 2(r·‖z‖/‖g‖)² (batch-mean
     * norms) settles where the chain's variance V satisfies V = (1 − ε/v)²V + 2ε with
     * ε = 2r²v²/V, whose solution is V = v·(1 + r²). 400 steps from a start of the wrong width must
     * land there: std √(v(1 + r²)), 12% above √v at r = 0.5, 4.4% at r = 0.3 (a step rule off by a
     * factor 2 would give √(v(1 + 2r²)) instead).
     */
    @Test
    void langevinCorrectorReachesItsStationaryLaw() {
        double sigma = 1.0;
        double v = SD * SD + sigma * sigma;
        for (double snr : new double[] {0.3, 0.5}) {
            SigmaSampler correctorOnly = new SigmaSampler(SamplerOptions.DEFAULTS) {
                @Override
                public String name() {
                    return "corrector";
                }

                @Override
                protected Tensor step(Step s) {
                    s.denoised();
                    return LangevinCorrector.correct(s, Sde.VE.over(s.model().sigmaMin(), s.model().sigmaMax()), s.x(), s.sigma(), 1, snr, 400);
                }
            };
            try (Scope s = Scope.open()) {
                Tensor out = correctorOnly.sample(edm(), Tensor.randn(new Generator(5), N, 1), new double[] {sigma, sigma / 2}, new Generator(6),
                        SamplingListener.NONE);
                double expected = Math.sqrt(v * (1 + snr * snr));
                assertEquals(MU, out.mean().item(), 4 * expected / Math.sqrt(N), "corrector mean at snr " + snr);
                assertEquals(expected, out.std(0, false).item(), 4 * expected / Math.sqrt(2.0 * N), "corrector std at snr " + snr);
            }
        }
    }

    /**
     * On Gaussian data every annealed-Langevin update is linear, x − μ ← (1 − c)(x − μ) + √α_i·z with
     * c = α_i/(2(s² + σ_i²)), so the mean and variance of the chain follow an exact recursion; the
     * final denoising step scales x − μ by s²/(s² + σ_L²). At the paper's settings (L = 10, T = 100,
     * α_i/σ_i² = 0.2) the recursion predicts std 0.886: the steps shrink with σ_i², so once σ_i ≪ s
     * the chain no longer mixes and keeps the width it had near σ ≈ s — an 11% excess that the
     * sampler must reproduce, not hide. With T = 1000 the chain mixes down to smaller σ and the
     * samples match N(μ, s²) (predicted std 0.8085).
     */
    @Test
    void annealedLangevinFollowsItsExactLawAndConvergesWithMoreSteps() {
        for (int levelSteps : new int[] {100, 1000}) {
            double[] predicted = annealedLangevinMoments(10, levelSteps);
            try (Scope s = Scope.open()) {
                Tensor out = Samplers.run(Samplers.create("annealed_langevin", SamplerOptions.DEFAULTS.withLevelSteps(levelSteps)), edm(), Tensor.randn(new Generator(7), N, 1), GridSpec.DEFAULT, new Generator(8));
                double std = out.std(0, false).item();
                assertEquals(predicted[0], out.mean().item(), 4 * predicted[1] / Math.sqrt(N), "T = " + levelSteps + " mean");
                assertEquals(predicted[1], std, 4 * predicted[1] / Math.sqrt(2.0 * N), "T = " + levelSteps + " std against the exact recursion");
                if (levelSteps == 100) {
                    assertEquals(0.886, predicted[1], 0.001);
                } else {
                    assertEquals(MU, out.mean().item(), MEAN_TOL, "T = 1000 mean");
                    assertEquals(SD, std, STD_TOL, "T = 1000 recovers the Gaussian");
                }
            }
        }
    }

    /**
     * With few predictor steps the reverse-diffusion predictor leaves the samples too wide; Langevin
     * corrector steps at each level pull them towards p_σ, so the std error must shrink as M grows and
     * at M = 5 reach the corrector's own stationary width s·√(1 + r²) within 2%. Measured std at 20
     * steps, M = 0, 1, 5: VP 0.872, 0.852, 0.812; VE 1.079, 0.946, 0.806 (target 0.810).
     */
    @Test
    void pcCorrectorPullsTheSamplesTowardsTheTarget() {
        for (Sde sde : new Sde[] {Sde.VP, Sde.VE}) {
            double previous = Double.MAX_VALUE;
            for (int m : new int[] {0, 1, 5}) {
                try (Scope s = Scope.open()) {
                    Tensor out = Samplers.run(Samplers.create("pc", SamplerOptions.DEFAULTS.withSde(sde).withCorrectorSteps(m)), edm(), Tensor.randn(new Generator(3), N, 1), GridSpec.steps(20), new Generator(4));
                    double std = out.std(0, false).item();
                    assertTrue(std - SD < previous, sde + ": std " + std + " with " + m + " corrector steps");
                    previous = std - SD;
                    if (m == 5) {
                        assertEquals(SD * Math.sqrt(1 + 0.16 * 0.16), std, 0.02 * SD, sde + " at M = 5");
                    }
                }
            }
        }
    }

    /**
     * By default the SDE samplers step uniformly in the SDE's time and annealed Langevin on geometric
     * levels; an explicit σ schedule is honoured level by level (here Karras's for sde_euler and the
     * model's training grid for annealed_langevin).
     */
    @Test
    void defaultGridsAreTheSamplersOwnAndExplicitSchedulesAreHonoured() {
        GaussianDenoiser d = edm();
        try (Scope s = Scope.open()) {
            Samplers.run(Samplers.create("sde_euler", SamplerOptions.DEFAULTS.withSde(Sde.SUB_VP)), d, Tensor.randn(new Generator(1), 4, 1), GridSpec.steps(8), new Generator(2));
        }
        double[] ownGrid = SigmaSchedule.uniformIn(new Sde.Process(Sde.SUB_VP, SIGMA_MIN, SIGMA_MAX), 8, SIGMA_MIN, SIGMA_MAX);
        assertEquals(8, d.calls.size());
        Sde.Process sub = Sde.SUB_VP.over(d.sigmaMin(), d.sigmaMax());
        for (int i = 0; i < 8; i++) {
            assertEquals(ownGrid[i], d.calls.get(i), 1e-6 * ownGrid[i], "sub-VP level " + i);
        }
        assertEquals(sub.time(ownGrid[0]) - sub.time(ownGrid[1]), sub.time(ownGrid[6]) - sub.time(ownGrid[7]), 1e-9, "uniform in t");

        GaussianDenoiser karras = edm();
        try (Scope s = Scope.open()) {
            Samplers.run(Samplers.create("sde_euler", SamplerOptions.DEFAULTS), karras, Tensor.randn(new Generator(1), 4, 1), GridSpec.DEFAULT.withSteps(8).withSchedule(SigmaSchedule.KARRAS), new Generator(2));
        }
        double[] karrasGrid = SigmaSchedule.karras(8, SIGMA_MIN, SIGMA_MAX, SigmaSchedule.KARRAS_RHO);
        for (int i = 0; i < 8; i++) {
            assertEquals(karrasGrid[i], karras.calls.get(i), 1e-6 * karrasGrid[i], "karras level " + i);
        }

        NoiseSchedule linear = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
        GaussianDenoiser discrete = new GaussianDenoiser(MU, SD, linear);
        try (Scope s = Scope.open()) {
            Samplers.run(Samplers.create("annealed_langevin", SamplerOptions.DEFAULTS.withLevelSteps(2)), discrete, Tensor.randn(new Generator(1), 4, 1), GridSpec.DEFAULT.withSteps(4).withSchedule(SigmaSchedule.MODEL), new Generator(2));
        }
        double[] train = linear.sigmasForSampling();
        int[] ts = TimestepSpacing.TRAILING.timesteps(1000, 4);
        assertEquals(4 * 2 + 1, discrete.calls.size(), "L·T + 1 evaluations");
        for (int i = 0; i < 4; i++) {
            assertEquals(train[ts[i]], discrete.calls.get(2 * i), 1e-6 * train[ts[i]], "training level " + i);
        }
    }

    @Test
    void badOptionsAreRejectedWithAClearMessage() {
        DiffusionException sde = assertThrows(DiffusionException.class, () -> Sde.parse("vpx"));
        assertTrue(sde.getMessage().contains("vp, ve or subvp"), sde.getMessage());
        assertEquals(Sde.SUB_VP, Sde.parse("sub-VP"));
        DiffusionException predictor = assertThrows(DiffusionException.class, () -> PredictorCorrectorSampler.Predictor.parse("ancestral"));
        assertTrue(predictor.getMessage().contains("reverse_diffusion or euler_maruyama"), predictor.getMessage());
        assertEquals(PredictorCorrectorSampler.Predictor.EULER_MARUYAMA, PredictorCorrectorSampler.Predictor.parse("euler-maruyama"));
        DiffusionException snr = assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withSnr(0));
        assertTrue(snr.getMessage().contains("snr"), snr.getMessage());
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withSnr(Double.NaN));
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withCorrectorSteps(-1));
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withLangevinEpsilon(-1e-5));
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withLevelSteps(-1));
        assertThrows(DiffusionException.class, () -> SamplerOptions.DEFAULTS.withEta(1.5));
    }

    /** Mean and std of annealed Langevin's output on N(μ, s²) data, from the exact linear recursion. */
    private static double[] annealedLangevinMoments(int levels, int levelSteps) {
        double[] sigmas = SigmaSchedule.exponential(levels, SIGMA_MIN, SIGMA_MAX);
        double sigmaL = sigmas[levels - 1];
        double epsilon = 2e-5 * Math.pow(sigmaL / 0.01, 2);
        double offset = -MU;                                  // E[x − μ] at the start x = √(1+σ_max²)·n
        double variance = 1 + SIGMA_MAX * SIGMA_MAX;
        for (double sigma : sigmas) {
            double alpha = epsilon * sigma * sigma / (sigmaL * sigmaL);
            double c = alpha / (2 * (SD * SD + sigma * sigma));
            for (int k = 0; k < levelSteps; k++) {
                offset *= 1 - c;
                variance = (1 - c) * (1 - c) * variance + alpha;
            }
        }
        double shrink = SD * SD / (SD * SD + sigmaL * sigmaL);
        return new double[] {MU + shrink * offset, shrink * Math.sqrt(variance)};
    }
}
