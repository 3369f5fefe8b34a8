package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.Normalizer;
import dev.diffusion4j.eval.Likelihood;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "nll", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Negative log-likelihood of data under a trained model, exactly, through the probability-flow ODE "
                + "and the instantaneous change of variables (adaptive RK45). Reported in nats per point and bits per dimension, "
                + "in the data's own units."})
final class NllCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true,
            description = "Run or checkpoint directory written by 'diffuse train', or oracle:NAME|FILE.json for the exact density of a Gaussian mixture.")
    String model;

    @Option(names = "--data", required = true, description = "Built-in data set name or CSV file of points to score.")
    String data;

    @Option(names = "--num", defaultValue = "500", description = "Points scored (drawn from the data set; default: ${DEFAULT-VALUE}).")
    int num;

    @Option(names = "--trace", defaultValue = "exact",
            description = "Divergence: exact (one backward pass per dimension), rademacher or gaussian (Hutchinson, one pass) (default: ${DEFAULT-VALUE}).")
    String trace;

    @Option(names = "--rtol", defaultValue = "1e-5", description = "Relative tolerance of the ODE solver (default: ${DEFAULT-VALUE}).")
    double rtol;

    @Option(names = "--atol", defaultValue = "1e-5", description = "Absolute tolerance of the ODE solver (default: ${DEFAULT-VALUE}).")
    double atol;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for the data draw and Hutchinson probes (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--raw-weights", description = "Use the raw weights instead of the EMA weights.")
    boolean rawWeights;

    @Option(names = "--json", description = "Print a one-line JSON summary last.")
    boolean json;

    @Override
    public Integer call() {
        if (num < 2) {
            throw new DiffusionException("--num must be at least 2 (the standard error needs two points), got " + num);
        }
        PrintWriter out = spec.commandLine().getOut();
        Likelihood likelihood = new Likelihood(Likelihood.Trace.parse(trace), rtol, atol);
        // Clipping x̂₀ would make the flow non-differentiable at the range's edges: score the raw model.
        DiffusionPipeline pipe = DiffusionPipeline.open(model, !rawWeights, false);
        DataSource source = DataSources.open(data);
        if (source.dim() != pipe.dataDim()) {
            throw new DiffusionException("data '" + data + "' has " + source.dim() + " dimensions but the model was trained on "
                    + pipe.dataDim());
        }
        try (Scope s = Scope.open()) {
            Generator g = new Generator(seed);
            Normalizer norm = pipe.spec().normalizer();
            Tensor x = norm.normalize(source.sample(g, num)).to(DType.FLOAT32);
            long t0 = System.nanoTime();
            Likelihood.Result r = likelihood.evaluate(pipe.denoiser(), x, g);
            double seconds = (System.nanoTime() - t0) / 1e9;
            // The model scores normalised points z = (x − m)/s: log p(x) = log p(z) − Σ log s.
            double logJacobian = 0;
            for (double sd : norm.std()) {
                logJacobian += Math.log(sd);
            }
            double nll = r.meanNll() + logJacobian;
            int d = source.dim();
            double bpd = nll / (d * Math.log(2));
            out.printf(Locale.ROOT, "%d points of '%s' under %s (%s trace, rtol %.0e, atol %.0e)%n", num, source.name(),
                    pipe.isOracle() ? pipe.name() : pipe.checkpoint(),
                    trace, rtol, atol);
            out.printf(Locale.ROOT, "  NLL %.4f ± %.4f nats per point = %.4f bits per dimension (%d ODE evaluations, %.1f s)%n",
                    nll, r.standardError(), bpd, r.evaluations(), seconds);
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("nll_nats", nll);
                m.put("standard_error", r.standardError());
                m.put("bits_per_dim", bpd);
                m.put("points", num);
                m.put("trace", trace);
                m.put("evaluations", r.evaluations());
                m.put("seconds", seconds);
                JsonLine.print(out, m);
            }
        }
        return 0;
    }
}
