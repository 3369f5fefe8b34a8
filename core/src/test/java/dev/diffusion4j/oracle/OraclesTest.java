package dev.diffusion4j.oracle;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.data.ToyDatasets;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OraclesTest {
    @TempDir
    Path dir;

    private Path write(String name, String json) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, json);
        return file;
    }

    /** The message of the error that opening {@code json} raises; it must name the file. */
    private String error(String json) throws IOException {
        Path file = write("bad.json", json);
        String message = assertThrows(DiffusionException.class, () -> Oracles.open(file.toString())).getMessage();
        assertTrue(message.startsWith(file.toString()), message);
        assertFalse(message.contains("\n"), "one-line message for the CLI: " + message);
        return message;
    }

    private static void assertContains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    @Test
    void mixtureToySetsResolveByName() {
        assertEquals(List.of("8gaussians", "25gaussians"), Oracles.names());
        MixtureDenoiser eight = Oracles.open("8gaussians");
        assertEquals(8, eight.components());
        assertEquals(2, eight.dim());
        assertEquals("8gaussians", eight.name());
        assertEquals(0.002, eight.sigmaMin());
        assertEquals(80, eight.sigmaMax());
        MixtureDenoiser twentyFive = Oracles.open(" 25Gaussians ");
        assertEquals(25, twentyFive.components());
        assertEquals(0.0025, twentyFive.variances()[7][0], 1e-15);
        assertTrue(twentyFive.toString().contains("25gaussians"), twentyFive.toString());
    }

    @Test
    void nonMixtureAndUnknownNamesExplainWhatTheOracleNeeds() {
        for (Toy2D t : ToyDatasets.all()) {
            if (t.mixture().isPresent()) {
                continue;
            }
            String m = assertThrows(DiffusionException.class, () -> Oracles.open(t.name())).getMessage();
            assertContains(m, "'" + t.name() + "' is not an exact Gaussian mixture", "8gaussians, 25gaussians", "FILE.json");
        }
        String m = assertThrows(DiffusionException.class, () -> Oracles.open("foo")).getMessage();
        assertContains(m, "unknown oracle 'foo'", "8gaussians, 25gaussians", "FILE.json");
        assertThrows(DiffusionException.class, () -> Oracles.open(" "));
        assertThrows(DiffusionException.class, () -> Oracles.open(null));
    }

    /**
     * The 8gaussians oracle draws exactly what the toy set's own generator draws (same seed, same
     * points), and its samples have the mixture's moments: mean 0, covariance 2.04·I, and squared
     * distance to the nearest mean 2s² = 0.08 (which a sampler that dropped the component noise misses).
     */
    @Test
    void eightGaussiansOracleSamplesMatchTheDataset() {
        MixtureDenoiser oracle = Oracles.open("8gaussians");
        int n = 200_000;
        try (Scope s = Scope.open()) {
            assertTrue(oracle.sample(new Generator(21), 1000).allClose(Toy2D.EIGHT_GAUSSIANS.sample(new Generator(21), 1000), 0, 1e-6));
            assertTrue(Oracles.open("25gaussians").sample(new Generator(22), 1000)
                    .allClose(Toy2D.TWENTY_FIVE_GAUSSIANS.sample(new Generator(22), 1000), 0, 1e-6));

            double[] a = oracle.sample(new Generator(1), n).toDoubleArray();
            double[] b = Toy2D.EIGHT_GAUSSIANS.sample(new Generator(2), n).toDoubleArray();
            double[] ma = moments(a);
            double[] mb = moments(b);
            double seMean = Math.sqrt(2.04 / n);
            double seVar = Math.sqrt(2.0 / n);   // Var(x²) = E x⁴ − (E x²)² ≈ 6.3 − 4.2 for this mixture
            double[] exact = {0, 0, 2.04, 2.04, 0};
            double[] se = {seMean, seMean, seVar, seVar, seVar};
            String[] what = {"mean x", "mean y", "var x", "var y", "cov xy"};
            for (int i = 0; i < 5; i++) {
                assertEquals(exact[i], ma[i], 5 * se[i], "oracle " + what[i]);
                assertEquals(mb[i], ma[i], 5 * Math.sqrt(2) * se[i], "oracle vs dataset generator " + what[i]);
            }
            assertArrayEquals(new double[] {0, 0}, oracle.mean(), 1e-15);
            double[][] cov = oracle.covariance();
            assertArrayEquals(new double[] {2.04, 0}, cov[0], 1e-12);
            assertArrayEquals(new double[] {0, 2.04}, cov[1], 1e-12);

            double[][] means = oracle.means();
            double sq = 0;
            for (int i = 0; i < n; i++) {
                double best = Double.MAX_VALUE;
                for (double[] mu : means) {
                    best = Math.min(best, Math.pow(a[2 * i] - mu[0], 2) + Math.pow(a[2 * i + 1] - mu[1], 2));
                }
                sq += best;
            }
            // ‖x − μ‖²/s² is χ²₂: mean 2s², standard deviation 2s².
            assertEquals(0.08, sq / n, 5 * 0.08 / Math.sqrt(n));
        }
    }

    /** Mean x, mean y, var x, var y, cov xy of interleaved 2-D points. */
    private static double[] moments(double[] xy) {
        int n = xy.length / 2;
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += xy[2 * i] / n;
            my += xy[2 * i + 1] / n;
        }
        double vx = 0;
        double vy = 0;
        double c = 0;
        for (int i = 0; i < n; i++) {
            double dx = xy[2 * i] - mx;
            double dy = xy[2 * i + 1] - my;
            vx += dx * dx / n;
            vy += dy * dy / n;
            c += dx * dy / n;
        }
        return new double[] {mx, my, vx, vy, c};
    }

    @Test
    void jsonFilesDescribeMixturesAndPointSets() throws IOException {
        MixtureDenoiser iso = Oracles.open(write("iso.json",
                "{\"weights\": [0.25, 0.75], \"means\": [[0, 0], [2, 1]], \"stds\": [0.5, 0.1]}").toString());
        assertEquals("iso.json", iso.name());
        assertTrue(iso.isotropic());
        assertArrayEquals(new double[] {0.25, 0.75}, iso.weights(), 0);
        assertArrayEquals(new double[] {0.01, 0.01}, iso.variances()[1], 1e-15);

        MixtureDenoiser diag = Oracles.open(write("diag.JSON",
                "{\"name\": \"two blobs\", \"means\": [[0, 0], [2, 1]], \"variances\": [[0.25, 1.0], [0.01, 0.04]]}").toString());
        assertEquals("two blobs", diag.name());
        assertFalse(diag.isotropic());
        assertArrayEquals(new double[] {0.5, 0.5}, diag.weights(), 0);
        assertArrayEquals(new double[] {0.25, 1.0}, diag.variances()[0], 0);

        MixtureDenoiser isoVar = Oracles.read(write("isovar.json", "{\"means\": [[1, 2, 3]], \"variances\": [4]}"));
        assertArrayEquals(new double[] {4, 4, 4}, isoVar.variances()[0], 0);
        MixtureDenoiser diagStd = Oracles.read(write("diagstd.json", "{\"means\": [[1, 2]], \"stds\": [[3, 0.5]]}"));
        assertArrayEquals(new double[] {9, 0.25}, diagStd.variances()[0], 0);

        MixtureDenoiser pts = Oracles.open(write("points.json", "{\"points\": [[0, 0], [1, 2], [3, 1]], \"weights\": [0.2, 0.3, 0.5]}").toString());
        assertEquals(3, pts.components());
        assertArrayEquals(new double[] {0, 0}, pts.variances()[2], 0);
        MixtureDenoiser uniform = Oracles.open(write("uniform.json", "{\"points\": [[0], [1], [2], [3]]}").toString());
        assertArrayEquals(new double[] {0.25, 0.25, 0.25, 0.25}, uniform.weights(), 0);

        // The parsed oracle is the same denoiser as the one built in Java.
        MixtureDenoiser direct = MixtureDenoiser.diagonal(new double[][] {{0, 0}, {2, 1}}, new double[][] {{0.25, 0.25}, {0.01, 0.01}},
                new double[] {0.25, 0.75});
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new double[] {0.5, 0.5, 1.8, 1.2, -1, 3}, 3, 2);
            Tensor sigma = Tensor.of(new double[] {0.3}, 1);
            assertTrue(iso.denoise(x, sigma).allClose(direct.denoise(x, sigma), 0, 1e-12));
            // σ small: a point of the set snaps to itself.
            Tensor p = Tensor.of(new double[] {1, 2}, 1, 2).to(DType.FLOAT64);
            assertArrayEquals(new double[] {1, 2}, pts.denoise(p, Tensor.of(new double[] {0.01}, 1)).toDoubleArray(), 1e-9);
        }
    }

    @Test
    void malformedJsonIsAClearError() throws IOException {
        assertContains(error("{\"means\": [[0, 0], [1, 1, 1]], \"stds\": [1, 1]}"),
                "means[1] has 3 coordinates but means[0] has 2", "same dimension");
        assertContains(error("{\"means\": [[0, 0], [1, 1]], \"variances\": [[1, 1], [1, -0.5]]}"),
                "variances[1][1] is -0.5", "non-negative");
        assertContains(error("{\"means\": [[0, 0], [1, 1]], \"variances\": [1, -2]}"), "variances[1] is -2.0", "non-negative");
        assertContains(error("{\"means\": [[0, 0], [1, 1]], \"stds\": [-0.1, 1]}"), "stds[0] is -0.1", "non-negative");
        assertContains(error("{\"means\": [[0, 0], [1, 1]], \"stds\": [1, 1], \"weights\": [0.5, 0.4]}"),
                "weights sum to 0.9", "must sum to 1");
        assertContains(error("{\"means\": [[0, 0], [1, 1]], \"stds\": [1, 1], \"weights\": [1]}"),
                "'weights' has 1 entries but 'means' has 2");
        assertContains(error("{\"points\": [[0, 0], [1, 1]], \"weights\": [1.5, -0.5]}"), "weights[1] is -0.5");
        assertContains(error("{\"means\": [[0, NaN]], \"stds\": [1]}"), "means[0][1] is", "not a finite number");   // Python's NaN reads
        assertContains(error("{\"means\": [[0, \"NaN\"]], \"stds\": [1]}"), "means[0][1] must be a number");
        assertContains(error("{\"means\": [[0, 1e999]], \"stds\": [1]}"), "means[0][1] is", "not a finite number");
        assertContains(error("{\"means\": [[0, 0]], \"stds\": [1, 2]}"), "'stds' has 2 entries but 'means' has 1");
        assertContains(error("{\"means\": [[0, 0]], \"stds\": [[1, 2, 3]]}"), "stds[0] has 3 coordinates but the means have 2");
        assertContains(error("{\"means\": [[0, 0]]}"), "exactly one of \"stds\" and \"variances\"");
        assertContains(error("{\"means\": [[0, 0]], \"stds\": [1], \"variances\": [1]}"), "exactly one of");
        assertContains(error("{\"points\": [[0, 0]], \"means\": [[0, 0]], \"stds\": [1]}"), "not both");
        assertContains(error("{\"weights\": [1]}"), "needs \"means\"", "\"points\"");
        assertContains(error("{\"means\": [], \"stds\": []}"), "'means' must be a non-empty list");
        assertContains(error("{\"means\": [0, 1], \"stds\": [1, 1]}"), "means[0] must be a list of numbers");
        assertContains(error("{\"points\": [[]]}"), "points[0] is empty");
        assertContains(error("{\"mean\": [[0, 0]], \"stds\": [1]}"), "unknown key 'mean'");
        assertContains(error("[[0, 0]]"), "must hold a JSON object");
        assertContains(error("{\"points\": [[0]], \"name\": 3}"), "\"name\" must be a string");

        Path missing = dir.resolve("missing.json");
        assertEquals(missing + " does not exist: check the path",
                assertThrows(DiffusionException.class, () -> Oracles.open(missing.toString())).getMessage());
    }
}
