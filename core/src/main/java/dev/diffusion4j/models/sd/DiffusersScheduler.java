package dev.diffusion4j.models.sd;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.schedule.SigmaSchedule;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A diffusers scheduler as the project's sampler walking diffusers' own grid, so that a Stable
 * Diffusion pipeline runs the same steps as diffusers' does: which levels, which timestep the U-Net
 * is fed at each, how large the starting noise is, and whether the run ends on a noisy level whose
 * latents are handed on in variance-preserving units. The step formulas are the samplers' own
 * (DDIM, Euler, Euler ancestral and DPM-Solver++(2M) are diffusers' step for step); only the grid is
 * diffusers'. K steps over T training timesteps, r = ⌊T/K⌋; the pipeline forces {@code steps_offset}
 * to 1 whatever the config says, and so does this:
 * <pre>
 * DDIM       leading (K−1−i)·r + 1 · trailing rint(T − i·T/K) − 1 · linspace rint(i·(T−1)/(K−1)), descending
 *            levels σ(t_i); each step lands on σ(t_i − r); the last on σ(0) unless set_alpha_to_one
 * Euler(a)   the same rules unrounded for linspace; σ interpolated linearly in σ between table entries;
 *            Karras levels between the grid's own ends; start σ₀·n for linspace and trailing, √(1+σ₀²)·n for leading
 * DPM-Solver leading (K−i)·⌊T/(K+1)⌋ + 1 · linspace K+1 points without the last; Karras levels over the whole
 *            table with the U-Net fed round(t(σ))
 * </pre>
 *
 * @param sampler     the project's sampler that steps as the scheduler does
 * @param sigmas      the grid, descending; its last level is 0 or, for DDIM without set_alpha_to_one, σ(0)
 * @param timesteps   the U-Net's timestep at each level but the last
 * @param startScale  the standard deviation of the starting state x = n·startScale
 * @param vpOutput    whether the result is handed on as x/√(1+σ_end²), the scheduler's variance-preserving latents
 * @param className   the diffusers scheduler reproduced
 * @param spacing     its timestep spacing
 */
public record DiffusersScheduler(String sampler, double[] sigmas, double[] timesteps, double startScale, boolean vpOutput,
                                 String className, String spacing) {
    /** diffusers' default number of inference steps, which the project's samplers that match its schedulers share. */
    public static final int DEFAULT_STEPS = 50;

    /**
     * The diffusers scheduler that steps as {@code sampler} with {@code options} does, configured by a
     * pipeline folder's {@code folderConfig} with the request's {@code grid} choices on top (its
     * spacing, Karras levels), for {@code steps} steps; null where diffusers has no scheduler that
     * matches (another sampler, σ schedule or ρ, churn, η of an ancestral step other than 1), and an
     * error naming the reason where the match is not reproduced yet.
     */
    public static DiffusersScheduler forSampler(String sampler, SamplerOptions options, GridSpec grid, Map<String, Object> folderConfig,
                                                NoiseSchedule schedule, int steps) {
        boolean plainNoise = (Double.isNaN(options.eta()) || options.eta() == 1) && options.sNoise() == 1;
        Map<String, Object> config = new HashMap<>(folderConfig);
        String className;
        switch (sampler.toLowerCase(Locale.ROOT)) {
            case "ddim" -> className = "DDIMScheduler";
            case "euler" -> {
                if (options.churn().sChurn() > 0) {
                    return null;
                }
                className = "EulerDiscreteScheduler";
            }
            case "euler_ancestral" -> {
                if (!plainNoise) {
                    return null;
                }
                className = "EulerAncestralDiscreteScheduler";
            }
            case "dpmpp_2m", "dpmpp_2m_sde" -> {
                if (sampler.equalsIgnoreCase("dpmpp_2m_sde") && !plainNoise) {
                    return null;
                }
                className = "DPMSolverMultistepScheduler";
                config.put("algorithm_type", sampler.equalsIgnoreCase("dpmpp_2m") ? "dpmsolver++" : "sde-dpmsolver++");
                config.putIfAbsent("solver_order", 2);
            }
            default -> {
                return null;
            }
        }
        switch (grid.schedule()) {
            case DEFAULT -> { }
            case MODEL -> config.put("use_karras_sigmas", false);
            case KARRAS -> config.put("use_karras_sigmas", true);
            default -> {
                return null;
            }
        }
        if (!Double.isNaN(grid.rho()) && grid.rho() != 7) {
            return null;
        }
        if (grid.spacing() != null) {
            config.put("timestep_spacing", grid.spacing().configName());
        }
        return of(className, config, schedule, steps);
    }

    /** The plan of scheduler {@code className} with {@code config} (scheduler_config.json) for {@code steps} steps. */
    public static DiffusersScheduler of(String className, Map<String, Object> config, NoiseSchedule schedule, int steps) {
        int trainSteps = schedule.numTimesteps();
        if (steps < 1 || steps > trainSteps) {
            throw new DiffusionException("steps must be between 1 and the scheduler's " + trainSteps + " training timesteps, got " + steps);
        }
        String spacing = String.valueOf(config.getOrDefault("timestep_spacing", "leading"));
        boolean karras = Boolean.TRUE.equals(config.get("use_karras_sigmas"));
        return switch (className) {
            case "DDIMScheduler" -> ddim(config, schedule, steps, spacing);
            case "EulerDiscreteScheduler" -> euler("euler", schedule, steps, spacing, karras);
            case "EulerAncestralDiscreteScheduler" -> euler("euler_ancestral", schedule, steps, spacing, false);
            case "DPMSolverMultistepScheduler" -> dpmSolver(config, schedule, steps, spacing, karras);
            default -> throw new DiffusionException("scheduler " + className + " is not reproduced step for step yet (DDIMScheduler, "
                    + "EulerDiscreteScheduler, EulerAncestralDiscreteScheduler and DPMSolverMultistepScheduler are)");
        };
    }

    private static DiffusersScheduler ddim(Map<String, Object> config, NoiseSchedule schedule, int steps, String spacing) {
        int trainSteps = schedule.numTimesteps();
        int ratio = trainSteps / steps;
        double[] t = integerTimesteps(spacing, trainSteps, steps, "DDIMScheduler");
        for (int i = 0; i + 1 < steps; i++) {
            if (t[i] - ratio != t[i + 1]) {
                throw new DiffusionException("DDIMScheduler with " + spacing + " spacing and " + steps + " steps lands each step on t − "
                        + ratio + " (" + (t[i] - ratio) + "), not on the next timestep it runs at (" + t[i + 1] + "): not reproduced "
                        + "yet; leading spacing, or a step count dividing " + trainSteps + ", is");
            }
        }
        boolean toOne = !Boolean.FALSE.equals(config.getOrDefault("set_alpha_to_one", true));
        double[] sigmas = new double[steps + 1];
        for (int i = 0; i < steps; i++) {
            sigmas[i] = schedule.sigma((int) t[i]);
        }
        sigmas[steps] = toOne ? 0 : schedule.sigma(0);
        if (sigmas[steps] >= sigmas[steps - 1]) {
            throw new DiffusionException("DDIMScheduler with linspace spacing ends at t = 0 and its last step has no length; use leading "
                    + "or trailing spacing");
        }
        return new DiffusersScheduler("ddim", sigmas, t, vpStart(sigmas[0]), true, "DDIMScheduler", spacing);
    }

    private static DiffusersScheduler euler(String sampler, NoiseSchedule schedule, int steps, String spacing, boolean karras) {
        String owner = sampler.equals("euler") ? "EulerDiscreteScheduler" : "EulerAncestralDiscreteScheduler";
        int trainSteps = schedule.numTimesteps();
        double[] t = switch (spacing) {
            case "linspace" -> {
                double[] l = new double[steps];
                for (int i = 0; i < steps; i++) {
                    l[i] = steps == 1 ? 0 : (trainSteps - 1) * (1 - (double) i / (steps - 1));
                }
                yield l;
            }
            default -> integerTimesteps(spacing, trainSteps, steps, owner);
        };
        double[] table = schedule.sigmas();
        double[] sigmas = new double[steps + 1];
        for (int i = 0; i < steps; i++) {
            sigmas[i] = interpolate(table, t[i]);
        }
        double start = spacing.equals("leading") ? vpStart(sigmas[0]) : sigmas[0];
        if (karras) {
            // between the spacing grid's own ends, the U-Net at the unrounded t(σ)
            double[] k = SigmaSchedule.karras(steps, sigmas[steps - 1], sigmas[0], 7);
            return new DiffusersScheduler(sampler, Arrays.copyOf(k, steps + 1), null, spacing.equals("leading") ? vpStart(k[0]) : k[0], false,
                    owner, spacing);
        }
        return new DiffusersScheduler(sampler, sigmas, t, start, false, owner, spacing);
    }

    private static DiffusersScheduler dpmSolver(Map<String, Object> config, NoiseSchedule schedule, int steps, String spacing,
                                                boolean karras) {
        Object algorithm = config.getOrDefault("algorithm_type", "dpmsolver++");
        String sampler = switch (String.valueOf(algorithm)) {
            case "dpmsolver++" -> "dpmpp_2m";
            case "sde-dpmsolver++" -> "dpmpp_2m_sde";
            default -> throw new DiffusionException("DPMSolverMultistepScheduler with algorithm_type " + algorithm + " is not reproduced "
                    + "yet (dpmsolver++ and sde-dpmsolver++ are)");
        };
        Object order = config.getOrDefault("solver_order", 2);
        Object solverType = config.getOrDefault("solver_type", "midpoint");
        Object finalSigmas = config.getOrDefault("final_sigmas_type", "zero");
        if (!(order instanceof Number o && o.intValue() == 2) || !"midpoint".equals(solverType) || !"zero".equals(finalSigmas)) {
            throw new DiffusionException("DPMSolverMultistepScheduler is reproduced with solver_order 2, solver_type midpoint and "
                    + "final_sigmas_type zero; this one has " + order + ", " + solverType + " and " + finalSigmas);
        }
        int trainSteps = schedule.numTimesteps();
        double[] t = new double[steps];
        switch (spacing) {
            case "leading" -> {
                int ratio = trainSteps / (steps + 1);
                for (int i = 0; i < steps; i++) {
                    t[i] = (double) (steps - i) * ratio + 1;
                }
            }
            case "linspace" -> {
                for (int i = 0; i < steps; i++) {
                    t[i] = Math.rint((trainSteps - 1) * (1 - (double) i / steps));
                }
            }
            case "trailing" -> t = integerTimesteps(spacing, trainSteps, steps, "DPMSolverMultistepScheduler");
            default -> throw new DiffusionException("DPMSolverMultistepScheduler: unknown timestep_spacing '" + spacing + "' (leading, "
                    + "trailing or linspace)");
        }
        double[] sigmas = new double[steps + 1];
        if (karras) {
            double[] table = schedule.sigmas();
            double[] k = SigmaSchedule.karras(steps, table[0], table[trainSteps - 1], 7);
            System.arraycopy(k, 0, sigmas, 0, steps);
            try (var s = dev.diffusion4j.tensor.Scope.open()) {
                double[] continuous = schedule.sigmaToT(dev.diffusion4j.tensor.Tensor.of(k, steps)).toDoubleArray();
                for (int i = 0; i < steps; i++) {
                    t[i] = Math.rint(continuous[i]);
                }
            }
        } else {
            for (int i = 0; i < steps; i++) {
                sigmas[i] = schedule.sigma((int) t[i]);
            }
        }
        return new DiffusersScheduler(sampler, sigmas, t, vpStart(sigmas[0]), false, "DPMSolverMultistepScheduler", spacing);
    }

    /** Leading (K−1−i)·⌊T/K⌋ + 1 or trailing rint(T − i·T/K) − 1, descending, as numpy rounds (half to even). */
    private static double[] integerTimesteps(String spacing, int trainSteps, int steps, String owner) {
        double[] t = new double[steps];
        for (int i = 0; i < steps; i++) {
            t[i] = switch (spacing) {
                case "leading" -> (double) (steps - 1 - i) * (trainSteps / steps) + 1;
                case "trailing" -> Math.rint(trainSteps - i * (double) trainSteps / steps) - 1;
                case "linspace" -> Math.rint((trainSteps - 1) * (1 - (steps == 1 ? 0 : (double) i / (steps - 1))));
                default -> throw new DiffusionException(owner + ": unknown timestep_spacing '" + spacing + "' (leading, trailing or "
                        + "linspace)");
            };
        }
        return t;
    }

    /** σ at a fractional timestep, linear between table entries (numpy's interp). */
    private static double interpolate(double[] table, double t) {
        int low = (int) Math.floor(t);
        if (low >= table.length - 1) {
            return table[table.length - 1];
        }
        double w = t - low;
        return table[low] * (1 - w) + table[low + 1] * w;
    }

    /** √(1+σ²): a variance-preserving scheduler's latents n at σ, as the VE state's scale. */
    private static double vpStart(double sigma) {
        return Math.sqrt(1 + sigma * sigma);
    }
}
