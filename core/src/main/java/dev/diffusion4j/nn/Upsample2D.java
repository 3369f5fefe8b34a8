package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/** Doubles the resolution: nearest-neighbour upsampling, then a 3×3 convolution named {@code conv} (diffusers). */
public final class Upsample2D extends Module {
    private final Conv2d conv;

    public Upsample2D(int channels, Generator g) {
        this.conv = child("conv", new Conv2d(channels, channels, 3, g));
    }

    public Tensor forward(Tensor x) {
        return conv.forward(x.upsampleNearest(2));
    }
}
