package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Parameter initialisers; all take an explicit generator so model weights are reproducible. They
 * scale their draws in place, leaving no intermediate tensors behind (a Stable Diffusion U-Net is
 * 3.4 GB of them).
 */
public final class Init {
    /**
     * The generator to build a module with whose weights are loaded next: its parameters are left
     * uninitialised, skipping the random draws and a pass over the memory (SD 1.5's U-Net: 9–11 s to
     * build with random weights).
     */
    public static final Generator FOR_LOADING = null;

    private Init() {
    }

    /** U(−bound, bound); uninitialised for {@link #FOR_LOADING}. */
    public static Tensor uniform(Generator g, double bound, long... shape) {
        return g == FOR_LOADING ? Tensor.uninitialized(shape) : Tensor.rand(g, shape).mul_(2 * bound).add_(-bound);
    }

    /** N(0, std²); uninitialised for {@link #FOR_LOADING}. */
    public static Tensor normal(Generator g, double std, long... shape) {
        return g == FOR_LOADING ? Tensor.uninitialized(shape) : Tensor.randn(g, shape).mul_(std);
    }
}
