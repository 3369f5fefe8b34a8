package dev.diffusion4j.cli;

import dev.diffusion4j.data.CsvDataset;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.eval.SampleQuality;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Compares a CSV of samples with a data set, next to the data-vs-data floor. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure how close samples are to a data set: energy distance, MMD (RBF, median bandwidth) and sliced "
                + "Wasserstein, each next to its floor (two independent data sets of the same size)."})
final class EvalCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--samples", required = true, description = "CSV file of samples (e.g. from 'diffuse sample --out FILE.csv').")
    Path samples;

    @Option(names = "--data", required = true, description = "Built-in data set name or CSV file to compare against.")
    String data;

    @Option(names = "--repeats", defaultValue = "5", description = "Reference draws averaged (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for reference draws and projections (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        DataSource source = DataSources.open(data);
        try (Scope s = Scope.open()) {
            Tensor x = CsvDataset.read(samples).tensor();
            SampleQuality.Report r = SampleQuality.evaluate(x, source, repeats, seed);
            print(out, r, source.name());
            if (json) {
                JsonLine.print(out, r.toMap());
            }
        }
        return 0;
    }

    static void print(PrintWriter out, SampleQuality.Report r, String dataName) {
        out.printf(Locale.ROOT, "%d samples vs '%s' (reference sets of %d, %d draws)%n", r.samples(), dataName, r.referenceSize(), r.repeats());
        out.printf(Locale.ROOT, "  %-20s %12s %12s %8s%n", "metric", "samples", "floor", "ratio");
        row(out, "energy distance²", r.energyDistance(), r.energyFloor());
        row(out, "MMD² (RBF)", r.mmd(), r.mmdFloor());
        row(out, "sliced Wasserstein", r.slicedWasserstein(), r.slicedWassersteinFloor());
        out.printf(Locale.ROOT, "  energy distance is %.2f× the data-vs-data floor (%s)%n", r.energyRatio(),
                r.energyRatio() <= 3 ? "within the 3× quality bar" : "above the 3× quality bar");
        out.flush();
    }

    private static void row(PrintWriter out, String name, double v, double floor) {
        out.printf(Locale.ROOT, "  %-20s %12.6f %12.6f %8.2f%n", name, v, floor, v / floor);
    }
}
