package dev.diffusion4j.nn;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;

/** Group normalisation of [N, C, ...] over groups of channels (Wu &amp; He 2018). */
public final class GroupNorm extends Module {
    private final int groups;
    private final Tensor weight;
    private final Tensor bias;
    private final double eps;

    public GroupNorm(int groups, int channels, double eps, boolean affine) {
        if (groups <= 0 || channels % groups != 0) {
            throw new DiffusionException("GroupNorm: " + channels + " channels cannot be split into " + groups + " groups");
        }
        this.groups = groups;
        this.eps = eps;
        this.weight = affine ? parameter("weight", Tensor.ones(channels)) : null;
        this.bias = affine ? parameter("bias", Tensor.zeros(channels)) : null;
    }

    public GroupNorm(int groups, int channels) {
        this(groups, channels, 1e-5, true);
    }

    public Tensor forward(Tensor x) {
        return x.groupNorm(groups, weight, bias, eps);
    }
}
