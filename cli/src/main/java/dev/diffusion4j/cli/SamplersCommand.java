package dev.diffusion4j.cli;

import dev.diffusion4j.sampling.Samplers;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Lists the registered samplers. */
@Command(name = "samplers", mixinStandardHelpOptions = true, description = "List the samplers (use with diffuse sample --sampler NAME).")
final class SamplersCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        int width = "NAME".length();
        for (Samplers.Entry e : Samplers.entries()) {
            width = Math.max(width, e.name().length());
        }
        String row = "  %-" + width + "s  %-10s  %s%n";
        out.printf(row, "NAME", "ORDER", "DESCRIPTION");
        for (Samplers.Entry e : Samplers.entries()) {
            out.printf(row, e.name(), e.order(), e.description());
        }
        out.printf("%nOrder: convergence order of the deterministic form; 'stochastic': draws fresh noise every step (--eta 0 removes it from the ancestral and SDE samplers).%n"
                + "--order K: order of lms, deis, dpm_solver, dpm_solver_singlestep and unipc (the column shows the default's); --variant bh1|bh2: unipc's B(h).%n"
                + "Noise levels: --sigma-schedule default|model|karras|exponential|polyexponential (default: the sampler's choice, the model's own grid "
                + "for most; karras needs about 25 steps or more when σ_max is large).%n"
                + "Score SDEs (sde_euler, pc): --sde vp|ve|subvp; pc: --predictor, --snr, --corrector-steps; "
                + "annealed_langevin: --steps (levels), --level-steps, --langevin-eps; adaptive: --rtol, --atol.%n");
        out.flush();
    }
}
