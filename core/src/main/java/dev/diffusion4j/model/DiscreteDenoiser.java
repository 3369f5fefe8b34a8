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
 * then pass the null condition. {@link #withTimesteps} pins the timestep fed at given levels, for
 * schedulers that feed the network another t than the level's own (a rounded one, say).
 */
public final class DiscreteDenoiser implements ConditionalDenoiser {
    private final NoisePredictor network;
    private final NoiseSchedule schedule;
    private final Prediction prediction;
    private final double[] sigmas;
    /** Levels whose timestep is pinned, and those timesteps; empty when t(σ) is always interpolated. */
    private final double[] pinnedSigmas;
    private final double[] pinnedTimesteps;

    public DiscreteDenoiser(NoisePredictor network, NoiseSchedule schedule, Prediction prediction) {
        this(network, schedule, prediction, new double[0], new double[0]);
    }

    private DiscreteDenoiser(NoisePredictor network, NoiseSchedule schedule, Prediction prediction, double[] pinnedSigmas,
                             double[] pinnedTimesteps) {
        this.network = network;
        this.schedule = schedule;
        this.prediction = prediction;
        this.sigmas = schedule.sigmasForSampling();
        if (pinnedSigmas.length != pinnedTimesteps.length) {
            throw new IllegalArgumentException("one timestep per pinned level: " + pinnedSigmas.length + " levels, "
                    + pinnedTimesteps.length + " timesteps");
        }
        this.pinnedSigmas = pinnedSigmas.clone();
        this.pinnedTimesteps = pinnedTimesteps.clone();
    }

    /**
     * This denoiser feeding the network timestep {@code timesteps[i]} at level {@code levels[i]} (within
     * float32 rounding of it) and t(σ) anywhere else: diffusers' DPM-Solver with Karras levels, for one,
     * runs the U-Net at round(t(σ)).
     */
    public DiscreteDenoiser withTimesteps(double[] levels, double[] timesteps) {
        return new DiscreteDenoiser(network, schedule, prediction, levels, timesteps);
    }

    /** The network's timestep for each noise level of {@code sigma} [B] (or [1]). */
    private Tensor timestep(Tensor sigma) {
        Tensor t = schedule.sigmaToT(sigma);
        if (pinnedSigmas.length == 0) {
            return t;
        }
        double[] s = sigma.toDoubleArray();
        double[] out = t.toDoubleArray();
        boolean pinned = false;
        for (int i = 0; i < s.length; i++) {
            for (int k = 0; k < pinnedSigmas.length; k++) {
                if (Math.abs(s[i] - pinnedSigmas[k]) <= 1e-6 * pinnedSigmas[k]) {
                    out[i] = pinnedTimesteps[k];
                    pinned = true;
                }
            }
        }
        return pinned ? Tensor.of(out, t.shape()).to(t.dtype()) : t;
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
        Tensor t = timestep(sigma);
        Tensor out = labels == null ? network.predict(xt, t) : network.predictWithVariance(xt, t, labels).prediction();
        return prediction.toX0(out, xt, alphaBar);
    }

    @Override
    public Optional<LearnedVariance> learnedVariance() {
        return network.learnsVariance() ? Optional.of(this::estimate) : Optional.empty();
    }

    private LearnedVariance.Estimate estimate(Tensor x, Tensor sigma) {
        Tensor alphaBar = sigma.square().add(1.0).reciprocal();
        Tensor xt = x.mul(alphaBar.sqrt().broadcastTo(x));
        NoisePredictor.Output out = network.predictWithVariance(xt, timestep(sigma));
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
