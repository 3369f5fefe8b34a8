package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The 2-D toy distributions of the generative-modelling literature (the sets used by FFJORD,
 * Grathwohl et al. 2019, and by many score-based and flow-matching papers), generated on the fly.
 * Every point is an independent draw, returned as float32 [n, 2]. Each set is placed at a scale
 * where its per-coordinate standard deviation lies between about 1 and 1.75; the constants below document
 * the exact definition, mean and standard deviation of each.
 */
public final class Toy2D implements DataSource {

    private static final double TWO_PI = 2 * Math.PI;

    /**
     * The 2-D projection (x, z) of the 3-D swiss roll: t = 1.5π(1 + 2u), u ~ U[0, 1), point
     * (t·cos t, t·sin t)/5 + N(0, 0.2²I). Mean ≈ (0.40, 0.04), per-coordinate std ≈ (1.34, 1.40).
     */
    public static final Toy2D SWISSROLL = new Toy2D("swissroll",
            "2-D swiss roll: a noisy spiral r = t/5, t in [1.5pi, 4.5pi]", Toy2D::swissroll, null);

    /**
     * Two interleaving half circles (scikit-learn's moons), centred and doubled: θ ~ U[0, π],
     * s = ±1 with equal probability, point 2s·(cos θ − ½, sin θ − ¼) + N(0, 0.1²I). The two moons
     * are point reflections of each other through the origin. Mean 0, per-coordinate std ≈ (1.74, 0.99).
     */
    public static final Toy2D MOONS = new Toy2D("moons",
            "two interleaving half circles of radius 2", Toy2D::moons, null);

    /**
     * Eight Gaussians with means on the circle of radius 2 at angles 2πk/8, std 0.2, equal weights.
     * Mean 0, per-coordinate std √2.04 ≈ 1.43.
     */
    public static final Toy2D EIGHT_GAUSSIANS = new Toy2D("8gaussians",
            "8 Gaussians (std 0.2) on a circle of radius 2", null, eightGaussians());

    /**
     * Twenty-five Gaussians with means on the 5×5 grid {−2, −1, 0, 1, 2}²/√2, std 0.05, equal
     * weights. Mean 0, per-coordinate std √1.0025 ≈ 1.00.
     */
    public static final Toy2D TWENTY_FIVE_GAUSSIANS = new Toy2D("25gaussians",
            "25 Gaussians (std 0.05) on a 5x5 grid with spacing 0.71", null, twentyFiveGaussians());

    /**
     * Uniform on the 8 "black" unit squares of a 4×4 checkerboard covering [−2, 2]²: the cells
     * whose ⌊x⌋ + ⌊y⌋ is even (the corner cell [−2, −1)² is black). Mean 0, per-coordinate std 2/√3 ≈ 1.15.
     */
    public static final Toy2D CHECKERBOARD = new Toy2D("checkerboard",
            "uniform on the 8 black squares of a 4x4 checkerboard on [-2,2]^2", Toy2D::checkerboard, null);

    /**
     * Two concentric circles of radius 2 and 1, each chosen with probability ½, uniform angle,
     * plus N(0, 0.1²I). Mean 0, per-coordinate std √1.26 ≈ 1.12.
     */
    public static final Toy2D CIRCLES = new Toy2D("circles",
            "two concentric noisy circles of radius 2 and 1", Toy2D::circles, null);

    /**
     * Five-armed pinwheel (Johnson et al. 2016, as used by FFJORD): arm k ~ U{0..4}, radial
     * r ~ N(1, 0.3²), tangential t ~ N(0, 0.1²), point 2·R(φ)·(r, t) with the rotation angle
     * φ = 2πk/5 + 0.25·eʳ, so each arm curls counter-clockwise. Mean 0, per-coordinate std √2.2 ≈ 1.48.
     */
    public static final Toy2D PINWHEEL = new Toy2D("pinwheel",
            "pinwheel with 5 curled arms", Toy2D::pinwheel, null);

    /**
     * Two interleaved Archimedean spirals: θ = 3π·√u, u ~ U[0, 1) (so density along θ grows like
     * θ), s = ±1 with equal probability, point s·(θ/3)·(−cos θ, sin θ) + N(0, 0.1²I); radius
     * reaches π. Mean 0, per-coordinate std ≈ (1.60, 1.55).
     */
    public static final Toy2D SPIRALS = new Toy2D("spirals",
            "two interleaved spirals, 1.5 turns each", Toy2D::spirals, null);

    static final List<Toy2D> ALL = List.of(SWISSROLL, MOONS, EIGHT_GAUSSIANS, TWENTY_FIVE_GAUSSIANS,
            CHECKERBOARD, CIRCLES, PINWHEEL, SPIRALS);

    @FunctionalInterface
    private interface Sampler {
        Tensor draw(Generator g, int n);
    }

    private final String name;
    private final String description;
    private final Sampler sampler;
    private final GaussianMixture mixture;

    private Toy2D(String name, String description, Sampler sampler, GaussianMixture mixture) {
        this.name = name;
        this.description = description;
        this.sampler = sampler != null ? sampler : mixture::sample;
        this.mixture = mixture;
    }

    @Override
    public String name() {
        return name;
    }

    /** A one-line description for listings. */
    public String description() {
        return description;
    }

    @Override
    public int dim() {
        return 2;
    }

