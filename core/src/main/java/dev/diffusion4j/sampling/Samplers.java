package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** The sampler registry: look samplers up by name, list them with a description. */
public final class Samplers {
    /**
     * A registered sampler: name, one-line description, order of accuracy of its deterministic form
     * ("stochastic" for samplers that draw fresh noise by default), and its constructor.
     */
    public record Entry(String name, String description, String order, Function<SamplerOptions, Sampler> factory) {
    }

    private static final Map<String, Entry> REGISTRY = new LinkedHashMap<>();

    static {
        register(new Entry("ddpm", "DDPM ancestral sampling (Ho et al. 2020); β̃ or β variance; default: every training step", "stochastic", DdpmSampler::new));
        register(new Entry("ddim", "DDIM (Song et al. 2021); deterministic at eta=0, DDPM-like at eta=1; default 50 steps", "1", DdimSampler::new));
        register(new Entry("euler", "Euler on the probability-flow ODE (Karras et al. 2022, Alg. 2 without the correction); churn optional; default 50 steps",
                "1", EulerSampler::new));
        register(new Entry("euler_ancestral", "Euler step to σ_down plus fresh noise σ_up (eta, default 1); default 50 steps",
                "stochastic", EulerAncestralSampler::new));
        register(new Entry("heun", "Heun, the EDM sampler (Karras et al. 2022, Alg. 2) with optional churn; 2 evaluations per step; default 25 steps",
                "2", HeunSampler::new));
        register(new Entry("dpm2", "DPM-Solver-2: midpoint in log σ (Karras-style, optional churn); 2 evaluations per step; default 25 steps",
                "2", Dpm2Sampler::new));
        register(new Entry("dpm2_ancestral", "DPM-Solver-2 step to σ_down plus fresh noise σ_up (eta, default 1); default 25 steps",
                "stochastic", Dpm2AncestralSampler::new));
        register(new Entry("lms", "Linear multistep in σ, Lagrange-polynomial coefficients (order 1-4, default 4); default 50 steps",
                "4", LmsSampler::new));
        register(new Entry("dpmpp_2m", "DPM-Solver++(2M) (Lu et al. 2022, Alg. 2), multistep exponential integrator; default 50 steps",
                "2", DpmPP2MSampler::new));
        register(new Entry("dpmpp_2s_ancestral", "DPM-Solver++(2S) step to σ_down plus fresh noise σ_up (eta, default 1); default 25 steps",
                "stochastic", DpmPP2SAncestralSampler::new));
        register(new Entry("dpmpp_2m_sde", "SDE-DPM-Solver++(2M), midpoint correction (eta, default 1; eta=0 is dpmpp_2m); default 50 steps",
                "stochastic", DpmPP2MSdeSampler::new));
        register(new Entry("dpmpp_3m_sde", "SDE-DPM-Solver++(3M) (eta, default 1; third order at eta=0); default 50 steps",
                "stochastic", DpmPP3MSdeSampler::new));
        register(new Entry("pndm", "PNDM (Liu et al. 2022): 4th-order Adams-Bashforth on ε through the DDIM transfer after 3 pseudo Runge-Kutta "
                + "warm-up steps (4 evaluations each); default 50 steps", "2", PndmSampler::pndm));
        register(new Entry("plms", "PLMS (Liu et al. 2022): PNDM's pseudo linear multistep, warmed up by pseudo improved Euler (2 evaluations), "
                + "then Adams-Bashforth 2 and 3; default 50 steps", "2", PndmSampler::plms));
        register(new Entry("deis", "DEIS tAB (Zhang & Chen 2022): exponential integrator, ε extrapolated by a polynomial in the VP time "
                + "(order 1-3, default 3); default 50 steps", "3", DeisSampler::new));
        register(new Entry("dpm_solver", "DPM-Solver multistep with noise prediction (Lu et al. 2022), order 1-3 (default 3); default 50 steps",
                "3", DpmSolverSampler::new));
        register(new Entry("dpm_solver_singlestep", "DPM-Solver-1/2/3 singlestep (Lu et al. 2022, Alg. 1-2), order evaluations per step "
                + "(order 1-3, default 3); default ⌈50/order⌉ steps", "3", DpmSolverSinglestepSampler::new));
        register(new Entry("unipc", "UniPC (Zhao et al. 2023): UniP predictor + UniC corrector on x̂₀, variant bh1 or bh2 (default), "
                + "order 1-3 (default 2, accuracy 3); default 50 steps", "3", UniPcSampler::new));
        register(new Entry("rk45", "probability-flow ODE, adaptive Dormand–Prince RK45 in log σ (rtol = atol = 1e-5); steps chosen by error control", "5", ProbabilityFlowSampler::new));
        register(new Entry("sde_euler", "Euler–Maruyama on the reverse score SDE (Song et al. 2021), sde vp|ve|subvp, uniform in SDE time; "
                + "eta=0 is the probability-flow ODE; default 500 steps", "stochastic", SdeEulerSampler::new));
        register(new Entry("pc", "predictor–corrector (Song et al. 2021, Alg. 1-3): reverse-diffusion (or euler_maruyama) predictor + "
                + "Langevin corrector (snr 0.16, 1 step); sde vp|ve|subvp; default 200 steps, 2 evaluations each", "stochastic",
                PredictorCorrectorSampler::new));
        register(new Entry("annealed_langevin", "annealed Langevin dynamics, NCSN (Song & Ermon 2019, Alg. 1): 10 geometric levels × "
                + "100 steps, then a denoising step", "stochastic", AnnealedLangevinSampler::new));
        register(new Entry("flow_euler", "flow matching / rectified flow: Euler on dx_t/dt = v of the linear path, uniform in t; default 50 steps",
                "1", FlowEulerSampler::new));
        register(new Entry("flow_midpoint", "flow matching: explicit midpoint method, uniform in t; 2 evaluations per step; default 25 steps",
                "2", FlowMidpointSampler::new));
        register(new Entry("flow_heun", "flow matching: Heun's method, uniform in t; 2 evaluations per step; default 25 steps",
                "2", FlowHeunSampler::new));
        register(new Entry("flow_rk4", "flow matching: classical Runge–Kutta 4, uniform in t; 4 evaluations per step; default 13 steps",
                "4", FlowRk4Sampler::new));
        register(new Entry("dpm_fast", "DPM-Solver-fast (Lu et al. 2022): a budget of N evaluations (steps, default 20) in "
                + "order-3 steps uniform in log σ, the remainder as order 1/2", "3", DpmFastSampler::new));
        register(new Entry("dpm_adaptive", "DPM-Solver-23 (or -12 with order 2) with adaptive steps in log σ (Lu et al. 2022); "
                + "rtol 0.05, atol 0.0078 on the VP state", "3", DpmAdaptiveSampler::new));
    }

