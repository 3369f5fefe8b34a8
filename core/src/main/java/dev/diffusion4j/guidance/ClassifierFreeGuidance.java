package dev.diffusion4j.guidance;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.model.ConditionalDenoiser;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.ForwardingDenoiser;
import dev.diffusion4j.model.LearnedVariance;
import dev.diffusion4j.tensor.Tensor;
import java.util.List;

/**
 * Classifier-free guidance (Ho &amp; Salimans 2022) as a denoiser, so that every sampler gets it:
 * <pre>
 * D̂(x; σ) = D(x; σ, ∅) + w·(D(x; σ, y) − D(x; σ, ∅))      y a class or a prompt
 * </pre>
 * w = 0 is the unconditional model, w = 1 the conditional one, w &gt; 1 pushes past it. The paper
 * writes ε̃ = (1 + w′)·ε(y) − w′·ε(∅), the same mix with w = 1 + w′; it is the same in x̂₀, ε or v,
 * which are affine in each other at fixed x and σ. Both evaluations run as one batch of 2B.
 *
 * <ul>
 * <li>Negative conditioning: a negative class or prompt replaces ∅, steering away from it.</li>
 * <li>Guidance interval (Kynkäänniemi et al. 2024): outside [σ_low, σ_high] only the conditional
 *     model runs, at the cost of one evaluation.</li>
 * <li>CFG rescale (Lin et al. 2024, sec. 3.4): per sample, x̂_r = x̂·std(D(y))/std(x̂), then
 *     φ·x̂_r + (1 − φ)·x̂, which undoes the inflated scale that large w gives x̂₀.</li>
 * </ul>
 * A model with a learned variance keeps its unconditional variance; the mean is guided.
 */
public final class ClassifierFreeGuidance extends ForwardingDenoiser {
    private final ConditionalDenoiser model;
    private final Options options;

    /**
     * @param condition the class or prompt y to generate
     * @param negative  a class or prompt to steer away from, or null for the null condition ∅
     * @param scale     guidance weight w ≥ 0
     * @param sigmaLow  guidance applies at σ ≥ sigmaLow …
     * @param sigmaHigh … and σ ≤ sigmaHigh
     * @param rescale   φ in [0, 1]; 0 is plain guidance
     */
    public record Options(Condition condition, Condition negative, double scale, double sigmaLow, double sigmaHigh, double rescale) {
        public Options {
            if (condition == null) {
                throw new DiffusionException("guidance needs a class or a prompt to steer towards");
            }
            if (!(scale >= 0) || Double.isInfinite(scale)) {
                throw new DiffusionException("guidance scale must be a number ≥ 0, got " + scale);
            }
            if (!(sigmaLow >= 0) || !(sigmaHigh >= sigmaLow)) {
                throw new DiffusionException("guidance interval needs 0 ≤ sigma_low ≤ sigma_high, got [" + sigmaLow + ", " + sigmaHigh + "]");
            }
            if (!(rescale >= 0 && rescale <= 1)) {
                throw new DiffusionException("CFG rescale phi must be in [0, 1], got " + rescale);
            }
        }

        /** Guidance of weight {@code scale} towards class {@code label} at every noise level, no negative, no rescale. */
        public static Options of(int label, double scale) {
            return of(Condition.ofClass(label), scale);
        }

        /** Guidance of weight {@code scale} towards {@code condition} at every noise level, no negative, no rescale. */
        public static Options of(Condition condition, double scale) {
            return new Options(condition, null, scale, 0, Double.POSITIVE_INFINITY, 0);
        }
    }

    public ClassifierFreeGuidance(Denoiser model, Options options) {
        super(model);
        if (!(model instanceof ConditionalDenoiser c) || (c.numClasses() == 0 && c.contextLength() == 0)) {
            throw new DiffusionException("guidance needs a conditional model; this one was trained without labels or captions "
                    + "(train on labelled data with class conditioning, or on captions)");
        }
        this.model = c;
        this.options = options;
        requireFits(options.condition(), "");
        if (options.negative() != null) {
            requireFits(options.negative(), "negative ");
        }
    }

    private void requireFits(Condition c, String what) {
        if (model.contextLength() > 0) {
            if (c.encoded()) {
                return;   // the model's own text encoder made it; its shape is checked where the network reads it
            }
            if (!c.prompt() || c.ids().length != model.contextLength()) {
                throw new DiffusionException("this model is conditioned on text: give a " + what + "prompt (of "
                        + model.contextLength() + " token ids), not a " + what + c);
            }
        } else if (c.prompt()) {
            throw new DiffusionException("this model is conditioned on classes, not text: give a " + what + "class instead of a prompt");
        } else if (c.label() < 0 || c.label() >= model.numClasses()) {
            throw new DiffusionException("unknown " + what + "class " + c.label() + ": the model knows classes 0 to "
                    + (model.numClasses() - 1));
        }
    }

    public Options options() {
        return options;
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        long b = x.size(0);
        Tensor cond = options.condition().batch(b);
        if (sigma.numel() == 1 && !guided(sigma.item())) {
            return model.denoise(x, sigma, cond);
        }
        Tensor both = model.denoise(Tensor.cat(List.of(x, x), 0), sigma.numel() == 1 ? sigma : Tensor.cat(List.of(sigma, sigma), 0),
                Tensor.cat(List.of(cond, options.negative() == null ? model.nullCondition(b) : options.negative().batch(b)), 0));
        Tensor conditional = both.narrow(0, 0, b);
        Tensor unconditional = both.narrow(0, b, b);
        Tensor step = conditional.sub(unconditional);
        Tensor guided = unconditional.add(sigma.numel() == 1 ? step.mul(options.scale()) : step.mul(perSampleWeights(sigma, x)));
        return options.rescale() > 0 ? rescale(guided, conditional) : guided;
    }

    private boolean guided(double sigma) {
        return sigma >= options.sigmaLow() && sigma <= options.sigmaHigh();
    }

    /** Per-sample σ: w where σ is inside the interval, 1 (the conditional model) outside, as [B, 1, …]. */
    private Tensor perSampleWeights(Tensor sigma, Tensor x) {
        double[] s = sigma.toDoubleArray();
        float[] w = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            w[i] = (float) (guided(s[i]) ? options.scale() : 1.0);
        }
        return Tensor.of(w, w.length).broadcastTo(x).to(x.dtype());
    }

    private Tensor rescale(Tensor guided, Tensor conditional) {
        Tensor ratio = perSampleStd(conditional).div(perSampleStd(guided).clampMin(1e-12)).broadcastTo(guided);
        return guided.mul(ratio).mul(options.rescale()).add(guided.mul(1 - options.rescale()));
    }

    private static Tensor perSampleStd(Tensor x) {
        return x.flatten(1, -1).std(1, false);
    }

    @Override
    protected LearnedVariance.Estimate estimate(LearnedVariance wrapped, Tensor x, Tensor sigma) {
        return new LearnedVariance.Estimate(denoise(x, sigma), wrapped.estimate(x, sigma).fraction());
    }
}
