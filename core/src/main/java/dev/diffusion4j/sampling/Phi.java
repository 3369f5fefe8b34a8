package dev.diffusion4j.sampling;

/**
 * The φ-functions of exponential integrators, φ_k(z) = ∫₀¹ e^{(1−s)z}·s^{k−1}/(k−1)! ds
 * (φ₀(z) = e^z, φ₁(z) = (e^z − 1)/z, φ_{k+1}(z) = (φ_k(z) − 1/k!)/z). The exponential-integrator
 * samplers weight the Taylor coefficients of ε̂ or x̂₀ (in λ = −log σ) with them: over a step of
 * length h in λ, ∫₀^h e^{h−u}·u^k/k! du = h^{k+1}·φ_{k+1}(h).
 */
final class Phi {
    private Phi() {
    }

    /** φ_k(z), accurate for small |z| too (where the recurrence would cancel catastrophically). */
    static double phi(int k, double z) {
        if (k == 0) {
            return Math.exp(z);
        }
        if (Math.abs(z) < 1) {                 // φ_k(z) = Σ_j z^j/(j+k)!
            double term = 1;
            for (int i = 2; i <= k; i++) {
                term /= i;
            }
            double sum = 0;
            for (int j = 0; j < 30; j++) {
                sum += term;
                term *= z / (j + k + 1);
            }
            return sum;
        }
        double p = Math.expm1(z) / z;          // φ₁
        double inverseFactorial = 1;
        for (int n = 1; n < k; n++) {
            inverseFactorial /= n;
            p = (p - inverseFactorial) / z;    // φ_{n+1} = (φ_n − 1/n!)/z
        }
        return p;
    }
}
