package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A per-dimension box that denoised estimates x̂₀ are clipped to while sampling: the range of the
 * training data (in normalised units) widened by a margin. It generalises the [−1, 1] sample
 * clipping of image diffusion (Ho et al. 2020) to data of any range, and stops rare trajectories
 * that start in the far tail of the prior from being pushed outwards by a network extrapolating
 * where it never saw data.
 */
public record SampleRange(double[] min, double[] max) {
    /** Margin added on each side, as a fraction of the data range. */
    public static final double DEFAULT_MARGIN = 0.1;

    public SampleRange {
        if (min.length != max.length || min.length == 0) {
            throw new DiffusionException("sample range needs equal, non-empty min and max lists");
        }
        for (int i = 0; i < min.length; i++) {
            if (!(min[i] <= max[i])) {
                throw new DiffusionException("sample range has min > max in dimension " + i);
            }
        }
        min = min.clone();
        max = max.clone();
    }

    /** The range of {@code data} [n, d] widened by {@code margin}·(max − min) on each side. */
    public static SampleRange of(Tensor data, double margin) {
        double[] lo = data.amin(0, false).toDoubleArray();
        double[] hi = data.amax(0, false).toDoubleArray();
        for (int i = 0; i < lo.length; i++) {
            double pad = margin * (hi[i] - lo[i]);
            lo[i] -= pad;
            hi[i] += pad;
        }
        return new SampleRange(lo, hi);
    }

    /** One interval for every value, as for images in [−1, 1]. */
    public static SampleRange uniform(double lo, double hi) {
        return new SampleRange(new double[] {lo}, new double[] {hi});
    }

    /** Number of per-dimension intervals; 1 for a {@link #uniform} range, which applies to any shape. */
    public int dim() {
        return min.length;
    }

    /** True for a range that applies one interval to every value. */
    public boolean isUniform() {
        return min.length == 1;
    }

    /** Clamps x [B, d] (or any shape, for a uniform range) into the box. */
    public Tensor clip(Tensor x) {
        if (isUniform()) {
            return x.clamp(min[0], max[0]);
        }
        Tensor lo = Tensor.of(min, 1, min.length).to(x.dtype());
        Tensor hi = Tensor.of(max, 1, max.length).to(x.dtype());
        return x.clamp(lo, hi);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("min", Arrays.stream(min).boxed().toList());
        m.put("max", Arrays.stream(max).boxed().toList());
        return m;
    }

    public static SampleRange fromMap(Map<?, ?> m) {
        try {
            return new SampleRange(doubles(m.get("min")), doubles(m.get("max")));
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException("config.json has a malformed sample range: " + m);
        }
    }

    private static double[] doubles(Object o) {
        List<?> l = (List<?>) o;
        double[] d = new double[l.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = ((Number) l.get(i)).doubleValue();
        }
        return d;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SampleRange r && Arrays.equals(min, r.min) && Arrays.equals(max, r.max);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(min) + Arrays.hashCode(max);
    }

    @Override
    public String toString() {
        return "SampleRange" + Arrays.toString(min) + ".." + Arrays.toString(max);
    }
}
