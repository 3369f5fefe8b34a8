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
        out.printf("  %-8s %-11s %s%n", "NAME", "ORDER", "DESCRIPTION");
        for (Samplers.Entry e : Samplers.entries()) {
            out.printf("  %-8s %-11s %s%n", e.name(), e.order(), e.description());
        }
        out.flush();
    }
}
