package dev.diffusion4j.data;

import dev.diffusion4j.tensor.Generator;

/** A data set whose items may carry captions: images, or the latents of images. */
public interface CaptionedData extends DataSource {
    /** Whether every item has a caption. */
    boolean hasCaptions();

    /**
     * A minibatch with its captions (and labels, when the set has them); the same generator state
     * draws the same items as {@link #sample}.
     */
    ImageDataset.Captioned sampleCaptioned(Generator g, int batch);
}
