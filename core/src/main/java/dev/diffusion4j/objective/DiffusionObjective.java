package dev.diffusion4j.objective;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.NoisePredictor;
import dev.diffusion4j.process.GaussianDiffusion;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * The denoising training loss: draw t ~ U{0..T−1} and ε ~ N(0, I), form x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε,
 * and regress the network output on the target of its parameterisation,
 * L = mean_b w(t_b)·mean_i ρ(f(x_t, t)_{b,i} − target_{b,i}) (Ho et al. 2020, Algorithm 1), with
 * ρ a {@link LossType} and w a {@link Weighting} such as Min-SNR-γ (Hang et al. 2023).
 *
 * <p>A network that {@link NoisePredictor#learnsVariance() learns its variance} is trained on the
 * hybrid loss of Nichol &amp; Dhariwal 2021 (sec. 3.1), L_simple + λ·L_vlb with λ = 0.001, where
 * L_vlb = Σ_t L_t is estimated as T·L_t at the drawn t: L_t is the KL of eq. 5 between q(x_{t−1}|x_t, x₀)
 * and p(x_{t−1}|x_t) = N(μ_θ, Σ_θ), or at t = 0 the Gaussian decoder's −log p(x₀|x₁), in bits per
 * dimension as in their code. The mean μ_θ enters L_vlb with its gradient stopped, so the variance
 * values learn from L_vlb alone and the prediction from L_simple alone.
 */
public final class DiffusionObjective {
    /** λ, the weight of L_vlb in the hybrid loss (Nichol &amp; Dhariwal 2021, sec. 3.1). */
    public static final double HYBRID_VLB_WEIGHT = 0.001;

    /** Default Huber threshold δ. */
    public static final double DEFAULT_HUBER_DELTA = 1.0;

    private final NoiseSchedule schedule;
    private final GaussianDiffusion diffusion;
    private final Prediction prediction;
    private final LossType lossType;
    private final double huberDelta;
    private final Weighting weighting;
    private final double snrGamma;
    private final double[] weights;

    /** An objective with Huber δ = 1 and Min-SNR γ = 5 (each used only where it applies). */
    public DiffusionObjective(NoiseSchedule schedule, Prediction prediction, LossType lossType, Weighting weighting) {
        this(schedule, prediction, lossType, DEFAULT_HUBER_DELTA, weighting, Weighting.DEFAULT_GAMMA);
    }

    public DiffusionObjective(NoiseSchedule schedule, Prediction prediction, LossType lossType, double huberDelta,
            Weighting weighting, double snrGamma) {
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        this.prediction = Objects.requireNonNull(prediction, "prediction");
        this.lossType = Objects.requireNonNull(lossType, "lossType");
        this.weighting = Objects.requireNonNull(weighting, "weighting");
        if (!(huberDelta > 0.0) || Double.isInfinite(huberDelta)) {
            throw new DiffusionException("Huber delta must be a positive number, got " + huberDelta);
        }
        if (!(snrGamma > 0.0) || Double.isInfinite(snrGamma)) {
            throw new DiffusionException("Min-SNR gamma must be a positive number, got " + snrGamma);
        }
        this.huberDelta = huberDelta;
        this.snrGamma = snrGamma;
        this.diffusion = new GaussianDiffusion(schedule);
        double[] snr = schedule.snr();
        this.weights = new double[snr.length];
        for (int t = 0; t < snr.length; t++) {
            weights[t] = weighting.weight(snr[t], prediction, snrGamma);
        }
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    public Prediction prediction() {
        return prediction;
    }

    public LossType lossType() {
        return lossType;
    }

    public double huberDelta() {
        return huberDelta;
    }

    public Weighting weighting() {
        return weighting;
    }

    public double snrGamma() {
        return snrGamma;
    }

    /** The weight w(t) of every timestep (a copy). */
    public double[] weightTable() {
        return weights.clone();
    }

    /** w(t) gathered for int64 timestep indices, as float32. */
    public Tensor weights(Tensor tIndex) {
        return NoiseSchedule.gather(weights, tIndex, DType.FLOAT32);
    }

    /**
     * The scalar training loss on a batch {@code x0} [B, ...]. Draws, in this order, t ~ U{0..T−1}
     * as int64 [B] and ε ~ N(0, I) shaped like x0 (float32, cast to x0's dtype) from {@code g}.
     * Gradients flow to the network's parameters.
     */
    public Tensor loss(NoisePredictor network, Tensor x0, Generator g) {
        return loss(network, x0, null, g);
    }

    /**
     * The loss of a class-conditional network on a batch with int64 labels [B] (null: unconditional);
     * draws t and ε from {@code g} as {@link #loss(NoisePredictor, Tensor, Generator)} does.
     */
    public Tensor loss(NoisePredictor network, Tensor x0, Tensor labels, Generator g) {
        long batch = batchSize(x0);
        Tensor t = Tensor.randint(g, schedule.numTimesteps(), new long[] {batch});
        Tensor noise = Tensor.randn(g, x0.shape());
        if (noise.dtype() != x0.dtype()) {
            noise = noise.to(x0.dtype());
        }
        return loss(network, x0, labels, t, noise);
    }

    /** The scalar training loss for given timesteps (int64 [B]) and noise (shaped like x0). */
    public Tensor loss(NoisePredictor network, Tensor x0, Tensor tIndex, Tensor noise) {
        return loss(network, x0, null, tIndex, noise);
    }

    /** The scalar training loss for given labels (int64 [B] or null), timesteps (int64 [B]) and noise (shaped like x0). */
    public Tensor loss(NoisePredictor network, Tensor x0, Tensor labels, Tensor tIndex, Tensor noise) {
        long batch = batchSize(x0);
        if (tIndex.dim() != 1 || tIndex.numel() != batch) {
            throw new DiffusionException("expected one timestep per sample (shape [" + batch + "]), got shape "
                    + Arrays.toString(tIndex.shape()));
        }
        Tensor xt = diffusion.qSample(x0, tIndex, noise);
        NoisePredictor.Output out = network.predictWithVariance(xt, tIndex.to(DType.FLOAT32), labels);
        Tensor output = out.prediction();
        if (!Arrays.equals(output.shape(), x0.shape())) {
            throw new DiffusionException("network output of shape " + Arrays.toString(output.shape()) + " does not match the data shape "
                    + Arrays.toString(x0.shape()) + ": the network must return a tensor shaped like x_t");
        }
        // Compute the loss in float32 (float64 if the network works in it), even under bf16 autocast.
        DType work = output.dtype() == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32;
        Tensor target = prediction.target(x0, noise, schedule.alphaBar(tIndex, DType.FLOAT64));
        Tensor residual = cast(output, work).sub(cast(target, work));
        Tensor perElement = lossType.elementwise(residual, huberDelta);
        Tensor perSample = perElement.dim() == 1 ? perElement : perElement.flatten(1, -1).mean(1, false);
        if (weighting != Weighting.NONE) {
            perSample = perSample.mul(NoiseSchedule.gather(weights, tIndex, work));
        }
        Tensor simple = perSample.mean();
        if (out.varianceValues() == null) {
            return simple;
        }
        if (!Arrays.equals(out.varianceValues().shape(), x0.shape())) {
            throw new DiffusionException("network variance output of shape " + Arrays.toString(out.varianceValues().shape())
                    + " does not match the data shape " + Arrays.toString(x0.shape()));
        }
        Tensor xtWork = cast(xt, work);
        Tensor x0Hat = prediction.toX0(cast(output, work).detach(), xtWork, schedule.alphaBar(tIndex, DType.FLOAT64));
        Tensor vlb = vlbTerm(cast(x0, work), x0Hat, cast(out.varianceValues(), work), tIndex);
        return simple.add(vlb.mean().mul(HYBRID_VLB_WEIGHT * schedule.numTimesteps()));
    }

    /**
     * L_t per sample in bits per dimension (the mean over coordinates), for a learned variance: with
     * log Σ = u·log β_t + (1 − u)·log β̃_t, u = (v + 1)/2, and μ̃ − μ_θ = c_t·(x₀ − x̂₀), c_t the x₀
     * coefficient of the posterior mean,
     * <pre>
     * t ≥ 1:  ½ [log Σ − log β̃_t + β̃_t/Σ − 1 + c_t²(x₀ − x̂₀)²/Σ]        KL(q(x_{t−1}|x_t, x₀) ‖ p(x_{t−1}|x_t))
     * t = 0:  ½ [log 2π + log Σ + (x₀ − x̂₀)²/Σ]                          −log p(x₀|x₁), a Gaussian density
     * </pre>
     * (timesteps counted from 0 as in training; the paper's L_{t−1} and L₀). Gradients flow into
     * {@code x0Hat} and {@code varianceValues} as given: pass a detached x̂₀ for the hybrid loss.
     */
    public Tensor vlbTerm(Tensor x0, Tensor x0Hat, Tensor varianceValues, Tensor tIndex) {
        Tensor logVar = diffusion.learnedLogVariance(varianceValues.add(1.0).mul(0.5), tIndex);
        Tensor logBetaTilde = perSample(diffusion.posteriorLogVarianceClipped(), tIndex, x0, logVar.dtype());
        Tensor c = perSample(diffusion.posteriorMeanCoefX0(), tIndex, x0, logVar.dtype());
        Tensor invVar = logVar.neg().exp();
        Tensor err2 = x0.sub(x0Hat).mul(c).square().mul(invVar);
        Tensor kl = logVar.sub(logBetaTilde).add(logBetaTilde.sub(logVar).exp()).sub(1.0).add(err2).mul(0.5);
        Tensor nll = logVar.add(Math.log(2 * Math.PI)).add(err2).mul(0.5);
        Tensor first = tIndex.lt(1).broadcastTo(x0);
        Tensor term = Tensor.where(first, nll, kl);
        Tensor perSample = term.dim() == 1 ? term : term.flatten(1, -1).mean(1, false);
        return perSample.div(Math.log(2));
    }

    /** table[t] per sample, shaped [B, 1, ..., 1] to broadcast against {@code like}. */
    private static Tensor perSample(double[] table, Tensor tIndex, Tensor like, DType dtype) {
        return NoiseSchedule.gather(table, tIndex, dtype).broadcastTo(like);
    }

    private static Tensor cast(Tensor x, DType d) {
        return x.dtype() == d ? x : x.to(d);
    }

    private static long batchSize(Tensor x0) {
        if (x0.dim() == 0 || x0.size(0) == 0) {
            throw new DiffusionException("training batch must have shape [B, ...] with B ≥ 1, got " + Arrays.toString(x0.shape()));
        }
        return x0.size(0);
    }

    @Override
    public String toString() {
        return "DiffusionObjective[" + prediction.configName() + ", " + lossType.configName()
                + (lossType == LossType.HUBER ? " delta=" + huberDelta : "") + ", " + weighting.configName()
                + (weighting == Weighting.MIN_SNR ? " gamma=" + snrGamma : "") + ", " + schedule + "]";
    }
}
