package dev.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.oracle.MixtureDenoiser;
import dev.diffusion4j.oracle.Oracles;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class LikelihoodTest {
    /** Exact denoiser of x₀ ~ N(μ, diag(s²)) over a continuous σ range: D = μ + s²/(s²+σ²)·(x − μ). */
    record DiagonalGaussian(double[] mu, double[] s, double sigmaMin, double sigmaMax) implements Denoiser {
        @Override
        public Tensor denoise(Tensor x, Tensor sigma) {
            double sg = sigma.item();
            double[] gain = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                gain[i] = s[i] * s[i] / (s[i] * s[i] + sg * sg);
            }
            Tensor m = Tensor.of(mu, 1, mu.length).to(x.dtype());
            return x.sub(m).mul(Tensor.of(gain, 1, s.length).to(x.dtype())).add(m);
        }

        /** log N(x; μ, diag(s² + σ²)) per row. */
        double[] logDensity(double[][] x, double sigma) {
            double[] out = new double[x.length];
            for (int b = 0; b < x.length; b++) {
                for (int i = 0; i < mu.length; i++) {
                    double v = s[i] * s[i] + sigma * sigma;
                    out[b] += -0.5 * (x[b][i] - mu[i]) * (x[b][i] - mu[i]) / v - 0.5 * Math.log(2 * Math.PI * v);
                }
            }
            return out;
        }

        @Override
        public double[] trainingSigmas() {
            return new double[0];
        }

        @Override
        public double initNoiseScale() {
            return sigmaMax;
        }
    }

    private static final DiagonalGaussian DATA = new DiagonalGaussian(new double[] {1.0, -2.0}, new double[] {0.5, 2.0}, 0.01, 200);

    private static double[][] points(int n, long seed) {
        double[][] x = new double[n][2];
        java.util.Random r = new java.util.Random(seed);
        for (double[] row : x) {
            row[0] = DATA.mu[0] + DATA.s[0] * 1.5 * r.nextGaussian();
            row[1] = DATA.mu[1] + DATA.s[1] * 1.5 * r.nextGaussian();
        }
        return x;
    }

    private static Tensor tensor(double[][] x) {
        double[] flat = new double[x.length * 2];
        for (int b = 0; b < x.length; b++) {
            flat[2 * b] = x[b][0];
            flat[2 * b + 1] = x[b][1];
        }
        return Tensor.of(flat, x.length, 2);
    }

    @Test
    void exactTraceRecoversTheTrueLogDensityPerPoint() {
        double[][] x = points(64, 1);
        double[] truth = DATA.logDensity(x, DATA.sigmaMin());
        try (Scope s = Scope.open()) {
            Likelihood.Result r = new Likelihood(Likelihood.Trace.EXACT, 1e-7, 1e-7).evaluate(DATA, tensor(x), new Generator(0));
            double[] got = r.logLikelihood().toDoubleArray();
            double worst = 0;
            double meanTrue = 0;
            for (int b = 0; b < x.length; b++) {
                worst = Math.max(worst, Math.abs(got[b] - truth[b]) / Math.abs(truth[b]));
                meanTrue -= truth[b] / x.length;
            }
            assertTrue(worst < 0.01, "worst relative error " + worst);
            assertEquals(meanTrue, r.meanNll(), 0.01 * meanTrue);
            assertEquals(r.meanNll() / (2 * Math.log(2)), r.bitsPerDim(), 1e-12);
            // a wrong sign on the divergence integral would be off by 2·∫ div g ds ≈ 2·d·log(σmax/σmin): tens of nats
            assertTrue(r.evaluations() > 20 && r.evaluations() < 5000, "evaluations " + r.evaluations());
        }
    }

    @Test
    void hutchinsonIsUnbiasedWithinItsStandardError() {
        double[][] x = points(1, 2);
        double[][] many = new double[2000][];
        java.util.Arrays.fill(many, x[0]);
        double truth = DATA.logDensity(x, DATA.sigmaMin())[0];
        try (Scope s = Scope.open()) {
            Likelihood.Result r = new Likelihood(Likelihood.Trace.HUTCHINSON_GAUSSIAN, 1e-5, 1e-5).evaluate(DATA, tensor(many), new Generator(3));
            assertTrue(r.standardError() > 0.01, "Gaussian probes have variance: standard error " + r.standardError());
            assertEquals(-truth, r.meanNll(), 3 * r.standardError() + 1e-3, "within 3 standard errors");
            // Rademacher probes give vᵀJv = Σ J_ii v_i² = tr J exactly when J is diagonal, as here.
            Likelihood.Result rad = new Likelihood(Likelihood.Trace.HUTCHINSON_RADEMACHER, 1e-5, 1e-5).evaluate(DATA, tensor(many), new Generator(3));
            assertEquals(0, rad.standardError(), 1e-4);
            assertEquals(-truth, rad.meanNll(), 0.01 * Math.abs(truth));
        }
    }

    @Test
    void likelihoodIsDeterministicForASeedAndRejectsBadShapes() {
        try (Scope s = Scope.open()) {
            Tensor x = tensor(points(8, 4));
            Likelihood l = new Likelihood(Likelihood.Trace.HUTCHINSON_RADEMACHER, 1e-5, 1e-5);
            assertTrue(l.evaluate(DATA, x, new Generator(9)).logLikelihood().equal(l.evaluate(DATA, x, new Generator(9)).logLikelihood()));
            assertThrows(dev.diffusion4j.DiffusionException.class, () -> l.evaluate(DATA, Tensor.zeros(DType.FLOAT64, 8), new Generator(0)));
        }
    }

    /**
     * The analytic oracle of a non-Gaussian distribution: the 8gaussians mixture over EDM's σ range.
     * The PF-ODE likelihood with the exact trace matches the mixture's own log-density (at σ_min, the
     * level the ODE starts from) within 1% per point; Hutchinson's Rademacher estimate — not exact
     * here, since the mixture's Jacobian is not diagonal — matches the mean within three standard
     * errors of the paired difference.
     */
    @Test
    void likelihoodOfTheMixtureOracleMatchesItsDensity() {
        MixtureDenoiser mix = Oracles.open("8gaussians");
        try (Scope s = Scope.open()) {
            Tensor x = mix.sample(new Generator(5), 64).to(DType.FLOAT64);
            Tensor truth = mix.logDensity(x, mix.sigmaMin());
            Likelihood.Result exact = new Likelihood(Likelihood.Trace.EXACT, 1e-6, 1e-6).evaluate(mix, x, new Generator(0));
            double worst = exact.logLikelihood().sub(truth).div(truth.abs()).abs().amax().item();
            assertTrue(worst < 0.01, "worst relative error " + worst);
            Likelihood.Result hutchinson = new Likelihood(Likelihood.Trace.HUTCHINSON_RADEMACHER, 1e-6, 1e-6).evaluate(mix, x, new Generator(1));
            Tensor gap = hutchinson.logLikelihood().sub(truth);
            double se = gap.std(0, false).item() / Math.sqrt(64);
            assertTrue(se > 1e-3, "off-diagonal Jacobian terms make the estimate noisy: standard error " + se);
            assertEquals(0, gap.mean().item(), 3 * se, "Hutchinson within three standard errors");
        }
    }
}
