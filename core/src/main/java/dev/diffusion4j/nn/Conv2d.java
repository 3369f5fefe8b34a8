package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * 2-D convolution with a square kernel, weight [out, in/groups, k, k], and PyTorch's default
 * initialisation W, b ~ U(−1/√fan_in, 1/√fan_in) with fan_in = in/groups·k².
 */
public final class Conv2d extends Module {
    private final Tensor weight;
    private final Tensor bias;
    private final int stride;
    private final int padding;
    private final int groups;

    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean bias, Generator g) {
        double bound = 1.0 / Math.sqrt((double) in / groups * kernel * kernel);
        this.weight = parameter("weight", Init.uniform(g, bound, out, in / groups, kernel, kernel));
        this.bias = bias ? parameter("bias", Init.uniform(g, bound, out)) : null;
        this.stride = stride;
        this.padding = padding;
        this.groups = groups;
    }

    /** A stride-1 convolution that keeps the spatial size (padding k/2). */
    public Conv2d(int in, int out, int kernel, Generator g) {
        this(in, out, kernel, 1, kernel / 2, 1, true, g);
    }

    public Tensor forward(Tensor x) {
        return x.conv2d(weight, bias, stride, padding, groups);
    }
}
