package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Tensor;

/** Layer normalisation over the last dimension (Ba et al. 2016), with learned scale and shift. */
public final class LayerNorm extends Module {
    private final long[] shape;
    private final Tensor weight;
    private final Tensor bias;
    private final double eps;

    public LayerNorm(int dim, double eps, boolean affine) {
        this.shape = new long[] {dim};
        this.eps = eps;
        this.weight = affine ? parameter("weight", Tensor.ones(dim)) : null;
        this.bias = affine ? parameter("bias", Tensor.zeros(dim)) : null;
    }

    public LayerNorm(int dim) {
        this(dim, 1e-5, true);
    }

    public Tensor forward(Tensor x) {
        return x.layerNorm(shape, weight, bias, eps);
    }
}
