package dev.diffusion4j.process;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class GaussianDiffusionTest {

    private static double[] cumprod(double[] betas) {
        double[] out = new double[betas.length];
        double p = 1;
        for (int i = 0; i < betas.length; i++) {
            p *= 1 - betas[i];
            out[i] = p;
        }
        return out;
    }

    @Test
    void qSampleIsTheClosedFormMixture() {
        NoiseSchedule s = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
        GaussianDiffusion q = new GaussianDiffusion(s);
        double[] ab = cumprod(s.betas());
        long[] ts = {0, 10, 500, 999};
        try (Scope sc = Scope.open()) {
            Generator g = new Generator(3);
            Tensor x0 = Tensor.randn(g, 4, 2, 3).to(DType.FLOAT64);
            Tensor eps = Tensor.randn(g, 4, 2, 3).to(DType.FLOAT64);
            double[] xt = q.qSample(x0, Tensor.of(ts, 4), eps).toDoubleArray();
            double[] x = x0.toDoubleArray();
            double[] e = eps.toDoubleArray();
            for (int i = 0; i < xt.length; i++) {
                double a = ab[(int) ts[i / 6]];
                assertEquals(Math.sqrt(a) * x[i] + Math.sqrt(1 - a) * e[i], xt[i], 1e-12);
            }
            Tensor xt32 = q.qSample(x0.to(DType.FLOAT32), Tensor.of(ts, 4), eps.to(DType.FLOAT32));
            assertEquals(DType.FLOAT32, xt32.dtype());
            assertArrayEquals(xt, xt32.toDoubleArray(), 1e-5);
            assertThrows(DiffusionException.class, () -> q.qSample(x0, Tensor.of(new long[] {1, 2}, 2), eps));
            assertThrows(DiffusionException.class, () -> q.qSample(x0, Tensor.of(ts, 4), eps.narrow(1, 0, 1)));
        }
    }

    @Test
    void qSampleHasTheMarginalMeanAndVariance() {
        NoiseSchedule s = NoiseSchedule.of(BetaSchedule.COSINE, 1000);
        GaussianDiffusion q = new GaussianDiffusion(s);
        int n = 200_000;
        long[] ts = {50, 600};
        double c = 1.5;
        try (Scope sc = Scope.open()) {
            Generator g = new Generator(11);
            Tensor x0 = Tensor.full(c, 2, n);
            Tensor xt = q.qSample(x0, Tensor.of(ts, 2), x0.randnLike(g)).to(DType.FLOAT64);
            double[] mean = xt.mean(1, false).toDoubleArray();
            double[] var = xt.var(1, false).toDoubleArray();
            for (int i = 0; i < 2; i++) {
                double a = s.alphaBar((int) ts[i]);
                double v = 1 - a;
                // five standard errors: sd/√n for the mean, v·√(2/(n−1)) for the variance of a Gaussian
                assertEquals(Math.sqrt(a) * c, mean[i], 5 * Math.sqrt(v / n), "mean at t=" + ts[i]);
                assertEquals(v, var[i], 5 * v * Math.sqrt(2.0 / (n - 1)), "variance at t=" + ts[i]);
            }
        }
    }

    @Test
    void posteriorIsTheGaussianConditioningOfTheForwardSteps() {
        for (NoiseSchedule s : new NoiseSchedule[] {NoiseSchedule.of(BetaSchedule.LINEAR, 1000),
                new NoiseSchedule(BetaSchedule.SCALED_LINEAR, 1000, 0.00085, 0.012, true), NoiseSchedule.of(BetaSchedule.COSINE, 20)}) {
            GaussianDiffusion q = new GaussianDiffusion(s);
            int T = s.numTimesteps();
            double[] beta = s.betas();
            double[] ab = cumprod(beta);
            double[] var = q.posteriorVariance();
            double[] cx0 = q.posteriorMeanCoefX0();
            double[] cxt = q.posteriorMeanCoefXt();
            double[] logv = q.posteriorLogVarianceClipped();
            // t = 0: x_{−1} is x₀ itself, so the posterior is a point mass at x₀
            assertEquals(0.0, var[0], 0.0);
            assertEquals(1.0, cx0[0], 1e-12);
            assertEquals(0.0, cxt[0], 0.0);
            for (int t = 1; t < T; t++) {
                // prior x_{t−1} | x₀ ~ N(√ᾱ_{t−1}·x₀, 1−ᾱ_{t−1}); likelihood x_t | x_{t−1} ~ N(√α_t·x_{t−1}, β_t)
                double priorVar = 1 - ab[t - 1];
                double alpha = 1 - beta[t];
                double precision = 1 / priorVar + alpha / beta[t];
                double postVar = 1 / precision;
                double wX0 = postVar * Math.sqrt(ab[t - 1]) / priorVar;
                double wXt = postVar * Math.sqrt(alpha) / beta[t];
                assertEquals(postVar, var[t], 1e-9 * postVar, "variance at " + t);
                assertEquals(wX0, cx0[t], 1e-9 * Math.abs(wX0) + 1e-15, "x0 coefficient at " + t);
                assertEquals(wXt, cxt[t], 1e-9 * Math.abs(wXt), "xt coefficient at " + t);
                assertEquals(Math.log(postVar), logv[t], 1e-9, "log variance at " + t);
            }
            assertEquals(logv[1], logv[0], 0.0, "clipped log variance repeats t=1 at t=0");

            long[] ts = {0, 1, T / 2, T - 1};
            try (Scope sc = Scope.open()) {
                Generator g = new Generator(5);
                Tensor x0 = Tensor.randn(g, 4, 3).to(DType.FLOAT64);
                Tensor xt = Tensor.randn(g, 4, 3).to(DType.FLOAT64);
                double[] mu = q.posteriorMean(x0, xt, Tensor.of(ts, 4)).toDoubleArray();
                double[] a = x0.toDoubleArray();
                double[] b = xt.toDoubleArray();
                for (int i = 0; i < 12; i++) {
                    int t = (int) ts[i / 3];
                    double expect;
                    if (t == 0) {
                        expect = a[i];
                    } else {
                        double priorVar = 1 - ab[t - 1];
                        double alpha = 1 - beta[t];
                        double postVar = 1 / (1 / priorVar + alpha / beta[t]);
                        expect = postVar * (Math.sqrt(ab[t - 1]) * a[i] / priorVar + Math.sqrt(alpha) * b[i] / beta[t]);
                    }
                    assertEquals(expect, mu[i], 1e-9, "posterior mean at t=" + t);
                }
                Tensor v = q.posteriorVariance(Tensor.of(ts, 4));
                assertEquals(DType.FLOAT32, v.dtype());
                double[] vv = v.toDoubleArray();
                double[] lv = q.posteriorLogVarianceClipped(Tensor.of(ts, 4)).toDoubleArray();
                for (int i = 0; i < 4; i++) {
                    assertEquals(var[(int) ts[i]], vv[i], 1e-7 * var[(int) ts[i]]);
                    assertEquals(logv[(int) ts[i]], lv[i], 1e-5);
                }
            }
        }
    }
}
