package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.eval.SampleQuality;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.model.CountingDenoiser;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.DiscreteDenoiser;
import dev.diffusion4j.model.ForwardingDenoiser;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.model.MlpNetwork;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.sampling.Sampler;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.LineChart;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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

    /** Samplers whose step count follows from error control: rows of their own, by tolerance. */
    private static final List<String> ADAPTIVE = List.of("rk45", "dpm_adaptive");

    /** A sampler's row: the energy-distance ratio per budget (NaN where the budget is too small) and the NFE actually used. */
    record Row(String sampler, double[] ratio, int[] used) {
    }

    @Override
    public Integer call() {
        if (num < 10) {
            throw new DiffusionException("--num must be at least 10, got " + num);
        }
        int[] budgets = Arrays.stream(nfe).sorted().toArray();
        if (budgets.length == 0 || budgets[0] < 1) {
            throw new DiffusionException("--nfe needs positive evaluation budgets, got " + Arrays.toString(nfe));
        }
        PrintWriter out = spec.commandLine().getOut();
        DiffusionPipeline pipe = DiffusionPipeline.oracle(oracle);
        DataSource truth = DataSources.open(oracle);
        CountingDenoiser counted = new CountingDenoiser(pipe.denoiser());
        List<Row> rows = new ArrayList<>();
        out.printf(Locale.ROOT, "energy distance / floor on oracle:%s, %d samples per cell (1.00 = exact sampling)%n", oracle, num);
        out.printf(Locale.ROOT, "  %-20s", "sampler \\ NFE");
        for (int b : budgets) {
            out.printf(Locale.ROOT, "%8d", b);
        }
        out.println();
        for (String name : Samplers.names()) {
            if (ADAPTIVE.contains(name)) {
                continue;   // its NFE follows from the tolerance, reported below
            }
            double[] ratios = new double[budgets.length];
            int[] used = new int[budgets.length];
            double[] cost = evaluationsPerStep(name, counted);
            for (int i = 0; i < budgets.length; i++) {
                int steps = (int) Math.floor((budgets[i] - cost[1]) / cost[0] + 1e-9);
                if (steps < 1) {
                    ratios[i] = Double.NaN;
                    continue;
                }
                try (Scope s = Scope.open()) {
                    counted.reset();
                    Tensor x = sample(Samplers.create(name, SamplerOptions.DEFAULTS.withSteps(steps)), counted, num);
                    used[i] = (int) counted.count();
                    ratios[i] = SampleQuality.evaluate(x, truth, 3, seed).energyRatio();
                } catch (DiffusionException e) {
                    ratios[i] = Double.NaN;   // e.g. more steps than a discrete grid has
                }
            }
            rows.add(new Row(name, ratios, used));
            out.printf(Locale.ROOT, "  %-20s", name);
            for (double r : ratios) {
                out.print(Double.isNaN(r) ? "       —" : String.format(Locale.ROOT, "%8.2f", r));
            }
            out.println();
            out.flush();
        }
        List<String> adaptive = new ArrayList<>();
        for (String name : ADAPTIVE) {
            for (double tol : new double[] {1e-2, 1e-3, 1e-5}) {
                try (Scope s = Scope.open()) {
                    counted.reset();
                    Tensor x = sample(Samplers.create(name, SamplerOptions.DEFAULTS.withRtol(tol).withAtol(tol)), counted, num);
                    double r = SampleQuality.evaluate(x, truth, 3, seed).energyRatio();
                    String line = String.format(Locale.ROOT, "%s at rtol = atol = %.0e: %d evaluations, ratio %.2f", name, tol, counted.count(), r);
                    adaptive.add(line);
                    out.println("  " + line);
                }
            }
        }
        double overhead = loopOverhead(out);
        if (table != null) {
            AtomicFiles.writeString(table, markdown(budgets, rows, adaptive, overhead));
            out.println("table: " + table);
        }
        if (plot != null) {
            writePlot(budgets, rows);
            out.println("plot: " + plot);
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("oracle", oracle);
            m.put("nfe", budgets);
            Map<String, Object> cells = new LinkedHashMap<>();
            for (Row r : rows) {
                cells.put(r.sampler(), r.ratio());
            }
            m.put("energy_ratio", cells);
            m.put("loop_overhead", overhead);
            JsonLine.print(out, m);
        }
        return 0;
    }

    private Tensor sample(Sampler sampler, Denoiser model, int n) {
        Generator g = new Generator(seed);
        Tensor noise = Tensor.randn(g, n, pipeDim());
        return sampler.sample(model, noise, g);
    }

    private int pipeDim() {
        return DataSources.open(oracle).dim();
    }

    /** Evaluations as a·steps + b, fitted from runs of 4 and 8 steps on a few points. */
    private double[] evaluationsPerStep(String name, CountingDenoiser counted) {
        long[] counts = new long[2];
        int[] steps = {4, 8};
        for (int i = 0; i < 2; i++) {
            try (Scope s = Scope.open()) {
                counted.reset();
                sample(Samplers.create(name, SamplerOptions.DEFAULTS.withSteps(steps[i])), counted, 4);
                counts[i] = counted.count();
            }
        }
        double a = (counts[1] - counts[0]) / 4.0;
        return new double[] {a, counts[0] - 4 * a};
    }

    /**
     * Time of a 50-step DDIM run of the default 2D network at the given batch, split into the
     * network's evaluations and everything else (the sampler's arithmetic and bookkeeping).
     */
    private double loopOverhead(PrintWriter out) {
        MlpNetwork net = new MlpNetwork(MlpConfig.defaults(2), new Generator(1));
        net.train(false);
        NoiseSchedule schedule = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
        long[] inside = {0};
        Denoiser timed = new ForwardingDenoiser(new DiscreteDenoiser(net, schedule, Prediction.EPSILON)) {
            @Override
            public Tensor denoise(Tensor x, Tensor sigma) {
                long t0 = System.nanoTime();
                Tensor d = inner.denoise(x, sigma);
                inside[0] += System.nanoTime() - t0;
                return d;
            }
        };
        Sampler ddim = Samplers.create("ddim", SamplerOptions.DEFAULTS.withSteps(50));
        double[] ratios = new double[5];
        try (NoGrad ng = NoGrad.open()) {
            for (int rep = -1; rep < ratios.length; rep++) {   // rep −1 warms up
                try (Scope s = Scope.open()) {
                    Generator g = new Generator(rep + 2);
                    Tensor noise = Tensor.randn(g, overheadBatch, 2);
                    inside[0] = 0;
                    long t0 = System.nanoTime();
                    ddim.sample(timed, noise, g);
                    long total = System.nanoTime() - t0;
                    if (rep >= 0) {
                        ratios[rep] = (double) (total - inside[0]) / inside[0];
                    }
                }
            }
        }
        Arrays.sort(ratios);
        double median = ratios[ratios.length / 2];
        out.printf(Locale.ROOT, "sampler loop overhead (DDIM, 50 steps, batch %d, default MLP): %.1f%% of the network's time (median of %d runs)%n",
                overheadBatch, 100 * median, ratios.length);
        return median;
    }

    private String markdown(int[] budgets, List<Row> rows, List<String> adaptive, double overhead) {
        StringBuilder b = new StringBuilder();
        b.append("# Sampler quality against cost\n\n");
        b.append(String.format(Locale.ROOT, "Squared energy distance of %d samples to the true distribution of `%s`, divided by the expected "
                + "distance between two independent true samples of the same size (1.00 = as good as exact sampling), on the analytic "
                + "oracle (the exact denoiser, bound to the linear 1000-step schedule), each sampler with its default settings and "
                + "the largest step count whose evaluations fit the budget. — marks budgets too small for one step.%n%n", num, oracle));
        b.append("Reproduce: `./diffuse bench-samplers --table docs/samplers.md --plot docs/samplers.png`\n\n");
        b.append("| sampler |");
        for (int n : budgets) {
            b.append(" NFE ").append(n).append(" |");
        }
        b.append("\n|---|");
        b.append("---|".repeat(budgets.length)).append('\n');
        for (Row r : rows) {
            b.append("| ").append(r.sampler()).append(" |");
            for (double v : r.ratio()) {
                b.append(Double.isNaN(v) ? " — |" : String.format(Locale.ROOT, " %.2f |", v));
            }
            b.append('\n');
        }
        b.append("\nAdaptive solvers of the probability-flow ODE:\n\n");
        for (String a : adaptive) {
            b.append("- ").append(a).append('\n');
        }
        b.append(String.format(Locale.ROOT, "%nSampler loop overhead (DDIM, 50 steps, batch %d, default 2D MLP): %.1f%% of the network's own time.%n",
                overheadBatch, 100 * overhead));
        return b.toString();
    }

    private void writePlot(int[] budgets, List<Row> rows) {
        LineChart.Builder chart = LineChart.builder().size(1000, 620).title("Sampler quality against cost on oracle:" + oracle)
                .subtitle("energy distance / exact-sampling floor; lower is better, 1 = exact")
                .axisLabels("log10 NFE", "energy distance / floor").logY(true);
        for (Row r : rows) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int i = 0; i < budgets.length; i++) {
                if (!Double.isNaN(r.ratio()[i])) {
                    xs.add(Math.log10(budgets[i]));
                    ys.add(r.ratio()[i]);
                }
            }
            if (!xs.isEmpty()) {
                chart.series(r.sampler(), xs.stream().mapToDouble(Double::doubleValue).toArray(), ys.stream().mapToDouble(Double::doubleValue).toArray());
            }
        }
        PngWriter.write(plot, chart.render(), Map.of("oracle", oracle, "samples", Integer.toString(num)));
    }
}
