package dev.diffusion4j.eval;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Distances between two sets of feature vectors [n, d] (from a feature network such as
 * {@link ImageClassifier}) and the Inception-Score-style score of class probabilities. Everything
 * is computed in float64.
 */
public final class ImageMetrics {
    /** Subset size and count of KID's estimate (Bińkowski et al. 2018 use 1,000 and 100). */
    public static final int KID_SUBSET = 1000;
    public static final int KID_SUBSETS = 100;
    /** Neighbourhood size of the k-NN manifolds (Kynkäänniemi et al. 2019 use k = 3). */
    public static final int PR_K = 3;
    /** Neighbours of density and coverage, the value Naeem et al. (2020) recommend. */
    public static final int DC_K = 5;
    /** Rows per block of a pairwise-distance computation. */
    private static final long BLOCK = 1024;

    /** A mean and its standard deviation over splits or subsets. */
    public record Estimate(double mean, double std) {
    }

    /** Manifold precision (samples inside the real manifold) and recall (real inside the samples'). */
    public record PrecisionRecall(double precision, double recall) {
    }

    /**
     * Density (how many real neighbourhoods hold a sample, per k; about 1 for real data) and
     * coverage (share of real points whose neighbourhood holds a sample).
     */
    public record DensityCoverage(double density, double coverage) {
    }

    private ImageMetrics() {
    }

    /**
     * Fréchet distance between the Gaussians fitted to {@code a} and {@code b} [n, d] (FID when the
     * features are Inception's; Heusel et al. 2017).
     */
    public static double fid(Tensor a, Tensor b) {
        checkFeatures(a, b);
        try (Scope s = Scope.open()) {
            Tensor x = a.to(DType.FLOAT64);
            Tensor y = b.to(DType.FLOAT64);
            return frechetDistance(x.mean(0, false), covariance(x), y.mean(0, false), covariance(y));
        }
    }

    /**
     * ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½). The trace of (Σ₁Σ₂)^½ is that of (Σ₁^½ Σ₂ Σ₁^½)^½, whose
     * argument is symmetric positive semi-definite, so both roots come from symmetric
     * eigendecompositions (negative round-off eigenvalues clipped to zero).
     */
    public static double frechetDistance(Tensor mu1, Tensor cov1, Tensor mu2, Tensor cov2) {
        try (Scope s = Scope.open()) {
            Tensor[] e1 = symmetric(cov1.to(DType.FLOAT64)).eigh();
            Tensor root1 = e1[1].mul(e1[0].clampMin(0).sqrt().unsqueeze(0)).matmul(e1[1].t());
            Tensor inner = symmetric(root1.matmul(cov2.to(DType.FLOAT64)).matmul(root1));
            double traceRoot = inner.eigh()[0].clampMin(0).sqrt().sum().item();
            double trace1 = e1[0].sum().item();
            double trace2 = symmetric(cov2.to(DType.FLOAT64)).eigh()[0].sum().item();
            double meanTerm = mu1.to(DType.FLOAT64).sub(mu2.to(DType.FLOAT64)).square().sum().item();
            return meanTerm + trace1 + trace2 - 2 * traceRoot;
        }
    }

    /** Sample covariance (n − 1 in the denominator) of the rows of {@code x} [n, d]. */
    static Tensor covariance(Tensor x) {
        Tensor c = x.sub(x.mean(0, true));
        return c.t().matmul(c).div(x.size(0) - 1);
    }

    private static Tensor symmetric(Tensor m) {
        return m.add(m.t()).mul(0.5);
    }

