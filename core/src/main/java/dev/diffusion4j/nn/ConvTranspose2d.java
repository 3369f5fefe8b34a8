package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Transposed 2-D convolution, weight [in, out, k, k], with PyTorch's default initialisation
 * U(−1/√fan, 1/√fan) where, as PyTorch computes it for this layer, fan = out·k².
 */
public final class ConvTranspose2d extends Module {
    private final Tensor weight;
    private final Tensor bias;
    private final int stride;
    private final int padding;

    public ConvTranspose2d(int in, int out, int kernel, int stride, int padding, Generator g) {
        double bound = 1.0 / Math.sqrt((double) out * kernel * kernel);
        this.weight = parameter("weight", Init.uniform(g, bound, in, out, kernel, kernel));
        this.bias = parameter("bias", Init.uniform(g, bound, out));
        this.stride = stride;
        this.padding = padding;
    }

    public Tensor forward(Tensor x) {
        return x.convTranspose2d(weight, bias, stride, padding, 0);
    }
}
