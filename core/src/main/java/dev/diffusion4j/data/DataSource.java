package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * Where training data comes from: a distribution to draw minibatches from. Toy distributions draw
 * fresh points on every call; finite data sets (a CSV file) draw rows uniformly with replacement.
 * Returned tensors are float32 [batch, ...itemShape] and belong to the caller's current {@code Scope}.
 */
public interface DataSource {

    /** The name the data set was opened by (a built-in name or a file name). */
    String name();

    /** Number of values per data point. */
    int dim();

    /** Shape of one data point: [dim] for vectors, [C, H, W] for images (whose {@link #dim()} is C·H·W). */
    default long[] itemShape() {
        return new long[] {dim()};
    }

    /** A random minibatch [batch, ...itemShape]; the same generator state gives the same batch. */
    Tensor sample(Generator g, int batch);

    /** For a finite data set, every point as [rows, ...itemShape] (a fresh copy); empty for a distribution. */
    Optional<Tensor> all();

    /** A minibatch with its class labels: items [batch, ...itemShape], labels int64 [batch] (null when unlabelled). */
    record Labeled(Tensor items, Tensor labels) {
    }

    /**
     * Number of classes when every point carries a class label (a mixture's component, an image
     * folder's sub-folder, a Fashion-MNIST class), labels then being 0 … numClasses−1; 0 for unlabelled data.
     */
    default int numClasses() {
        return 0;
    }

    /** Class names indexed by label; empty when unlabelled or unnamed. */
    default List<String> classNames() {
        return List.of();
    }

    /** Like {@link #sample}, with the drawn points' labels; the same generator state draws the same points. */
    default Labeled sampleLabeled(Generator g, int batch) {
        throw new DiffusionException("data set '" + name() + "' has no class labels");
    }
}