    /** {@code n} independent points as float32 [n, 2]. */
    @Override
    public Tensor sample(Generator g, int n) {
        if (n < 1) {
            throw new DiffusionException("sample size must be at least 1, got " + n);
        }
        try (Scope s = Scope.open()) {
            return s.keep(sampler.draw(g, n).contiguous());
        }
    }

    /** The mixtures (8gaussians, 25gaussians) label each point with its component; the other sets are unlabelled. */
    @Override
    public int numClasses() {
        return mixture == null ? 0 : mixture.components();
    }

    @Override
    public List<String> classNames() {
        List<String> names = new ArrayList<>();
        for (int k = 0; k < numClasses(); k++) {
            names.add("component " + k);
        }
        return names;
    }

    @Override
    public Labeled sampleLabeled(Generator g, int n) {
        if (mixture == null) {
            return DataSource.super.sampleLabeled(g, n);
        }
        return mixture.sampleLabeled(g, n);
    }

    /** Toy sets are distributions, not finite sets. */
    @Override
    public Optional<Tensor> all() {
        return Optional.empty();
    }

    /** The exact mixture parameters when this set is a Gaussian mixture (8gaussians, 25gaussians). */
    public Optional<GaussianMixture> mixture() {
        return Optional.ofNullable(mixture);
    }

    @Override
    public String toString() {
        return name;
    }

    // ------------------------------------------------------------------ definitions

    private static GaussianMixture eightGaussians() {
        double[][] means = new double[8][];
        for (int k = 0; k < 8; k++) {
            double a = TWO_PI * k / 8;
            means[k] = new double[] {2 * Math.cos(a), 2 * Math.sin(a)};
        }
        return uniformMixture(means, 0.2);
    }

    private static GaussianMixture twentyFiveGaussians() {
        double[][] means = new double[25][];
        double spacing = 1 / Math.sqrt(2);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                means[i * 5 + j] = new double[] {(i - 2) * spacing, (j - 2) * spacing};
            }
        }
        return uniformMixture(means, 0.05);
    }

    private static GaussianMixture uniformMixture(double[][] means, double std) {
        double[] stds = new double[means.length];
        double[] weights = new double[means.length];
        Arrays.fill(stds, std);
        Arrays.fill(weights, 1.0 / means.length);
        return new GaussianMixture(means, stds, weights);
    }

    private static Tensor columns(Tensor x, Tensor y) {
        return Tensor.stack(List.of(x, y), 1);
    }

    private static Tensor swissroll(Generator g, int n) {
        Tensor t = Tensor.rand(g, n).mul(2).add(1).mul(1.5 * Math.PI);
        Tensor roll = columns(t.mul(t.cos()), t.mul(t.sin())).div(5);
        return roll.add(Tensor.randn(g, n, 2).mul(0.2));
    }

    private static Tensor moons(Generator g, int n) {
        Tensor theta = Tensor.rand(g, n).mul(Math.PI);
        Tensor side = Tensor.rademacher(g, n).mul(2);
        Tensor arc = columns(theta.cos().sub(0.5).mul(side), theta.sin().sub(0.25).mul(side));
        return arc.add(Tensor.randn(g, n, 2).mul(0.1));
    }

    private static Tensor checkerboard(Generator g, int n) {
        Tensor x = Tensor.rand(g, n).mul(4).sub(2);
        Tensor column = x.floor();
        // Python-style floor modulo: parity is 0 or 1 also for negative columns.
        Tensor parity = column.sub(column.div(2).floor().mul(2));
        // Rows −2 or 0, shifted up by the column's parity, make ⌊x⌋ + ⌊y⌋ even.
        Tensor row = Tensor.randint(g, 2, new long[] {n}).to(DType.FLOAT32).mul(2).sub(2).add(parity);
        Tensor y = Tensor.rand(g, n).add(row);
        return columns(x, y);
    }

    private static Tensor circles(Generator g, int n) {
        Tensor radius = Tensor.randint(g, 2, new long[] {n}).to(DType.FLOAT32).add(1);
        Tensor angle = Tensor.rand(g, n).mul(TWO_PI);
        Tensor ring = columns(radius.mul(angle.cos()), radius.mul(angle.sin()));
        return ring.add(Tensor.randn(g, n, 2).mul(0.1));
    }

    private static Tensor pinwheel(Generator g, int n) {
        Tensor arm = Tensor.randint(g, 5, new long[] {n}).to(DType.FLOAT32);
        Tensor r = Tensor.randn(g, n).mul(0.3).add(1);
        Tensor t = Tensor.randn(g, n).mul(0.1);
        Tensor phi = arm.mul(TWO_PI / 5).add(r.exp().mul(0.25));
        Tensor c = phi.cos();
        Tensor s = phi.sin();
        return columns(r.mul(c).sub(t.mul(s)), r.mul(s).add(t.mul(c))).mul(2);
    }

    private static Tensor spirals(Generator g, int n) {
        Tensor theta = Tensor.rand(g, n).sqrt().mul(3 * Math.PI);
        Tensor scale = theta.div(3).mul(Tensor.rademacher(g, n));
        Tensor curve = columns(theta.cos().neg().mul(scale), theta.sin().mul(scale));
        return curve.add(Tensor.randn(g, n, 2).mul(0.1));
    }
}
