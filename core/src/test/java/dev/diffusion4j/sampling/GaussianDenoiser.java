package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Tensor;

/**
 * The exact denoiser of isotropic Gaussian data x₀ ~ N(μ, s²I): D(x; σ) = μ + s²/(s²+σ²)·(x − μ).
 * Records the noise levels it is evaluated at.
 */
final class GaussianDenoiser implements Denoiser {
    final double mu;
    final double s;
    final double[] sigmas;
    final java.util.List<Double> calls = new java.util.ArrayList<>();

    GaussianDenoiser(double mu, double s, NoiseSchedule schedule) {
        this.mu = mu;
        this.s = s;
        this.sigmas = schedule.sigmasForSampling();
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        double sg = sigma.item();
        calls.add(sg);
        return x.sub(mu).mul(s * s / (s * s + sg * sg)).add(mu);
    }

    @Override
    public double[] trainingSigmas() {
        return sigmas.clone();
    }

    @Override
    public double sigmaMin() {
        return sigmas[0];
    }

    @Override
    public double sigmaMax() {
        return sigmas[sigmas.length - 1];
    }
}