    /**
     * Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimate of MMD² with the
     * cubic polynomial kernel k(x, y) = (xᵀy/d + 1)³, averaged over {@code subsets} random subsets of
     * {@code subsetSize} rows of each set (capped at the smaller set's size). When a subset is the
     * whole of both sets every subset gives the same value, so it is computed once and its spread is
     * unknown: the standard deviation is NaN then, not a misleading 0.
     */
    public static Estimate kid(Tensor a, Tensor b, int subsets, int subsetSize, Generator g) {
        checkFeatures(a, b);
        int m = (int) Math.min(subsetSize, Math.min(a.size(0), b.size(0)));
        if (m < 2) {
            throw new DiffusionException("KID needs at least two feature vectors in each set");
        }
        boolean whole = m == a.size(0) && m == b.size(0);
        double[] values = new double[whole ? 1 : subsets];
        try (Scope s = Scope.open()) {
            Tensor x = a.to(DType.FLOAT64);
            Tensor y = b.to(DType.FLOAT64);
            if (whole) {
                return new Estimate(unbiasedMmd2(x, y), Double.NaN);
            }
            for (int i = 0; i < values.length; i++) {
                try (Scope inner = Scope.open()) {
                    Tensor xs = x.indexSelect(0, Tensor.randperm(g, x.size(0)).narrow(0, 0, m));
                    Tensor ys = y.indexSelect(0, Tensor.randperm(g, y.size(0)).narrow(0, 0, m));
                    values[i] = unbiasedMmd2(xs, ys);
                }
            }
        }
        return summarize(values);
    }

    /** Unbiased MMD² of two equal-size sets under the cubic polynomial kernel. */
    static double unbiasedMmd2(Tensor x, Tensor y) {
        long m = x.size(0);
        double d = x.size(1);
        Tensor kxx = polynomialKernel(x, x, d);
        Tensor kyy = polynomialKernel(y, y, d);
        Tensor kxy = polynomialKernel(x, y, d);
        // Diagonals k(x, x) excluded from the within-set sums.
        double diagX = x.square().sum(1, false).div(d).add(1).pow(3).sum().item();
        double diagY = y.square().sum(1, false).div(d).add(1).pow(3).sum().item();
        double within = (kxx.sum().item() - diagX + kyy.sum().item() - diagY) / (m * (m - 1.0));
        return within - 2 * kxy.mean().item();
    }

    private static Tensor polynomialKernel(Tensor x, Tensor y, double d) {
        return x.matmul(y.t()).div(d).add(1).pow(3);
    }

    /**
     * Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of
     * balls around its points reaching their k-th nearest neighbour in the same set; precision is the
     * share of {@code samples} inside the real manifold, recall the share of {@code real} inside the
     * samples' manifold.
     */
    public static PrecisionRecall precisionRecall(Tensor real, Tensor samples, int k) {
        checkFeatures(real, samples);
        if (k < 1 || real.size(0) <= k || samples.size(0) <= k) {
            throw new DiffusionException("precision/recall with k = " + k + " needs more than k feature vectors in each set");
        }
        try (Scope s = Scope.open()) {
            Tensor x = real.to(DType.FLOAT64);
            Tensor y = samples.to(DType.FLOAT64);
            return new PrecisionRecall(shareInside(x, kthNeighbourDistance(x, k), y), shareInside(y, kthNeighbourDistance(y, k), x));
        }
    }

    /** Distance from each row of {@code x} to its k-th nearest other row. */
    static Tensor kthNeighbourDistance(Tensor x, int k) {
        long n = x.size(0);
        Tensor[] parts = new Tensor[(int) ((n + BLOCK - 1) / BLOCK)];
        for (long i = 0, p = 0; i < n; i += BLOCK, p++) {
            Tensor d = x.narrow(0, i, Math.min(BLOCK, n - i)).cdist(x);
            // The k + 1 smallest distances include the point itself at distance 0.
            parts[(int) p] = d.neg().topk(k + 1, 1).select(1, k).neg();
        }
        return Tensor.cat(Arrays.asList(parts), 0);
    }

