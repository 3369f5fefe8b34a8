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
        return forward(x, 2 * x.size(2), 2 * x.size(3));
    }

    /**
     * Upsamples to {@code height} × {@code width}: in a U-Net, the size of the skip connection it
     * meets, which is not twice the input's where a downsampling rounded an odd size up.
     */
    public Tensor forward(Tensor x, long height, long width) {
        return conv.forward(x.upsampleNearest(height, width));
    }
}