    private Samplers() {
    }

    private static void register(Entry e) {
        REGISTRY.put(e.name(), e);
    }

    public static List<Entry> entries() {
        return Collections.unmodifiableList(new ArrayList<>(REGISTRY.values()));
    }

    public static List<String> names() {
        return new ArrayList<>(REGISTRY.keySet());
    }

    /**
     * Runs {@code sampler} from {@code noise} on the σ grid it proposes for {@code model} under
     * {@code grid}: {@code sampler.sample(model, noise, sampler.sigmas(model, grid), g, listener)}.
     */
    public static Tensor run(Sampler sampler, Denoiser model, Tensor noise, GridSpec grid, Generator g, SamplingListener listener) {
        return sampler.sample(model, noise, sampler.sigmas(model, grid), g, listener);
    }

    /** {@link #run(Sampler, Denoiser, Tensor, GridSpec, Generator, SamplingListener)} without a listener. */
    public static Tensor run(Sampler sampler, Denoiser model, Tensor noise, GridSpec grid, Generator g) {
        return run(sampler, model, noise, grid, g, SamplingListener.NONE);
    }

    /** Creates the named sampler; unknown names list the available ones. */
    public static Sampler create(String name, SamplerOptions options) {
        Entry e = REGISTRY.get(name.toLowerCase(Locale.ROOT));
        if (e == null) {
            throw new DiffusionException("unknown sampler '" + name + "'; available: " + String.join(", ", REGISTRY.keySet()));
        }
        return e.factory().apply(options);
    }
}
