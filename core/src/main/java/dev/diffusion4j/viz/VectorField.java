package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;
import java.util.Arrays;

/**
 * Vectors attached to 2-D positions, e.g. a score ∇log p_t(x) or a flow-matching velocity evaluated
 * on a grid, drawn by {@link ScatterPlot} as arrows. Positions and vectors are interleaved x, y
 * pairs; {@code spacing} is the typical distance between neighbouring positions in data units
 * (0 if unknown), which sets the longest arrow so arrows stay inside their grid cell.
 */
public record VectorField(float[] positions, float[] vectors, double spacing) {
    /** Positions used to estimate the spacing when there are more: the estimate is a median anyway. */
    private static final int SPACING_PROBES = 512;

    public VectorField {
        Bounds.checkInterleaved(positions);
        if (positions.length != vectors.length) {
            throw new DiffusionException("a vector field needs one vector per position but got " + positions.length / 2
                    + " positions and " + vectors.length / 2.0 + " vectors");
        }
        if (!(spacing >= 0) || !Double.isFinite(spacing)) {
            throw new DiffusionException("vector field spacing must be finite and >= 0 but was " + spacing);
        }
        positions = positions.clone();
        vectors = vectors.clone();
    }

    /** A field whose spacing is the median distance from a position to its nearest neighbour. */
    public static VectorField of(float[] positions, float[] vectors) {
        Bounds.checkInterleaved(positions);
        return new VectorField(positions, vectors, medianNearestNeighbour(positions));
    }

    /**
     * The centres of a {@code cols} × {@code rows} grid of equal cells covering {@code bounds}, as
     * interleaved x, y pairs row by row: the positions at which to evaluate a field for a quiver plot.
     */
    public static float[] grid(Bounds bounds, int cols, int rows) {
        if (cols < 1 || rows < 1 || (long) cols * rows > 1_000_000) {
            throw new DiffusionException("a vector-field grid needs 1 to 1,000,000 cells but got " + cols + "x" + rows);
        }
        float[] out = new float[2 * cols * rows];
        int k = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[k++] = (float) (bounds.xMin() + (c + 0.5) * bounds.width() / cols);
                out[k++] = (float) (bounds.yMin() + (r + 0.5) * bounds.height() / rows);
            }
        }
        return out;
    }

    @Override
    public float[] positions() {
        return positions.clone();
    }

    @Override
    public float[] vectors() {
        return vectors.clone();
    }

    /** The number of (position, vector) pairs. */
    public int size() {
        return positions.length / 2;
    }

    float position(int i) {
        return positions[i];
    }

    float vector(int i) {
        return vectors[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VectorField f && spacing == f.spacing
                && Arrays.equals(positions, f.positions) && Arrays.equals(vectors, f.vectors);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(positions) + Arrays.hashCode(vectors)) + Double.hashCode(spacing);
    }

    @Override
    public String toString() {
        return "VectorField[" + size() + " arrows, spacing " + spacing + "]";
    }

    /**
     * The median over (up to {@value #SPACING_PROBES} evenly chosen) positions of the distance to
     * the nearest other distinct position; 0 with fewer than two distinct finite positions.
     */
    private static double medianNearestNeighbour(float[] xy) {
        int n = xy.length / 2;
        int probes = Math.min(n, SPACING_PROBES);
        double[] nearest = new double[probes];
        int found = 0;
        for (int p = 0; p < probes; p++) {
            int i = (int) ((long) p * n / probes);
            double xi = xy[2 * i];
            double yi = xy[2 * i + 1];
            if (!Double.isFinite(xi) || !Double.isFinite(yi)) {
                continue;
            }
            double best = Double.POSITIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                double dx = xy[2 * j] - xi;
                double dy = xy[2 * j + 1] - yi;
                double d2 = dx * dx + dy * dy;
                if (d2 > 0 && d2 < best) {
                    best = d2;
                }
            }
            if (Double.isFinite(best)) {
                nearest[found++] = Math.sqrt(best);
            }
        }
        if (found == 0) {
            return 0;
        }
        Arrays.sort(nearest, 0, found);
        return nearest[found / 2];
    }
}
