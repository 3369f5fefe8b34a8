package dev.diffusion4j.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.data.ToyDatasets;
import dev.diffusion4j.io.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Opens {@link MixtureDenoiser analytic oracles} by the names users type: every built-in toy set
 * that is an exact Gaussian mixture ({@code 8gaussians}, {@code 25gaussians}), or a JSON file
 * {@code FILE.json} describing a mixture or a point set. The oracle starts with the continuous
 * noise range σ ∈ [0.002, 80]; bind it to a schedule with {@link MixtureDenoiser#withSchedule}.
 *
 * <p>The JSON file is one object in one of two forms. A Gaussian mixture with K components in d
 * dimensions, here K = 2 and d = 2:
 *
 * <pre>{@code
 * {"weights": [0.3, 0.7], "means": [[0, 0], [2, 1]], "stds": [0.5, 0.1]}
 * }</pre>
 *
 * <ul>
 *   <li>{@code means}: K rows of d numbers, the component means μₖ;
 *   <li>exactly one of {@code stds} (sₖ) or {@code variances} (sₖ²), each either K numbers (isotropic
 *       components) or K rows of d numbers (diagonal covariances), for example
 *       {@code "variances": [[0.25, 1.0], [0.01, 0.04]]};
 *   <li>{@code weights}: optional, K numbers wₖ; equal weights when absent.
 * </ul>
 *
 * A finite point set (the distribution putting weight wₙ, or 1/N, on each of N points):
 *
 * <pre>{@code
 * {"points": [[0, 0], [1, 2], [3, 1]], "weights": [0.2, 0.3, 0.5]}
 * }</pre>
 *
 * Give either {@code means} or {@code points}, not both. Stds and variances may be 0 (a point
 * mass) but not negative; weights must be non-negative and sum to 1 within 10⁻⁶; every number must
 * be finite and all rows must have the same length. An optional {@code "name"} string labels the
 * oracle. Any other key is an error, so that a misspelt key is not silently ignored.
 */
public final class Oracles {
    private static final Set<String> KEYS = Set.of("name", "weights", "means", "stds", "variances", "points");

    private Oracles() {
    }

    /** The built-in toy sets that are exact Gaussian mixtures, in listing order. */
    public static List<String> names() {
        return ToyDatasets.all().stream().filter(t -> t.mixture().isPresent()).map(Toy2D::name).toList();
    }

    /**
     * The oracle for {@code spec}: a {@link #names() mixture toy set} (case and surrounding blanks
     * ignored) or a path ending in {@code .json} (see the class comment for the format).
     */
    public static MixtureDenoiser open(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new DiffusionException("no oracle given; " + choices());
        }
        String s = spec.trim();
        if (s.toLowerCase(Locale.ROOT).endsWith(".json")) {
            return read(Path.of(s));
        }
        Optional<Toy2D> toy = ToyDatasets.find(s);
        if (toy.isEmpty()) {
            throw new DiffusionException("unknown oracle '" + s + "'; " + choices());
        }
        return toy.get().mixture()
                .map(gm -> MixtureDenoiser.of(gm).named(toy.get().name()))
                .orElseThrow(() -> new DiffusionException("dataset '" + toy.get().name() + "' is not an exact Gaussian mixture,"
                        + " so it has no closed-form denoiser for the oracle; " + choices()));
    }

    /** Reads a mixture or point-set file (format in the class comment); errors name the file and the key. */
    public static MixtureDenoiser read(Path file) {
        JsonNode root = Json.read(file);
        try {
            MixtureDenoiser oracle = fromJson(root);
            return root.has("name") ? oracle : oracle.named(String.valueOf(file.getFileName()));
        } catch (DiffusionException e) {
            throw new DiffusionException(file + ": " + e.getMessage(), e);
        }
    }

    /** Builds an oracle from a parsed JSON object in the format of the class comment. */
    public static MixtureDenoiser fromJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new DiffusionException("an oracle file must hold a JSON object with \"means\" and \"stds\"/\"variances\", or \"points\"");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                throw new DiffusionException("unknown key '" + key + "'; an oracle file may contain only "
                        + "name, weights, means, stds, variances and points");
            }
        }
        double[] weights = root.has("weights") ? vector(root.get("weights"), "weights") : null;
        boolean hasMeans = root.has("means");
        boolean hasPoints = root.has("points");
        boolean hasStds = root.has("stds");
        boolean hasVariances = root.has("variances");
        MixtureDenoiser oracle;
        if (hasPoints) {
            if (hasMeans || hasStds || hasVariances) {
                throw new DiffusionException("give either \"points\" (a point set) or \"means\" with \"stds\" or \"variances\""
                        + " (a Gaussian mixture), not both");
            }
            oracle = MixtureDenoiser.points(matrix(root.get("points"), "points"), weights);
        } else if (hasMeans) {
            if (hasStds == hasVariances) {
                throw new DiffusionException("a Gaussian mixture needs exactly one of \"stds\" and \"variances\" next to \"means\"");
            }
            double[][] means = matrix(root.get("means"), "means");
            String key = hasStds ? "stds" : "variances";
            double[][] spread = perComponent(root.get(key), key, means);
            oracle = hasStds ? MixtureDenoiser.diagonalStds(means, spread, weights) : MixtureDenoiser.diagonal(means, spread, weights);
        } else {
            throw new DiffusionException("an oracle file needs \"means\" with \"stds\" or \"variances\" (a Gaussian mixture)"
                    + " or \"points\" (a point set)");
        }
        JsonNode name = root.get("name");
        if (name != null && !name.isTextual()) {
            throw new DiffusionException("\"name\" must be a string");
        }
        return name == null ? oracle : oracle.named(name.asText());
    }

    private static String choices() {
        return "the oracle needs data that is an exact Gaussian mixture or point set: use one of "
                + String.join(", ", names()) + ", or a FILE.json holding {\"means\", \"stds\" or \"variances\", \"weights\"}"
                + " or {\"points\"}";
    }

    /** Stds or variances: K numbers (isotropic, repeated over d) or K rows of d numbers. */
    private static double[][] perComponent(JsonNode node, String key, double[][] means) {
        if (node != null && node.isArray() && node.size() > 0 && !node.get(0).isArray()) {
            double[] v = vector(node, key);
            if (v.length != means.length) {
                throw new DiffusionException("'" + key + "' has " + v.length + " entries but 'means' has " + means.length
                        + "; give one per component");
            }
            double[][] out = new double[v.length][];
            for (int k = 0; k < v.length; k++) {
                if (v[k] < 0) {
                    throw new DiffusionException(key + "[" + k + "] is " + v[k] + "; " + key + " must be non-negative");
                }
                out[k] = new double[means[k].length];
                Arrays.fill(out[k], v[k]);
            }
            return out;
        }
        return matrix(node, key);
    }

    private static double[][] matrix(JsonNode node, String key) {
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw new DiffusionException("'" + key + "' must be a non-empty list of rows of numbers, like [[0, 1], [2, 3]]");
        }
        List<double[]> rows = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode row = node.get(i);
            if (!row.isArray()) {
                throw new DiffusionException(key + "[" + i + "] must be a list of numbers, got " + row);
            }
            rows.add(vector(row, key + "[" + i + "]"));
        }
        return rows.toArray(new double[0][]);
    }

    private static double[] vector(JsonNode node, String key) {
        if (node == null || !node.isArray()) {
            throw new DiffusionException("'" + key + "' must be a list of numbers");
        }
        double[] out = new double[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isNumber()) {
                throw new DiffusionException(key + "[" + i + "] must be a number, got " + v);
            }
            out[i] = v.doubleValue();
            if (!Double.isFinite(out[i])) {
                throw new DiffusionException(key + "[" + i + "] is " + v.asText() + ", which is not a finite number");
            }
        }
        return out;
    }
}
