package dev.diffusion4j.model;

import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Tensor;
import java.util.Optional;

/**
 * Wraps a network trained on the discrete VP process of a {@link NoiseSchedule} as a
 * {@link Denoiser}: x enters the network as the VP sample x/√(1+σ²) at the fractional timestep
 * t(σ) (log-σ interpolation of the training grid), and its output is converted from its
 * {@link Prediction} parameterisation to x̂₀. A network that {@link NoisePredictor#learnsVariance()
 * learns its variance} makes this a {@link LearnedVariance} too, with u = (v + 1)/2 from the same
 * evaluation. A conditional network makes it a {@link ConditionalDenoiser}; unconditional calls
 * then pass the null condition.
 */
public final class DiscreteDenoiser implements ConditionalDenoiser {
    private final NoisePredictor network;
    private final NoiseSchedule schedule;
    private final Prediction prediction;
    private final double[] sigmas;

    public DiscreteDenoiser(NoisePredictor network, NoiseSchedule schedule, Prediction prediction) {
        this.network = network;
        this.schedule = schedule;
        this.prediction = prediction;
        this.sigmas = schedule.sigmasForSampling();
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    public Prediction prediction() {
        return prediction;
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        return denoise(x, sigma, null);
    }

    @Override
    public int numClasses() {
        return network.numClasses();
    }

    @Override
    public int contextLength() {
        return network.contextLength();
    }

    @Override
    public Tensor nullCondition(long batch) {
        return network.nullCondition(batch);
    }

    /** D(x; σ, c); a null condition means unconditional. */
    @Override
    public Tensor denoise(Tensor x, Tensor sigma, Tensor labels) {
        Tensor alphaBar = sigma.square().add(1.0).reciprocal();   // ᾱ = 1/(1+σ²)
        Tensor xt = x.mul(alphaBar.sqrt().broadcastTo(x));
        Tensor out = labels == null ? network.predict(xt, schedule.sigmaToT(sigma))
                : network.predictWithVariance(xt, schedule.sigmaToT(sigma), labels).prediction();
        return prediction.toX0(out, xt, alphaBar);
    }

    @Override
    public Optional<LearnedVariance> learnedVariance() {
        return network.learnsVariance() ? Optional.of(this::estimate) : Optional.empty();
    }

    private LearnedVariance.Estimate estimate(Tensor x, Tensor sigma) {
        Tensor alphaBar = sigma.square().add(1.0).reciprocal();
        Tensor xt = x.mul(alphaBar.sqrt().broadcastTo(x));
        NoisePredictor.Output out = network.predictWithVariance(xt, schedule.sigmaToT(sigma));
        return new LearnedVariance.Estimate(prediction.toX0(out.prediction(), xt, alphaBar), LearnedVariance.fraction(out.varianceValues()));
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
