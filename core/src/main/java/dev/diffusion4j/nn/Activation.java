package dev.diffusion4j.nn;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;

/** Point-wise nonlinearities by config name. */
public enum Activation {
    /** x·σ(x) (Elfwing et al. 2018; "swish"). */
    SILU("silu"),
    /** x·Φ(x) (Hendrycks &amp; Gimpel 2016), exact erf form. */
    GELU("gelu"),
    /** x·σ(1.702x), the sigmoid approximation of GELU that OpenAI's CLIP was trained with (transformers' "quick_gelu"). */
    QUICK_GELU("quick_gelu"),
    RELU("relu"),
    TANH("tanh");

    private final String configName;

    Activation(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public Tensor apply(Tensor x) {
        switch (this) {
            case SILU: return x.silu();
            case GELU: return x.gelu();
            case QUICK_GELU: return x.mul(x.mul(1.702).sigmoid());
            case RELU: return x.relu();
            default: return x.tanh();
        }
    }

    public static Activation parse(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.equals("swish")) {
            return SILU;
        }
        for (Activation a : values()) {
            if (a.configName.equals(n)) {
                return a;
            }
        }
        throw new DiffusionException("unknown activation '" + name + "': use silu, gelu, quick_gelu, relu or tanh");
    }
}
