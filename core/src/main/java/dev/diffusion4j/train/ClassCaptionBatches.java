package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CaptionedBatches;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.text.Captions;
import dev.diffusion4j.text.ClipTokenizer;

/**
 * Image–caption pairs from a labelled image data set that has no captions (Fashion-MNIST, image
 * folders): each image drawn with its label, captioned by {@link Captions} from its class name and
 * the tone and size read off its pixels ("a photo of a small dark sandal").
 */
public final class ClassCaptionBatches implements CaptionedBatches {
    private final ImageDataset data;
    private final Captions captions;

    public ClassCaptionBatches(ImageDataset data) {
        if (!data.hasLabels() || data.classNames().isEmpty()) {
            throw new DiffusionException(data.name() + " has no named classes to make captions from (an image folder needs one "
                    + "sub-folder per class)");
        }
        this.data = data;
        this.captions = new Captions(data.classNames(), ClipTokenizer.clip(), ClipTokenizer.CONTEXT_LENGTH);
    }

    /**
     * Image–caption pairs of {@code data}: its own captions when it has them (emoji, captioned
     * folders), else captions made from its class names.
     */
    public static CaptionedBatches of(ImageDataset data) {
        if (data.hasCaptions()) {
            return (size, g) -> {
                ImageDataset.Captioned b = data.sampleCaptioned(g, size);
                return new Batch(b.images(), b.captions());
            };
        }
        return new ClassCaptionBatches(data);
    }

    /** The images come from {@code g} first, then the caption templates. */
    @Override
    public Batch next(int size, Generator g) {
        DataSource.Labeled b = data.sampleLabeled(g, size);
        return new Batch(b.items(), captions.captions(b.items(), b.labels(), g));
    }
}
