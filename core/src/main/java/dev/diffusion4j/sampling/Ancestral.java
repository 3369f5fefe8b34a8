package dev.diffusion4j.sampling;

/**
 * An ancestral step from σ to σ' split into a deterministic move down to σ_down and fresh noise of
 * standard deviation σ_up, with σ_down² + σ_up² = σ'². At η = 1, σ_up² = σ'²(σ² − σ'²)/σ² is the
 * variance of the DDPM posterior q(x_σ' | x_σ, x₀) in variance-exploding coordinates (Ho et al.
 * 2020, eq. 7), so an Euler move to σ_down lands on its mean; η scales σ_up, η = 0 is deterministic.
 */
record Ancestral(double down, double up) {
    static Ancestral split(double sigma, double sigmaNext, double eta) {
        double up = Math.min(sigmaNext, eta * Math.sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext)) / sigma);
        return new Ancestral(Math.sqrt(sigmaNext * sigmaNext - up * up), up);
    }
}
