package dev.diffusion4j.process;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;

/**
 * What a network predicts from x_t = √ᾱ·x₀ + √(1−ᾱ)·ε: the noise ε (Ho et al. 2020), the clean
 * sample x₀, or the velocity v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans &amp; Ho 2022, "Progressive Distillation",
 * sec. 4). Converts a model output in this parameterisation to x̂₀ and ε̂, and gives the training
 * target. ᾱ is a per-sample [B] tensor (or a single value) broadcast over the other dimensions.
 */
public enum Prediction {
    /** The network predicts ε; x̂₀ = (x_t − √(1−ᾱ)·ε̂)/√ᾱ, undefined where ᾱ = 0. */
    EPSILON("epsilon") {
        @Override
        public Tensor toX0(Tensor output, Tensor xt, Tensor alphaBar) {
            Tensor[] c = coefficients(alphaBar, xt);
            return xt.sub(output.mul(c[1])).div(c[0]);
        }

        @Override
        public Tensor toEps(Tensor output, Tensor xt, Tensor alphaBar) {
            return output;
        }

        @Override
        public Tensor target(Tensor x0, Tensor eps, Tensor alphaBar) {
            return eps;
        }
    },
    /** The network predicts x₀; ε̂ = (x_t − √ᾱ·x̂₀)/√(1−ᾱ). */
    SAMPLE("sample") {
        @Override
        public Tensor toX0(Tensor output, Tensor xt, Tensor alphaBar) {
            return output;
        }

        @Override
        public Tensor toEps(Tensor output, Tensor xt, Tensor alphaBar) {
            Tensor[] c = coefficients(alphaBar, xt);
            return xt.sub(output.mul(c[0])).div(c[1]);
        }

        @Override
        public Tensor target(Tensor x0, Tensor eps, Tensor alphaBar) {
            return x0;
        }
    },
    /**
     * The network predicts v; x̂₀ = √ᾱ·x_t − √(1−ᾱ)·v̂ and ε̂ = √(1−ᾱ)·x_t + √ᾱ·v̂ (Salimans &amp; Ho
     * 2022, appendix D), defined at every ᾱ including zero terminal SNR.
     */
    V("v_prediction") {
        @Override
        public Tensor toX0(Tensor output, Tensor xt, Tensor alphaBar) {
            Tensor[] c = coefficients(alphaBar, xt);
            return xt.mul(c[0]).sub(output.mul(c[1]));
        }

        @Override
        public Tensor toEps(Tensor output, Tensor xt, Tensor alphaBar) {
            Tensor[] c = coefficients(alphaBar, xt);
            return xt.mul(c[1]).add(output.mul(c[0]));
        }

        @Override
        public Tensor target(Tensor x0, Tensor eps, Tensor alphaBar) {
            return velocity(x0, eps, alphaBar);
        }
    };

    private final String configName;

    Prediction(String configName) {
        this.configName = configName;
    }

    /** The diffusers {@code prediction_type} name: epsilon, sample or v_prediction. */
    public String configName() {
        return configName;
    }

    /** The clean-sample estimate x̂₀ implied by a model {@code output} at x_t. */
    public abstract Tensor toX0(Tensor output, Tensor xt, Tensor alphaBar);

    /** The noise estimate ε̂ implied by a model {@code output} at x_t. */
    public abstract Tensor toEps(Tensor output, Tensor xt, Tensor alphaBar);

    /** The regression target for this parameterisation given the true x₀ and ε: ε, x₀ or v. */
    public abstract Tensor target(Tensor x0, Tensor eps, Tensor alphaBar);

    /** The velocity v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans &amp; Ho 2022, sec. 4). */
    public static Tensor velocity(Tensor x0, Tensor eps, Tensor alphaBar) {
        Tensor[] c = coefficients(alphaBar, eps);
        return eps.mul(c[0]).sub(x0.mul(c[1]));
    }

    /**
     * The score ∇ log q(x_t) = −ε/√(1−ᾱ) of the marginal at x_t, given its noise (or noise
     * estimate) ε (Song et al. 2021, "Score-Based Generative Modeling through SDEs", eq. 21 with
     * the DDPM perturbation kernel).
     */
    public static Tensor score(Tensor eps, Tensor alphaBar) {
        Tensor[] c = coefficients(alphaBar, eps);
        return eps.div(c[1]).neg();
    }

    /** Parses epsilon/eps, sample/x0, v_prediction/v, case-insensitively. */
    public static Prediction parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "epsilon": case "eps": return EPSILON;
            case "sample": case "x0": return SAMPLE;
            case "v_prediction": case "v": return V;
            default:
                throw new DiffusionException("unknown prediction type '" + name + "': use epsilon (eps), sample (x0) or v_prediction (v)");
        }
    }

    /**
     * √ᾱ and √(1−ᾱ), computed in double precision from ᾱ, cast to {@code like}'s dtype and shaped
     * [B, 1, ..., 1] to broadcast against it.
     */
    static Tensor[] coefficients(Tensor alphaBar, Tensor like) {
        if (!alphaBar.dtype().isFloatingPoint()) {
            throw new DiffusionException("alpha_bar must be a floating-point tensor, got " + alphaBar.dtype());
        }
        long n = alphaBar.numel();
        if (like.dim() == 0 || (n != 1 && n != like.size(0))) {
            throw new DiffusionException("alpha_bar with " + n + " values does not match a batch of shape " + Arrays.toString(like.shape())
                    + ": give one alpha_bar per sample");
        }
        Tensor a = alphaBar.to(DType.FLOAT64);
        DType d = like.dtype();
        return new Tensor[] {a.sqrt().to(d).broadcastTo(like), a.rsub(1.0).sqrt().to(d).broadcastTo(like)};
    }
}
