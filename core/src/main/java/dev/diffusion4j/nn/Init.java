package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Parameter initialisers; all take an explicit generator so model weights are reproducible. They
 * scale their draws in place, leaving no intermediate tensors behind (a Stable Diffusion U-Net is
 * 3.4 GB of them).
 */
public final class Init {
    private Init() {
    }

    /** U(−bound, bound). */
    public static Tensor uniform(Generator g, double bound, long... shape) {
        return Tensor.rand(g, shape).mul_(2 * bound).add_(-bound);
    }

    /** N(0, std²). */
    public static Tensor normal(Generator g, double std, long... shape) {
        return Tensor.randn(g, shape).mul_(std);
    }
}
