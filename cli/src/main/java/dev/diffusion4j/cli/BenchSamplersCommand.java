package dev.diffusion4j.cli;

import dev.diffusion4j.bench.SamplerBenchmark;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.io.PngWriter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Quality against cost for every registered sampler on the analytic oracle (no training noise),
 * and the time the sampling loop adds on top of a network's own evaluations.
 */
@Command(name = "bench-samplers", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Quality-vs-NFE table of every sampler on the exact denoiser of a Gaussian mixture: the squared energy "
                + "distance of the samples to the true distribution, as a multiple of the distance between two independent "
                + "true samples of the same size (1 = as good as exact sampling). Also measures the time the sampler loop "
                + "adds over the network's own evaluations."})
final class BenchSamplersCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--oracle", defaultValue = "8gaussians", description = "Built-in mixture data set (default: ${DEFAULT-VALUE}).")
    String oracle;

    @Option(names = "--nfe", split = ",", defaultValue = "5,10,20,50,100,1000", description = "Evaluation budgets (default: ${DEFAULT-VALUE}).")
    int[] nfe;

    @Option(names = "--num", defaultValue = "2000", description = "Samples per cell (default: ${DEFAULT-VALUE}).")
    int num;

    @Option(names = "--draws", defaultValue = "3",
            description = "Independent noise draws averaged per cell: one draw's ratio scatters by ±50%% even for exact samples (default: ${DEFAULT-VALUE}).")
    int draws;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the noise and the reference draws (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--table", description = "Also write the table as Markdown to this file.")
    Path table;

    @Option(names = "--plot", description = "Also write a PNG chart of the table to this file.")
    Path plot;

    @Option(names = "--overhead-batch", defaultValue = "4096", description = "Batch of the loop-overhead measurement (default: ${DEFAULT-VALUE}).")
    int overheadBatch;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        SamplerBenchmark bench = new SamplerBenchmark(oracle, nfe, num, draws, seed);
        int[] budgets = bench.budgets();
        out.printf(Locale.ROOT, "energy distance / floor on oracle:%s, %d samples per cell (1.00 = exact sampling)%n", oracle, num);
        out.printf(Locale.ROOT, "  %-20s", "sampler \\ NFE");
        for (int b : budgets) {
            out.printf(Locale.ROOT, "%8d", b);
        }
        out.println();
        List<SamplerBenchmark.Row> rows = bench.rows(row -> {
            out.printf(Locale.ROOT, "  %-20s", row.sampler());
            for (double r : row.ratio()) {
                out.print(Double.isNaN(r) ? "       —" : String.format(Locale.ROOT, "%8.2f", r));
            }
            out.println();
            out.flush();
        });
        List<String> adaptive = bench.adaptive();
        adaptive.forEach(line -> out.println("  " + line));
        double overhead = SamplerBenchmark.loopOverhead(overheadBatch);
        out.printf(Locale.ROOT, "sampler loop overhead (DDIM, 50 steps, batch %d, default MLP): %.1f%% of the network's time (median of 5 runs)%n",
                overheadBatch, 100 * overhead);
        if (table != null) {
            AtomicFiles.writeString(table, bench.markdown(rows, adaptive, overhead, overheadBatch));
            out.println("table: " + table);
        }
        if (plot != null) {
            PngWriter.write(plot, bench.plot(rows), Map.of("oracle", oracle, "samples", Integer.toString(num), "draws", Integer.toString(draws)));
            out.println("plot: " + plot);
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("oracle", oracle);
            m.put("nfe", budgets);
            Map<String, Object> cells = new LinkedHashMap<>();
            for (SamplerBenchmark.Row r : rows) {
                cells.put(r.sampler(), r.ratio());
            }
            m.put("energy_ratio", cells);
            m.put("loop_overhead", overhead);
            JsonLine.print(out, m);
        }
        return 0;
    }
}
