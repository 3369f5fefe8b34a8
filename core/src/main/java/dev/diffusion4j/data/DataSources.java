package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Opens a {@link DataSource} from what a user typed: a built-in name (toy 2-D sets, Fashion-MNIST)
 * or a path to a .csv table, a .npy array, an IDX file or a folder of images.
 */
public final class DataSources {
    private DataSources() {
    }

    /**
     * Vector data: a built-in toy set if {@code nameOrPath} names one (see {@link ToyDatasets#names()}),
     * otherwise the CSV file at that path, which must exist and end in {@code .csv}. Image data is
     * opened by {@link #open(String, ImageOptions)}.
     */
    public static DataSource open(String nameOrPath) {
        Path path = locate(nameOrPath);
        if (path == null) {
            return ToyDatasets.find(nameOrPath).orElseThrow();
        }
        if (ImageDatasets.isBuiltIn(nameOrPath) || ImageDatasets.isImageSource(path)) {
            throw new DiffusionException(nameOrPath + " is image data; this command takes vector data (a .csv file or a built-in "
                    + "2-D set)");
        }
        return csv(nameOrPath, path);
    }

    /**
     * Any data: a built-in toy set or image set (see {@link ImageDatasets#names()}), a .csv file,
     * or image data by path (a .npy array, IDX files, a folder of images; see
     * {@link ImageDatasets#open(java.nio.file.Path, ImageOptions)}), read with {@code options}.
     * Options other than {@link ImageOptions#NATIVE} are an error for vector data.
     */
    public static DataSource open(String nameOrPath, ImageOptions options) {
        Optional<ImageDataset> builtIn = ImageDatasets.find(nameOrPath, options);
        if (builtIn.isPresent()) {
            return builtIn.get();
        }
        Path path = locate(nameOrPath);
        if (path != null && ImageDatasets.isImageSource(path)) {
            return ImageDatasets.open(path, options);
        }
        if (!options.isNative()) {
            throw new DiffusionException(nameOrPath + " is vector data; image size, channels and flip apply to image data only");
        }
        return path == null ? ToyDatasets.find(nameOrPath).orElseThrow() : csv(nameOrPath, path);
    }

    /**
     * As {@link #open(String, ImageOptions)}, with CSV column {@code labelColumn} (name or index; null
     * for none) read as each row's class label instead of data.
     */
    public static DataSource open(String nameOrPath, ImageOptions options, String labelColumn) {
        DataSource d = open(nameOrPath, options);
        if (labelColumn == null) {
            return d;
        }
        if (!(d instanceof CsvDataset table)) {
            throw new DiffusionException("a label column picks a column of a CSV table; " + d.name() + " is not one (built-in "
                    + "mixtures and image sets carry their own labels)");
        }
        return table.withLabelColumn(labelColumn);
    }

    /** The existing path {@code nameOrPath} names, or null when it names a built-in toy set. */
    private static Path locate(String nameOrPath) {
        if (nameOrPath == null || nameOrPath.isBlank()) {
            throw new DiffusionException("no dataset given; name a built-in one (" + builtIn() + ") or a .csv file");
        }
        if (ToyDatasets.find(nameOrPath).isPresent()) {
            return null;
        }
        Path path;
        try {
            path = Path.of(nameOrPath);
        } catch (InvalidPathException e) {
            throw notFound(nameOrPath);
        }
        if (!Files.exists(path) && !ImageDatasets.isBuiltIn(nameOrPath)) {
            throw notFound(nameOrPath);
        }
        return path;
    }

    private static DataSource csv(String nameOrPath, Path path) {
        if (!nameOrPath.toLowerCase(Locale.ROOT).endsWith(".csv")) {
            throw new DiffusionException(nameOrPath + " is not a .csv file; datasets are read from numeric CSV files, .npy arrays, "
                    + "IDX files or image folders, or chosen by built-in name (" + builtIn() + ")");
        }
        return CsvDataset.read(path);
    }

    private static DiffusionException notFound(String nameOrPath) {
        return new DiffusionException("no dataset named '" + nameOrPath + "' and no file " + nameOrPath
                + "; the built-in ones are " + builtIn());
    }

    /** The built-in data sets' names, for messages. */
    private static String builtIn() {
        List<String> names = new ArrayList<>(ToyDatasets.names());
        names.addAll(ImageDatasets.names());
        return String.join(", ", names);
    }
}
