package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * Pseudo numerical methods (Liu et al. 2022, "PNDM", sec. 3.3): a classical integrator is run on
 * ε̂ = (x − x̂₀)/σ, and its combined ε′ is applied through the DDIM transfer
 * φ(x, ε′, σ → σ′), which in these coordinates is x + (σ′ − σ)·ε′. The pseudo linear multistep
 * (PLMS) step uses 4th-order Adams–Bashforth on the last four ε̂:
 * <pre>
 * ε′ = (55·ε̂_i − 59·ε̂_{i−1} + 37·ε̂_{i−2} − 9·ε̂_{i−3})/24,   x_{i+1} = φ(x_i, ε′, σ_i → σ_{i+1})
 * </pre>
 * Its first three steps need a warm-up, and the two registered names differ only there:
 * <ul>
 * <li>{@code pndm} (the paper's PNDM): steps 0–2 are pseudo Runge–Kutta steps with 4 evaluations,
 *     the second and third at σ_mid = σ((t_i + t_{i+1})/2), halfway in the diffusion time
 *     ({@link VpTime}; the paper's t − δ/2):
 *     ε₂ = ε̂(φ(x, ε₁, σ_i → σ_mid)), ε₃ = ε̂(φ(x, ε₂, σ_i → σ_mid)), ε₄ = ε̂(φ(x, ε₃, σ_i → σ_{i+1})),
 *     ε′ = (ε₁ + 2ε₂ + 2ε₃ + ε₄)/6;</li>
 * <li>{@code plms} (the form popularised by latent diffusion): step 0 is a pseudo improved Euler
 *     step with 2 evaluations, ε′ = (ε̂_0 + ε̂(φ(x_0, ε̂_0, σ_0 → σ_1)))/2, then Adams–Bashforth of
 *     order 2 (ε′ = (3ε̂_1 − ε̂_0)/2) and 3 (ε′ = (23ε̂_2 − 16ε̂_1 + 5ε̂_0)/12) before order 4.</li>
 * </ul>
 * In these coordinates PLMS is exactly Adams–Bashforth 4 in σ with the weights of equal steps
 * ({@link LmsSampler lms} is its variable-step form). The paper's steps are equal in t, not in σ,
 * and on any grid not uniform in σ the fixed weights are off by O(h) relative, an O(h³) local
 * error: whatever the warm-up, the method is second order (both measure 2.0 against the exact flow
 * where lms measures 3.8). Evaluations: pndm N + 9, plms N + 1 (N ≥ 4 steps ending at 0).
 * Final step: to σ = 0 it returns x̂₀.
 */
public final class PndmSampler extends SigmaSampler {
    private final boolean rungeKuttaWarmUp;

    private PndmSampler(SamplerOptions options, boolean rungeKuttaWarmUp) {
        super(options);
        this.rungeKuttaWarmUp = rungeKuttaWarmUp;
    }

    /** PNDM: three pseudo Runge–Kutta warm-up steps, then PLMS. */
    public static PndmSampler pndm(SamplerOptions options) {
        return new PndmSampler(options, true);
    }

    /** PLMS: pseudo improved Euler, then Adams–Bashforth of orders 2, 3 and 4. */
    public static PndmSampler plms(SamplerOptions options) {
        return new PndmSampler(options, false);
    }

    @Override
    public String name() {
        return rungeKuttaWarmUp ? "pndm" : "plms";
    }

    @Override
    protected int history() {
        return 3;
    }

    @Override
    protected Tensor step(Step s) {
        Tensor e0 = derivative(s.x(), s.denoised(), s.sigma());             // ε̂_i = (x_i − x̂₀)/σ_i
        s.remember(e0);
        if (s.sigmaNext() == 0) {
            return s.denoised();
        }
        int i = s.index();
        Tensor e;
        if (rungeKuttaWarmUp && i < 3) {
            e = pseudoRungeKutta(s, e0);
        } else if (i == 0) {                                                 // pseudo improved Euler
            Tensor euler = transfer(s.x(), e0, s.sigma(), s.sigmaNext());
            e = e0.add(epsilon(s, euler, s.sigmaNext())).mul(0.5);
        } else if (i == 1) {
            e = e0.mul(3).sub(s.past(1)).div(2);
        } else if (i == 2) {
            e = e0.mul(23).sub(s.past(1).mul(16)).add(s.past(2).mul(5)).div(12);
        } else {
            e = e0.mul(55).sub(s.past(1).mul(59)).add(s.past(2).mul(37)).sub(s.past(3).mul(9)).div(24);
        }
        return transfer(s.x(), e, s.sigma(), s.sigmaNext());
    }

    /** PNDM's pseudo Runge–Kutta ε′ = (ε₁ + 2ε₂ + 2ε₃ + ε₄)/6, with ε₁ = ε̂(x_i). */
    private static Tensor pseudoRungeKutta(Step s, Tensor e1) {
        VpTime time = VpTime.of(s.model());
        double mid = time.sigma((time.t(s.sigma()) + time.t(s.sigmaNext())) / 2);
        Tensor e2 = epsilon(s, transfer(s.x(), e1, s.sigma(), mid), mid);
        Tensor e3 = epsilon(s, transfer(s.x(), e2, s.sigma(), mid), mid);
        Tensor e4 = epsilon(s, transfer(s.x(), e3, s.sigma(), s.sigmaNext()), s.sigmaNext());
        return e1.add(e2.add(e3).mul(2)).add(e4).div(6);
    }

    /** The DDIM transfer φ(x, ε, σ → σ′) = x + (σ′ − σ)·ε (DDIM's deterministic update in VE coordinates). */
    private static Tensor transfer(Tensor x, Tensor eps, double sigma, double sigmaTo) {
        return x.add(eps.mul(sigmaTo - sigma));
    }

    private static Tensor epsilon(Step s, Tensor y, double sigma) {
        return derivative(y, s.denoise(y, sigma), sigma);
    }
}
