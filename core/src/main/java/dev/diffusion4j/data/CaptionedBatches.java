package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.List;

/**
 * Where image–caption pairs come from: any captioned data, or labelled images captioned from their
 * class names. The images belong to the caller's current {@code Scope}.
 */
@FunctionalInterface
public interface CaptionedBatches {

    /** Images float32 [B, C, H, W] in [−1, 1] and the caption of each. */
    record Batch(Tensor images, List<String> captions) {
        public Batch {
            captions = List.copyOf(captions);
            if (images.dim() != 4 || images.size(0) != captions.size()) {
                throw new DiffusionException("a captioned batch needs images [B, C, H, W] and B captions, got "
                        + java.util.Arrays.toString(images.shape()) + " and " + captions.size() + " captions");
            }
        }
    }

    /** A random batch of {@code size} pairs; the same generator state gives the same batch. */
    Batch next(int size, Generator g);
}
