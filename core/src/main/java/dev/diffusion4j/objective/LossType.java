package dev.diffusion4j.objective;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;

/**
 * The element-wise penalty ρ(r) on the residual r = prediction − target: squared error r², absolute
 * error |r|, or the Huber loss ½r² for |r| ≤ δ and δ(|r| − ½δ) beyond (Huber 1964, "Robust
 * Estimation of a Location Parameter").
 */
public enum LossType {
    /** ρ(r) = r² (the "simple" DDPM loss of Ho et al. 2020, eq. 14). */
    L2("l2") {
        @Override
        public Tensor elementwise(Tensor residual, double delta) {
            return residual.square();
        }
    },
    /** ρ(r) = |r|. */
    L1("l1") {
        @Override
        public Tensor elementwise(Tensor residual, double delta) {
            return residual.abs();
        }
    },
    /** ρ(r) = ½r² if |r| ≤ δ, else δ(|r| − ½δ): quadratic near zero, linear in the tails. */
    HUBER("huber") {
        @Override
        public Tensor elementwise(Tensor residual, double delta) {
            Tensor a = residual.abs();
            Tensor quadratic = residual.square().mul(0.5);
            Tensor linear = a.sub(0.5 * delta).mul(delta);
            return Tensor.where(a.le(delta), quadratic, linear);
        }
    };

    private final String configName;

    LossType(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** ρ applied to every element of {@code residual}; {@code delta} is used by {@link #HUBER} only. */
    public abstract Tensor elementwise(Tensor residual, double delta);

    /** Parses l2 (or mse), l1 (or mae) and huber, case-insensitively. */
    public static LossType parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "l2": case "mse": return L2;
            case "l1": case "mae": return L1;
            case "huber": return HUBER;
            default: throw new DiffusionException("unknown loss type '" + name + "': use l2 (mse), l1 or huber");
        }
    }
}
