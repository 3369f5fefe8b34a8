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
import dev.diffusion4j.viz.ImageGrid;
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

    @Option(names = "--draws", defaultValue = "3",
            description = "Independent noise draws averaged per cell: one draw's ratio scatters by ±50% even for exact samples (default: ${DEFAULT-VALUE}).")
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

    /** Samplers whose step count follows from error control: rows of their own, by tolerance. */
    private static final List<String> ADAPTIVE = List.of("rk45", "dpm_adaptive");

    /** Panels of the plot, by family; a sampler in none of them goes to a last panel. */
    private static final Map<String, List<String>> FAMILIES = new LinkedHashMap<>();

    static {
        FAMILIES.put("DDPM, DDIM and the Karras/EDM family", List.of("ddpm", "ddim", "euler", "euler_ancestral", "heun", "dpm2", "dpm2_ancestral"));
        FAMILIES.put("Multistep and DPM-Solver++", List.of("lms", "dpmpp_2m", "dpmpp_2s_ancestral", "dpmpp_2m_sde", "dpmpp_3m_sde"));
        FAMILIES.put("Exponential integrators on ε", List.of("pndm", "plms", "deis", "dpm_solver", "dpm_solver_singlestep", "unipc", "dpm_fast"));
        FAMILIES.put("Score SDEs, Langevin and flow ODEs", List.of("sde_euler", "pc", "annealed_langevin", "flow_euler", "flow_midpoint",
                "flow_heun", "flow_rk4"));
    }

    /** Ratios above this are drawn at the top of the plot's y range. */
    private static final double PLOT_CEILING = 100;

    /** A sampler's row: the energy-distance ratio per budget (NaN where the budget is too small) and the NFE actually used. */
    record Row(String sampler, double[] ratio, int[] used) {
    }

    @Override
    public Integer call() {
        if (num < 10) {
            throw new DiffusionException("--num must be at least 10, got " + num);
        }
        if (draws < 1) {
            throw new DiffusionException("--draws must be at least 1, got " + draws);
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
                try {
                    ratios[i] = meanRatio(Samplers.create(name, SamplerOptions.DEFAULTS.withSteps(steps)), counted, truth);
                    used[i] = (int) (counted.count() / draws);
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
                double r = meanRatio(Samplers.create(name, SamplerOptions.DEFAULTS.withRtol(tol).withAtol(tol)), counted, truth);
                String line = String.format(Locale.ROOT, "%s at rtol = atol = %.0e: %d evaluations, ratio %.2f", name, tol,
                        counted.count() / draws, r);
                adaptive.add(line);
                out.println("  " + line);
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

    /** The energy-distance ratio averaged over {@link #draws} noise draws; {@code counted} ends holding all their evaluations. */
    private double meanRatio(Sampler sampler, CountingDenoiser counted, DataSource truth) {
        counted.reset();
        double sum = 0;
        for (int k = 0; k < draws; k++) {
            try (Scope s = Scope.open()) {
                Tensor x = sample(sampler, counted, num, seed + 1000L * k);
                sum += SampleQuality.evaluate(x, truth, 3, seed + 1000L * k).energyRatio();
            }
        }
        return sum / draws;
    }

    private Tensor sample(Sampler sampler, Denoiser model, int n) {
        return sample(sampler, model, n, seed);
    }

    private Tensor sample(Sampler sampler, Denoiser model, int n, long noiseSeed) {
        Generator g = new Generator(noiseSeed);
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
                + "the largest step count whose evaluations fit the budget; mean over %d independent noise draws (a single draw of exact "
                + "samples scatters between about 0.5 and 2). — marks budgets too small for one step. Deterministic samplers converge to "
                + "the value of the exact probability-flow map of the same noise (rk45 at tight tolerance, below); the stochastic ones draw "
                + "the same noise for the same seed, so their cells rise and fall together, and differences under about 0.5 are noise.%n%n",
                num, oracle, draws));
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

    /** One panel per sampler family, on shared axes, so that no panel has more lines than colours can tell apart. */
    private void writePlot(int[] budgets, List<Row> rows) {
        Map<String, List<Row>> panels = new LinkedHashMap<>();
        for (String family : FAMILIES.keySet()) {
            panels.put(family, new ArrayList<>());
        }
        for (Row r : rows) {
            String family = FAMILIES.entrySet().stream().filter(e -> e.getValue().contains(r.sampler())).map(Map.Entry::getKey)
                    .findFirst().orElse("Other samplers");
            panels.computeIfAbsent(family, f -> new ArrayList<>()).add(r);
        }
        double xMin = Math.log10(budgets[0]) - 0.05;
        double xMax = Math.log10(budgets[budgets.length - 1]) + 0.05;
        ImageGrid.Builder grid = ImageGrid.builder().columns(2).title(String.format(Locale.ROOT,
                "Sampler quality vs cost on oracle:%s: energy distance / floor (1 = exact, mean of %d draws)",
                oracle, draws));
        for (Map.Entry<String, List<Row>> panel : panels.entrySet()) {
            if (panel.getValue().isEmpty()) {
                continue;
            }
            LineChart.Builder chart = LineChart.builder().size(640, 420).title(panel.getKey())
                    .axisLabels("log10 NFE", "energy distance / floor").logY(true).xRange(xMin, xMax).yRange(0.5, PLOT_CEILING);
            for (Row r : panel.getValue()) {
                List<Double> xs = new ArrayList<>();
                List<Double> ys = new ArrayList<>();
                for (int i = 0; i < budgets.length; i++) {
                    if (!Double.isNaN(r.ratio()[i])) {
                        xs.add(Math.log10(budgets[i]));
                        ys.add(Math.min(r.ratio()[i], PLOT_CEILING));
                    }
                }
                if (!xs.isEmpty()) {
                    chart.series(r.sampler(), xs.stream().mapToDouble(Double::doubleValue).toArray(), ys.stream().mapToDouble(Double::doubleValue).toArray());
                }
            }
            grid.add(chart.render());
        }
        PngWriter.write(plot, grid.render(), Map.of("oracle", oracle, "samples", Integer.toString(num), "draws", Integer.toString(draws)));
    }
}
