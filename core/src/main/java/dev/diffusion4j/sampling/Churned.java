package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * The state after Karras et al.'s churn (2022, Algorithm 2, lines 4–6): at σ_i with γ_i &gt; 0,
 * σ̂ = σ_i(1 + γ_i) and x̂ = x_i + √(σ̂² − σ_i²)·S_noise·z. With γ_i = 0 it is the step's own state.
 */
record Churned(Tensor x, double sigma) {
    static Churned of(SigmaSampler.Step s, SamplerOptions options) {
        double gamma = options.churn().gamma(s.sigma(), s.steps());
        if (gamma == 0) {
            return new Churned(s.x(), s.sigma());
        }
        double sigmaHat = s.sigma() * (1 + gamma);
        double added = Math.sqrt(sigmaHat * sigmaHat - s.sigma() * s.sigma());
        return new Churned(s.x().add(s.noise().mul(added * options.sNoise())), sigmaHat);
    }
}
