package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-dimension standardisation z = (x − μ)/σ with μ and σ estimated from data, and its inverse
 * x = μ + σ·z for samples. σ is the population standard deviation (divisor n), floored at
 * {@link #MIN_STD} so that a constant column maps to 0 instead of dividing by zero. Its state is a
 * plain map of double lists so it can be stored in a checkpoint's JSON.
 */
public final class Normalizer {
    /** The smallest standard deviation used; constant columns get this one. */
    public static final double MIN_STD = 1e-6;

    private final double[] mean;
    private final double[] std;

    private Normalizer(double[] mean, double[] std) {
        this.mean = mean;
        this.std = std;
    }

    /** Estimates μ and σ per column of {@code data} [n, d], in double precision. */
    public static Normalizer fit(Tensor data) {
        long[] shape = data.shape();
        if (shape.length != 2 || shape[0] < 1 || shape[1] < 1) {
            throw new DiffusionException("a normalizer is fitted on [rows, dims] data with at least one row, got shape "
                    + Arrays.toString(shape));
        }
        if (!data.allFinite()) {
            throw new DiffusionException("cannot fit a normalizer on data with NaN or infinite values; clean the data first");
        }
        try (Scope s = Scope.open()) {
            Tensor x = data.to(DType.FLOAT64);
            Tensor mu = x.mean(0, true);
            // Centred second moment: subtracting the mean first avoids E[x²] − E[x]² cancellation.
            double[] var = x.sub(mu).square().mean(0, false).toDoubleArray();
            double[] m = mu.toDoubleArray();
            double[] sd = new double[var.length];
            for (int i = 0; i < var.length; i++) {
                sd[i] = Math.max(MIN_STD, Math.sqrt(var[i]));
            }
            return new Normalizer(m, sd);
        }
    }

    /** μ = 0, σ = 1 in every one of {@code dim} dimensions: data passes through unchanged. */
    public static Normalizer identity(int dim) {
        if (dim < 1) {
            throw new DiffusionException("normalizer dimension must be at least 1, got " + dim);
        }
        double[] sd = new double[dim];
        Arrays.fill(sd, 1.0);
        return new Normalizer(new double[dim], sd);
    }

    /** Number of dimensions (the size of the data's last axis). */
    public int dim() {
        return mean.length;
    }

    public double[] mean() {
        return mean.clone();
    }

    public double[] std() {
        return std.clone();
    }

    /**
     * (x − μ)/σ over the last axis of {@code x} [..., d], returned in x's dtype. Computed in float64:
     * with a large offset (μ = 1e4, σ = 0.5) float32 rounding of μ alone would shift z by 1e−3.
     */
    public Tensor normalize(Tensor x) {
        check(x);
        try (Scope s = Scope.open()) {
            return s.keep(x.to(DType.FLOAT64).sub(vector(mean)).div(vector(std)).to(x.dtype()));
        }
    }

    /** μ + σ·z over the last axis of {@code z} [..., d], computed in float64 and returned in z's dtype. */
    public Tensor denormalize(Tensor z) {
        check(z);
        try (Scope s = Scope.open()) {
            return s.keep(z.to(DType.FLOAT64).mul(vector(std)).add(vector(mean)).to(z.dtype()));
        }
    }

    private void check(Tensor x) {
        if (x.dim() < 1 || x.size(x.dim() - 1) != dim()) {
            throw new DiffusionException("data of shape " + Arrays.toString(x.shape()) + " does not match a normalizer of "
                    + dim() + " dimensions; its last axis must have size " + dim());
        }
    }

    private static Tensor vector(double[] v) {
        return Tensor.of(v, v.length);
    }

    /** {"mean": [...], "std": [...]} as lists of doubles, for JSON. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean", list(mean));
        m.put("std", list(std));
        return m;
    }

    private static List<Double> list(double[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (double d : v) {
            out.add(d);
        }
        return out;
    }

    /** Restores a normalizer from {@link #toMap()}'s form; any JSON number type is accepted. */
    public static Normalizer fromMap(Map<String, ?> map) {
        if (map == null) {
            throw new DiffusionException("normalizer state is missing");
        }
        double[] m = numbers(map, "mean");
        double[] sd = numbers(map, "std");
        if (m.length != sd.length || m.length == 0) {
            throw new DiffusionException("normalizer state has " + m.length + " means and " + sd.length
                    + " stds; they must be equally many and at least one");
        }
        for (int i = 0; i < sd.length; i++) {
            if (!(sd[i] > 0)) {
                throw new DiffusionException("normalizer std " + i + " is " + sd[i] + "; it must be positive");
            }
        }
        return new Normalizer(m, sd);
    }

    private static double[] numbers(Map<String, ?> map, String key) {
        Object v = map.get(key);
        if (!(v instanceof List<?> list)) {
            throw new DiffusionException("normalizer state needs a list of numbers under '" + key + "'");
        }
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Number n) || !Double.isFinite(n.doubleValue())) {
                throw new DiffusionException("normalizer '" + key + "' entry " + i + " is " + list.get(i) + "; expected a finite number");
            }
            out[i] = n.doubleValue();
        }
        return out;
    }

    @Override
    public String toString() {
        return "Normalizer[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
