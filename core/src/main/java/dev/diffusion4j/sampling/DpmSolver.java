package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * The single-step DPM-Solvers of Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion
 * Probabilistic Model Sampling in Around 10 Steps", in the Denoiser's coordinates: the noise
 * prediction ε(x; σ) = (x − D(x; σ))/σ and λ = −log σ, so a step from σ to σ' has
 * h = log(σ/σ') and intermediate levels σ·e^{−r·h}. (The paper's x̃ = α·x, σ̃ = α·σ: dividing its
 * updates by α at the target level gives these.)
 * <pre>
 * DPM-Solver-1 (eq. 3.7):  x' = x − σ'(e^h − 1)·ε(x; σ)
 * DPM-Solver-2 (Alg. 4):   u = x − σ_s(e^{r₁h} − 1)·ε₀,   x' = x − σ'(e^h − 1)·ε₀ − σ'/(2r₁)·(e^h − 1)·(ε(u; σ_s) − ε₀)
 * DPM-Solver-3 (Alg. 5):   u₁ as above with r₁ = 1/3,  D₁ = ε(u₁; σ_{s₁}) − ε₀
 *                          u₂ = x − σ_{s₂}(e^{r₂h} − 1)·ε₀ − σ_{s₂}·(r₂/r₁)·((e^{r₂h} − 1)/(r₂h) − 1)·D₁,   r₂ = 2/3
 *                          x' = x − σ'(e^h − 1)·ε₀ − σ'/r₂·((e^h − 1)/h − 1)·(ε(u₂; σ_{s₂}) − ε₀)
 * </pre>
 * DPM-Solver-k has global order k in λ. ((e^z − 1)/z − 1 is evaluated as z·φ₂(z) to keep small
 * steps exact.)
 */
final class DpmSolver {
    /** The noise prediction ε(x; σ) = (x − D(x; σ))/σ of the model being sampled. */
    @FunctionalInterface
    interface Eps {
        Tensor at(Tensor x, double sigma);
    }

    /** r₁ of DPM-Solver-2 used alone (the paper's default). */
    static final double R_SECOND = 0.5;
    /** r₁ and r₂ of DPM-Solver-3. */
    static final double R1 = 1.0 / 3;
    static final double R2 = 2.0 / 3;

    private DpmSolver() {
    }

    /** One step of DPM-Solver-{@code order} (1, 2 or 3) from σ to σ' given ε₀ = ε(x; σ). */
    static Tensor step(int order, Eps eps, Tensor x, Tensor eps0, double sigma, double sigmaNext) {
        return switch (order) {
            case 1 -> first(x, eps0, sigma, sigmaNext);
            case 2 -> second(x, eps0, eps.at(firstStage(x, eps0, sigma, R_SECOND, sigmaNext), stageSigma(sigma, sigmaNext, R_SECOND)),
                    sigma, sigmaNext, R_SECOND);
            case 3 -> {
                Tensor eps1 = eps.at(firstStage(x, eps0, sigma, R1, sigmaNext), stageSigma(sigma, sigmaNext, R1));
                yield third(x, eps0, eps.at(secondStage(x, eps0, eps1, sigma, sigmaNext), stageSigma(sigma, sigmaNext, R2)), sigma, sigmaNext);
            }
            default -> throw new IllegalArgumentException("DPM-Solver order " + order);
        };
    }

    /** DPM-Solver-1: x − σ'(e^h − 1)·ε₀. */
    static Tensor first(Tensor x, Tensor eps0, double sigma, double sigmaNext) {
        return x.sub(eps0.mul(sigmaNext * Math.expm1(Math.log(sigma / sigmaNext))));
    }

    /** σ_s = σ·e^{−r·h}, the level of an intermediate stage. */
    static double stageSigma(double sigma, double sigmaNext, double r) {
        return sigma * Math.exp(-r * Math.log(sigma / sigmaNext));
    }

    /** u = x − σ_s(e^{r·h} − 1)·ε₀: the DPM-Solver-1 step to the stage level σ·e^{−r·h}. */
    static Tensor firstStage(Tensor x, Tensor eps0, double sigma, double r, double sigmaNext) {
        return first(x, eps0, sigma, stageSigma(sigma, sigmaNext, r));
    }

    /** DPM-Solver-2 with stage ratio r₁, given ε₁ at its stage. */
    static Tensor second(Tensor x, Tensor eps0, Tensor eps1, double sigma, double sigmaNext, double r1) {
        double h = Math.log(sigma / sigmaNext);
        return first(x, eps0, sigma, sigmaNext).sub(eps1.sub(eps0).mul(sigmaNext / (2 * r1) * Math.expm1(h)));
    }

    /** u₂ of DPM-Solver-3, given ε₁ at the first stage (r₁ = 1/3). */
    static Tensor secondStage(Tensor x, Tensor eps0, Tensor eps1, double sigma, double sigmaNext) {
        double h = Math.log(sigma / sigmaNext);
        double s2 = stageSigma(sigma, sigmaNext, R2);
        return first(x, eps0, sigma, s2).sub(eps1.sub(eps0).mul(s2 * (R2 / R1) * R2 * h * Phi.phi(2, R2 * h)));
    }

    /** DPM-Solver-3's final update, given ε₂ at the second stage (r₂ = 2/3). */
    static Tensor third(Tensor x, Tensor eps0, Tensor eps2, double sigma, double sigmaNext) {
        double h = Math.log(sigma / sigmaNext);
        return first(x, eps0, sigma, sigmaNext).sub(eps2.sub(eps0).mul(sigmaNext / R2 * h * Phi.phi(2, h)));
    }
}