    /**
     * Density and coverage (Naeem et al. 2020, eqs. 5 and 6) over the real k-NN balls only. Precision
     * accepts every sample inside the ball of a single real outlier, whose radius is large; density
     * counts balls, so samples that all land in one outlier's ball score about 1/k, and coverage asks
     * how many real points have a sample nearby, which a collapsed set cannot fake.
     */
    public static DensityCoverage densityCoverage(Tensor real, Tensor samples, int k) {
        checkFeatures(real, samples);
        if (k < 1 || real.size(0) <= k || samples.size(0) < 1) {
            throw new DiffusionException("density/coverage with k = " + k + " needs more than k real feature vectors and a sample");
        }
        try (Scope s = Scope.open()) {
            Tensor x = real.to(DType.FLOAT64);
            Tensor y = samples.to(DType.FLOAT64);
            Tensor r = kthNeighbourDistance(x, k).unsqueeze(0);
            long m = y.size(0);
            double ballsHit = 0;
            Tensor covered = Tensor.zeros(DType.FLOAT64, x.size(0));
            for (long i = 0; i < m; i += BLOCK) {
                try (Scope b = Scope.open()) {
                    Tensor inside = y.narrow(0, i, Math.min(BLOCK, m - i)).cdist(x).sub(r).le(0).to(DType.FLOAT64);
                    ballsHit += inside.sum().item();
                    covered = b.keep(covered.maximum(inside.amax(0, false)));
                }
            }
            return new DensityCoverage(ballsHit / ((double) k * m), covered.mean().item());
        }
    }

    /** Share of the rows of {@code query} within radius[i] of some row i of {@code centres}. */
    private static double shareInside(Tensor centres, Tensor radius, Tensor query) {
        long n = query.size(0);
        long inside = 0;
        Tensor r = radius.unsqueeze(0);
        for (long i = 0; i < n; i += BLOCK) {
            try (Scope s = Scope.open()) {
                Tensor d = query.narrow(0, i, Math.min(BLOCK, n - i)).cdist(centres);
                inside += (long) d.sub(r).amin(1, false).le(0).to(DType.FLOAT64).sum().item();
            }
        }
        return (double) inside / n;
    }

    /**
     * exp(E_x KL(p(y|x) ‖ p(y))) per split of {@code probabilities} [n, classes], mean and standard
     * deviation over {@code splits} splits (Salimans et al. 2016 use 10). Between 1 (every image
     * gets the same prediction, or none is confident) and the number of classes (confident and
     * balanced).
     */
    public static Estimate inceptionScore(Tensor probabilities, int splits) {
        long n = probabilities.size(0);
        if (probabilities.dim() != 2 || splits < 1 || n < splits) {
            throw new DiffusionException("an Inception Score needs probabilities [n, classes] with at least one row per split, got "
                    + Arrays.toString(probabilities.shape()) + " and " + splits + " splits");
        }
        double[] scores = new double[splits];
        try (Scope s = Scope.open()) {
            Tensor p = probabilities.to(DType.FLOAT64).clampMin(1e-12);
            for (int i = 0; i < splits; i++) {
                long from = i * n / splits;
                long to = (i + 1) * n / splits;
                Tensor part = p.narrow(0, from, to - from);
                Tensor marginal = part.mean(0, true);
                double kl = part.mul(part.log().sub(marginal.log())).sum(1, false).mean().item();
                scores[i] = Math.exp(kl);
            }
        }
        return summarize(scores);
    }

    private static Estimate summarize(double[] v) {
        double mean = Arrays.stream(v).average().orElse(Double.NaN);
        double var = v.length < 2 ? 0 : Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / (v.length - 1);
        return new Estimate(mean, Math.sqrt(var));
    }

    private static void checkFeatures(Tensor a, Tensor b) {
        if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(1)) {
            throw new DiffusionException("feature sets must be [n, d] with the same d, got " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()));
        }
        if (a.size(0) < 2 || b.size(0) < 2) {
            throw new DiffusionException("each feature set needs at least two vectors");
        }
    }
}
