package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The registry of built-in toy data sets, looked up by the names users type ("moons", "8gaussians"). */
public final class ToyDatasets {
    private ToyDatasets() {
    }

    /** Every built-in toy set, in listing order. */
    public static List<Toy2D> all() {
        return Toy2D.ALL;
    }

    /** The names of the built-in toy sets, in listing order. */
    public static List<String> names() {
        return Toy2D.ALL.stream().map(Toy2D::name).toList();
    }

    /** The toy set with this name (case and surrounding blanks ignored), if there is one. */
    public static Optional<Toy2D> find(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String key = name.trim().toLowerCase(Locale.ROOT);
        return Toy2D.ALL.stream().filter(t -> t.name().equals(key)).findFirst();
    }

    /** The toy set with this name; an unknown name is an error that lists the available ones. */
    public static Toy2D get(String name) {
        return find(name).orElseThrow(() -> new DiffusionException(
                "unknown dataset '" + name + "'; available: " + String.join(", ", names())));
    }
}
