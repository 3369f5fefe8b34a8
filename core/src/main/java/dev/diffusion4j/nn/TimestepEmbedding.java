package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/** Projects a sinusoidal timestep embedding: linear_2(silu(linear_1(e))), as in diffusers' module of the same name. */
public final class TimestepEmbedding extends Module {
    private final Linear linear1;
    private final Linear linear2;

    public TimestepEmbedding(int inDim, int outDim, Generator g) {
        linear1 = child("linear_1", new Linear(inDim, outDim, g));
        linear2 = child("linear_2", new Linear(outDim, outDim, g));
    }

    public Tensor forward(Tensor e) {
        return linear2.forward(linear1.forward(e).silu());
    }
}
