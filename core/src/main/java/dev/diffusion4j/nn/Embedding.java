package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/** A lookup table [num, dim] named {@code weight}, initialised N(0, 1) as PyTorch's nn.Embedding, or N(0, std²). */
public final class Embedding extends Module {
    private final Tensor weight;

    public Embedding(int num, int dim, Generator g) {
        this(num, dim, 1.0, g);
    }

    public Embedding(int num, int dim, double std, Generator g) {
        this.weight = parameter("weight", Init.normal(g, std, num, dim));
    }

    /** Rows of the table for int64 indices [B] → [B, dim]. */
    public Tensor forward(Tensor indices) {
        return indices.embedding(weight);
    }
}
