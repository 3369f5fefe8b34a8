package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Halves the resolution: a 3×3 stride-2 convolution named {@code conv} (diffusers; padding 1, or
 * padding 0 after padding right and bottom by one), or 2×2 average pooling without parameters.
 */
public final class Downsample2D extends Module {
    private final Conv2d conv;
    private final int padding;

    public Downsample2D(int channels, boolean useConv, int padding, Generator g) {
        this.padding = padding;
        this.conv = useConv ? child("conv", new Conv2d(channels, channels, 3, 2, padding, 1, true, g)) : null;
    }

    public Tensor forward(Tensor x) {
        if (conv == null) {
            return x.avgPool2d(2, 2);
        }
        return conv.forward(padding == 0 ? x.pad2d(0, 1, 0, 1) : x);
    }
}
