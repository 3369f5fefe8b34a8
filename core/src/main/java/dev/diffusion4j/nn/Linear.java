package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * y = x·Wᵀ + b, with PyTorch's default initialisation W, b ~ U(−1/√in, 1/√in)
 * (Kaiming-uniform with a = √5).
 */
public final class Linear extends Module {
    private final Tensor weight;
    private final Tensor bias;

    public Linear(int in, int out, boolean bias, Generator g) {
        double bound = 1.0 / Math.sqrt(in);
        this.weight = parameter("weight", Init.uniform(g, bound, out, in));
        this.bias = bias ? parameter("bias", Init.uniform(g, bound, out)) : null;
    }

    public Linear(int in, int out, Generator g) {
        this(in, out, true, g);
    }

    public Tensor forward(Tensor x) {
        return x.linear(weight, bias);
    }

    /** Sets weights and bias to zero, so a residual branch starts as the identity. */
    public Linear zeroInit() {
        try (var s = dev.diffusion4j.tensor.Scope.open(); var ng = dev.diffusion4j.tensor.NoGrad.open()) {
            weight.zero_();
            if (bias != null) {
                bias.zero_();
            }
        }
        return this;
    }
}
