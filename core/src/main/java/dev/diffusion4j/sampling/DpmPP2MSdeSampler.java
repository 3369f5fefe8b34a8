package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * SDE-DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++"), with k-diffusion's η and midpoint
 * correction: an exponential integrator of a reverse SDE in λ = −log σ on the data prediction.
 * For constant x̂₀ the first two terms and the noise below solve that SDE exactly over the step;
 * the third adds the second-order multistep correction. With h = log(σ_i/σ_{i+1}),
 * r = h_{i−1}/h and η = 1 by default:
 * <pre>
 * x_{i+1} = (σ_{i+1}/σ_i)·e^{−ηh}·x_i + (1 − e^{−(1+η)h})·x̂₀_i
 *         + ½·(1 − e^{−(1+η)h})·(x̂₀_i − x̂₀_{i−1})/r                (from the second step on)
 *         + σ_{i+1}·√(1 − e^{−2ηh})·S_noise·z
 * </pre>
 * η = 0 gives {@link DpmPP2MSampler}. One evaluation per step. Final step: to σ = 0 it returns x̂₀.
 */
public final class DpmPP2MSdeSampler extends SigmaSampler {
    public DpmPP2MSdeSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "dpmpp_2m_sde";
    }

    @Override
    protected int history() {
        return 1;
    }

    @Override
    protected Tensor step(Step s) {
        Tensor denoised = s.denoised();
        s.remember(denoised);
        if (s.sigmaNext() == 0) {
            return denoised;
        }
        double eta = options.etaOr(1);
        double h = Math.log(s.sigma() / s.sigmaNext());
        double phi1 = -Math.expm1(-(1 + eta) * h);   // 1 − e^{−(1+η)h}
        Tensor x = s.x().mul(s.sigmaNext() / s.sigma() * Math.exp(-eta * h)).add(denoised.mul(phi1));
        Tensor previous = s.past(1);
        if (previous != null) {
            double r = Math.log(s.sigma(-1) / s.sigma()) / h;
            x = x.add(denoised.sub(previous).mul(phi1 / (2 * r)));
        }
        if (eta > 0) {
            x = x.add(s.noise().mul(s.sigmaNext() * Math.sqrt(-Math.expm1(-2 * eta * h)) * options.sNoise()));
        }
        return x;
    }
}
