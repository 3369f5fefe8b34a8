package dev.diffusion4j.bench;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.eval.SampleQuality;
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
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.ImageGrid;
import dev.diffusion4j.viz.LineChart;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Quality against cost for every registered sampler on the analytic oracle (no training noise): the
 * squared energy distance of the samples to the true distribution, as a multiple of the distance
 * between two independent true samples of the same size (1 = as good as exact sampling), at each
 * budget of network evaluations; and the time the sampling loop adds on top of a network's own
 * evaluations.
 */
public final class SamplerBenchmark {
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
    public record Row(String sampler, double[] ratio, int[] used) {
    }

    private final String oracle;
    private final int[] budgets;
    private final int num;
    private final int draws;
    private final long seed;
    private final DataSource truth;
    private final CountingDenoiser counted;

    /**
     * @param oracle  a built-in mixture data set, whose exact denoiser is sampled
     * @param budgets evaluation budgets (columns)
     * @param num     samples per cell
     * @param draws   independent noise draws averaged per cell: one draw's ratio scatters by ±50% even for exact samples
     */
    public SamplerBenchmark(String oracle, int[] budgets, int num, int draws, long seed) {
        if (num < 10) {
            throw new DiffusionException("samples per cell must be at least 10, got " + num);
        }
        if (draws < 1) {
            throw new DiffusionException("noise draws must be at least 1, got " + draws);
        }
        this.budgets = Arrays.stream(budgets).sorted().toArray();
        if (this.budgets.length == 0 || this.budgets[0] < 1) {
            throw new DiffusionException("evaluation budgets must be positive, got " + Arrays.toString(budgets));
        }
        this.oracle = oracle;
        this.num = num;
        this.draws = draws;
        this.seed = seed;
        this.truth = DataSources.open(oracle);
        this.counted = new CountingDenoiser(DiffusionPipeline.oracle(oracle).denoiser());
    }

    public int[] budgets() {
        return budgets.clone();
    }

    /** One row per sampler with a step count (the error-controlled ones are {@link #adaptive}), each passed to {@code each} as it is done. */
    public List<Row> rows(Consumer<Row> each) {
        List<Row> rows = new ArrayList<>();
        for (String name : Samplers.names()) {
            if (ADAPTIVE.contains(name)) {
                continue;   // its NFE follows from the tolerance
            }
            double[] ratios = new double[budgets.length];
            int[] used = new int[budgets.length];
            double[] cost = evaluationsPerStep(name);
            for (int i = 0; i < budgets.length; i++) {
                int steps = (int) Math.floor((budgets[i] - cost[1]) / cost[0] + 1e-9);
                if (steps < 1) {
                    ratios[i] = Double.NaN;
                    continue;
                }
                try {
                    ratios[i] = meanRatio(Samplers.create(name, SamplerOptions.DEFAULTS), GridSpec.steps(steps));
                    used[i] = (int) (counted.count() / draws);
                } catch (DiffusionException e) {
                    ratios[i] = Double.NaN;   // e.g. more steps than a discrete grid has
                }
            }
            Row row = new Row(name, ratios, used);
            rows.add(row);
            each.accept(row);
        }
        return rows;
    }

    /** The error-controlled samplers at three tolerances: a line each with the evaluations used and the ratio. */
    public List<String> adaptive() {
        List<String> lines = new ArrayList<>();
        for (String name : ADAPTIVE) {
            for (double tol : new double[] {1e-2, 1e-3, 1e-5}) {
                double r = meanRatio(Samplers.create(name, SamplerOptions.DEFAULTS.withRtol(tol).withAtol(tol)), GridSpec.DEFAULT);
                lines.add(String.format(Locale.ROOT, "%s at rtol = atol = %.0e: %d evaluations, ratio %.2f", name, tol, counted.count() / draws, r));
            }
        }
        return lines;
    }

    /** The energy-distance ratio averaged over the noise draws; {@link #counted} ends holding all their evaluations. */
    private double meanRatio(Sampler sampler, GridSpec grid) {
        counted.reset();
        double sum = 0;
        for (int k = 0; k < draws; k++) {
            try (Scope s = Scope.open()) {
                Tensor x = sample(sampler, grid, num, seed + 1000L * k);
                sum += SampleQuality.evaluate(x, truth, 3, seed + 1000L * k).energyRatio();
            }
        }
        return sum / draws;
    }

    private Tensor sample(Sampler sampler, GridSpec grid, int n, long noiseSeed) {
        Generator g = new Generator(noiseSeed);
        Tensor noise = Tensor.randn(g, n, truth.dim());
        return Samplers.run(sampler, counted, noise, grid, g);
    }

    /** Evaluations as a·steps + b, fitted from runs of 4 and 8 steps on a few points. */
    private double[] evaluationsPerStep(String name) {
        long[] counts = new long[2];
        int[] steps = {4, 8};
        for (int i = 0; i < 2; i++) {
            try (Scope s = Scope.open()) {
                counted.reset();
                sample(Samplers.create(name, SamplerOptions.DEFAULTS), GridSpec.steps(steps[i]), 4, seed);
                counts[i] = counted.count();
            }
        }
        double a = (counts[1] - counts[0]) / 4.0;
        return new double[] {a, counts[0] - 4 * a};
    }

    /**
     * Time of a 50-step DDIM run of the default 2D network at {@code batch}, beyond the network's own
     * evaluations (the sampler's arithmetic and bookkeeping), as a fraction of the network's time:
     * the median of 5 runs after one warm-up.
     */
    public static double loopOverhead(int batch) {
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
        Sampler ddim = Samplers.create("ddim", SamplerOptions.DEFAULTS);
        double[] ratios = new double[5];
        try (NoGrad ng = NoGrad.open()) {
            for (int rep = -1; rep < ratios.length; rep++) {   // rep −1 warms up
                try (Scope s = Scope.open()) {
                    Generator g = new Generator(rep + 2);
                    Tensor noise = Tensor.randn(g, batch, 2);
                    inside[0] = 0;
                    long t0 = System.nanoTime();
                    Samplers.run(ddim, timed, noise, GridSpec.steps(50), g);
                    long total = System.nanoTime() - t0;
                    if (rep >= 0) {
                        ratios[rep] = (double) (total - inside[0]) / inside[0];
                    }
                }
            }
        }
        Arrays.sort(ratios);
        return ratios[ratios.length / 2];
    }

    /** The table as Markdown, with how it was measured and the command that reproduces it. */
    public String markdown(List<Row> rows, List<String> adaptive, double overhead, int overheadBatch) {
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
    public BufferedImage plot(List<Row> rows) {
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
        return grid.render();
    }
}
