package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** Opens a {@link DataSource} from what a user typed: a built-in toy name or a path to a .csv file. */
public final class DataSources {
    private DataSources() {
    }

    /**
     * A built-in toy set if {@code nameOrPath} names one (see {@link ToyDatasets#names()}),
     * otherwise the CSV file at that path, which must exist and end in {@code .csv}.
     */
    public static DataSource open(String nameOrPath) {
        if (nameOrPath == null || nameOrPath.isBlank()) {
            throw new DiffusionException("no dataset given; name a built-in one (run `diffuse datasets` to list them) or a .csv file");
        }
        Optional<Toy2D> toy = ToyDatasets.find(nameOrPath);
        if (toy.isPresent()) {
            return toy.get();
        }
        Path path;
        try {
            path = Path.of(nameOrPath);
        } catch (InvalidPathException e) {
            throw notFound(nameOrPath);
        }
        if (!Files.exists(path)) {
            throw notFound(nameOrPath);
        }
        if (!nameOrPath.toLowerCase(Locale.ROOT).endsWith(".csv")) {
            throw new DiffusionException(nameOrPath + " is not a .csv file; datasets are read from numeric CSV files "
                    + "or chosen by built-in name (run `diffuse datasets` to list them)");
        }
        return CsvDataset.read(path);
    }

    private static DiffusionException notFound(String nameOrPath) {
        return new DiffusionException("no dataset named '" + nameOrPath + "' and no file " + nameOrPath
                + "; run `diffuse datasets` to list built-in ones");
    }
}
