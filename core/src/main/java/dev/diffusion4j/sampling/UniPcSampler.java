package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;

/**
 * UniPC (Zhao et al. 2023, "UniPC: a unified predictor-corrector framework"), the data-prediction
 * form (x̂₀, like DPM-Solver++). With h = log(σ_i/σ_{i+1}) and, in σ coordinates, the shared base
 * x̃ = (σ_{i+1}/σ_i)·x_i + (1 − e^{−h})·x̂₀_i (DDIM / DPM-Solver++(1)):
 * <pre>
 * UniP-p:  x_{i+1} = x̃ + B(h)·Σ_{m&lt;p} a_m·D_m,        D_m = (x̂₀_{i−m} − x̂₀_i)/r_m,  r_m = (λ_{i−m} − λ_i)/h
 * UniC-p:  x_{i+1}ᶜ = x̃ + B(h)·(Σ_{m&lt;p} aᶜ_m·D_m + aᶜ_p·(x̂₀_{i+1} − x̂₀_i))   (r_p = 1)
 * </pre>
 * The coefficients solve R·a = g/B(h) with R_{nm} = r_m^{n−1} and g_n = n!·h·φ_{n+1}(−h) (the
 * weights of the Taylor terms of the exact solution), over the p − 1 predictor points or the p
 * corrector points; a 1×1 system is not solved but set to a₁ = ½ as in the paper, and only there
 * does the choice of B(h) matter — {@code bh1}: B(h) = h, {@code bh2}: B(h) = e^h − 1 (here
 * evaluated for the data-prediction step, 1 − e^{−h}; the default). UniC re-uses the model value
 * x̂₀_{i+1} = D(x_{i+1}; σ_{i+1}) that the next predictor needs anyway, taken at the uncorrected
 * point, so the corrector costs no evaluation and UniPC-p has order p + 1. Because both share x̃,
 * the corrected state is computed as the predicted one plus B(h)·(the difference of the two sums).
 * Order p = the {@code order} option, 1–3 (default 2, accuracy 3); the first steps use p = 1, 2, ….
 * One evaluation per step. Final step: the corrector is not applied after it; to σ = 0 it returns
 * x̂₀ (correcting x_{N−1} first would need one more evaluation to be of any use).
 */
public final class UniPcSampler extends SigmaSampler {
    static final int DEFAULT_ORDER = 2;
    static final int MAX_ORDER = 3;

    /** The B(h) of the update. */
    enum Variant {
        /** B(h) = h. */
        BH1,
        /** B(h) = e^h − 1. */
        BH2
    }

    private final int order;
    private final Variant variant;

    public UniPcSampler(SamplerOptions options) {
        super(options);
        this.order = options.orderOr(DEFAULT_ORDER, MAX_ORDER, "unipc");
        this.variant = switch (options.variantOr("bh2")) {
            case "bh1" -> Variant.BH1;
            case "bh2" -> Variant.BH2;
            default -> throw new DiffusionException("unknown unipc variant '" + options.variant() + "': use bh1 or bh2");
        };
    }

    @Override
    public String name() {
        return "unipc";
    }

    @Override
    protected int history() {
        return order;
    }

    @Override
    protected Tensor step(Step s) {
        Tensor denoised = s.denoised();          // x̂₀_i, at the predicted x_i
        s.remember(denoised);
        if (s.sigmaNext() == 0) {
            return denoised;
        }
        Tensor x = s.index() > 0 ? correct(s, s.x(), denoised) : s.x();
        return predict(s, x, denoised);
    }

    /** UniP-p from σ_i to σ_{i+1}, p = min(order, i + 1). */
    private Tensor predict(Step s, Tensor x, Tensor denoised) {
        int p = Math.min(order, s.index() + 1);
        double h = Math.log(s.sigma() / s.sigmaNext());
        Tensor next = x.mul(s.sigmaNext() / s.sigma()).add(denoised.mul(-Math.expm1(-h)));   // x̃
        if (p == 1) {
            return next;
        }
        double[] r = new double[p - 1];
        for (int m = 1; m < p; m++) {
            r[m - 1] = Math.log(s.sigma() / s.sigma(-m)) / h;
        }
        double[] a = coefficients(r, h);
        Tensor sum = null;
        for (int m = 1; m < p; m++) {
            Tensor dm = s.past(m).sub(denoised).mul(a[m - 1] / r[m - 1]);
            sum = sum == null ? dm : sum.add(dm);
        }
        return next.add(sum.mul(b(h)));
    }

    /**
     * UniC for the previous step σ_{i−1} → σ_i, whose predictor had order p = min(order, i): the
     * predicted x_i plus B(h)·(Σ (aᶜ_m − a_m)·D_m + aᶜ_p·(x̂₀_i − x̂₀_{i−1})).
     */
    private Tensor correct(Step s, Tensor predicted, Tensor denoised) {
        int p = Math.min(order, s.index());
        double h = Math.log(s.sigma(-1) / s.sigma());
        Tensor base = s.past(1);                                   // x̂₀_{i−1}
        double[] r = new double[p];
        for (int m = 1; m < p; m++) {
            r[m - 1] = Math.log(s.sigma(-1) / s.sigma(-1 - m)) / h;
        }
        r[p - 1] = 1;
        double[] ac = coefficients(r, h);
        double[] ap = p > 1 ? coefficients(Arrays.copyOf(r, p - 1), h) : new double[0];
        Tensor delta = denoised.sub(base).mul(ac[p - 1]);
        for (int m = 1; m < p; m++) {
            delta = delta.add(s.past(1 + m).sub(base).mul((ac[m - 1] - ap[m - 1]) / r[m - 1]));
        }
        return predicted.add(delta.mul(b(h)));
    }

    /** B(h) for the data-prediction step (the sign that makes it positive). */
    private double b(double h) {
        return variant == Variant.BH1 ? h : -Math.expm1(-h);
    }

    /** a solving Σ_m a_m·r_m^{n−1} = n!·h·φ_{n+1}(−h)/B(h), n = 1…|r|; a 1×1 system is a₁ = ½. */
    double[] coefficients(double[] r, double h) {
        int n = r.length;
        if (n == 1) {
            return new double[] {0.5};
        }
        double[][] m = new double[n][n + 1];
        double factorial = 1;
        for (int row = 0; row < n; row++) {
            factorial *= row + 1;
            for (int col = 0; col < n; col++) {
                m[row][col] = Math.pow(r[col], row);
            }
            m[row][n] = factorial * h * Phi.phi(row + 2, -h) / b(h);
        }
        return solve(m);
    }

    /** Gaussian elimination with partial pivoting on the augmented n×(n+1) matrix. */
    private static double[] solve(double[][] m) {
        int n = m.length;
        for (int c = 0; c < n; c++) {
            int pivot = c;
            for (int row = c + 1; row < n; row++) {
                if (Math.abs(m[row][c]) > Math.abs(m[pivot][c])) {
                    pivot = row;
                }
            }
            double[] t = m[c];
            m[c] = m[pivot];
            m[pivot] = t;
            for (int row = c + 1; row < n; row++) {
                double f = m[row][c] / m[c][c];
                for (int col = c; col <= n; col++) {
                    m[row][col] -= f * m[c][col];
                }
            }
        }
        double[] a = new double[n];
        for (int row = n - 1; row >= 0; row--) {
            double v = m[row][n];
            for (int col = row + 1; col < n; col++) {
                v -= m[row][col] * a[col];
            }
            a[row] = v / m[row][row];
        }
        return a;
    }
}
