package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Tensor;

/**
 * The exact denoiser of isotropic Gaussian data x₀ ~ N(μ, s²I): D(x; σ) = μ + s²/(s²+σ²)·(x − μ).
 * Either discrete (the training levels of a {@link NoiseSchedule}) or continuous on [σ_min, σ_max].
 * Records the noise levels it is evaluated at.
 */
final class GaussianDenoiser implements Denoiser {
    final double mu;
    final double s;
    final double[] sigmas;
    final double sigmaMin;
    final double sigmaMax;
    final java.util.List<Double> calls = new java.util.ArrayList<>();

    GaussianDenoiser(double mu, double s, NoiseSchedule schedule) {
        this.mu = mu;
        this.s = s;
        this.sigmas = schedule.sigmasForSampling();
        this.sigmaMin = sigmas[0];
        this.sigmaMax = sigmas[sigmas.length - 1];
    }

    /** A continuous-time model on [sigmaMin, sigmaMax]. */
    GaussianDenoiser(double mu, double s, double sigmaMin, double sigmaMax) {
        this.mu = mu;
        this.s = s;
        this.sigmas = new double[0];
        this.sigmaMin = sigmaMin;
        this.sigmaMax = sigmaMax;
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        double sg = sigma.item();
        calls.add(sg);
        return x.sub(mu).mul(s * s / (s * s + sg * sg)).add(mu);
    }

    /** The exact probability-flow ODE solution: x(σ₁) − μ = (x(σ₀) − μ)·√((s²+σ₁²)/(s²+σ₀²)). */
    Tensor flow(Tensor x, double sigma0, double sigma1) {
        return x.sub(mu).mul(Math.sqrt((s * s + sigma1 * sigma1) / (s * s + sigma0 * sigma0))).add(mu);
    }

    @Override
    public double[] trainingSigmas() {
        return sigmas.clone();
    }

    @Override
    public double sigmaMin() {
        return sigmaMin;
    }

    @Override
    public double sigmaMax() {
        return sigmaMax;
    }
}
