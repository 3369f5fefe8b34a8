package dev.diffusion4j.cli;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.process.ReverseVariance;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.eval.Likelihood;
import dev.diffusion4j.eval.Vlb;
import dev.diffusion4j.model.Normalizer;
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
        description = {"Negative log-likelihood of data under a trained model, reported in nats per point and bits per dimension, "
                + "in the data's own units. --method ode (default) is exact: the probability-flow ODE with the instantaneous change of "
                + "variables (adaptive RK45). --method vlb is DDPM's discrete-time variational bound L_T + sum of KL terms + L_0, an "
                + "upper bound on the NLL of the model's ancestral sampler (discrete-time models only)."})
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

    @Option(names = "--method", defaultValue = "ode",
            description = "ode (exact likelihood of the probability-flow ODE) or vlb (DDPM's variational bound) (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--variance", defaultValue = "fixed_small",
            description = "vlb: the reverse steps' variance, fixed_small (posterior variance), fixed_large (beta) or learned_range "
                    + "(the model's own, for models trained with --variance learned_range) (default: ${DEFAULT-VALUE}).")
    String variance;

    @Option(names = "--decoder", defaultValue = "gaussian",
            description = "vlb: L_0's decoder, gaussian (a density, for continuous data) or discretized (8-bit data in [-1, 1]) (default: ${DEFAULT-VALUE}).")
    String decoder;

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

    /** One scoring method's figures in the model's units. */
    private record Score(double meanNll, double standardError, long evaluations, String how) {
    }

    @Override
    public Integer call() {
        if (num < 2) {
            throw new DiffusionException("--num must be at least 2 (the standard error needs two points), got " + num);
        }
        boolean vlb = switch (method.toLowerCase(Locale.ROOT)) {
            case "ode" -> false;
            case "vlb" -> true;
            default -> throw new DiffusionException("unknown --method '" + method + "': use ode (exact likelihood) or vlb (DDPM's variational bound)");
        };
        PrintWriter out = spec.commandLine().getOut();
        // Clipping x̂₀ would make the flow non-differentiable at the range's edges: score the raw model.
        GenerationRequest raw = GenerationRequest.builder().weights(rawWeights ? GenerationRequest.Weights.RAW : GenerationRequest.Weights.EMA)
                .threshold(GenerationRequest.Threshold.NONE).build();
        DiffusionPipeline pipe = DiffusionPipeline.open(model, raw.weights());
        Denoiser denoiser = pipe.denoiser(raw);
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
            Score r = vlb ? variationalBound(denoiser, x, g) : probabilityFlow(denoiser, x, g);
            double seconds = (System.nanoTime() - t0) / 1e9;
            // The model scores normalised points z = (x − m)/s: log p(x) = log p(z) − Σ log s.
            double logJacobian = 0;
            for (double sd : norm.std()) {
                logJacobian += Math.log(sd);
            }
            double nll = r.meanNll() + logJacobian;
            int d = source.dim();
            double bpd = nll / (d * Math.log(2));
            out.printf(Locale.ROOT, "%d points of '%s' under %s (%s)%n", num, source.name(),
                    pipe.isOracle() ? pipe.name() : pipe.checkpoint().dir(), r.how());
            out.printf(Locale.ROOT, "  %s %.4f ± %.4f nats per point = %.4f bits per dimension (%d model evaluations, %.1f s)%n",
                    vlb ? "NLL bound" : "NLL", nll, r.standardError(), bpd, r.evaluations(), seconds);
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("method", vlb ? "vlb" : "ode");
                m.put("nll_nats", nll);
                m.put("standard_error", r.standardError());
                m.put("bits_per_dim", bpd);
                m.put("points", num);
                if (vlb) {
                    m.put("variance", variance);
                    m.put("decoder", decoder);
                } else {
                    m.put("trace", trace);
                }
                m.put("evaluations", r.evaluations());
                m.put("seconds", seconds);
                JsonLine.print(out, m);
            }
        }
        return 0;
    }

    private Score probabilityFlow(Denoiser model, Tensor x, Generator g) {
        Likelihood likelihood = new Likelihood(Likelihood.Trace.parse(trace), rtol, atol);
        Likelihood.Result r = likelihood.evaluate(model, x, g);
        return new Score(r.meanNll(), r.standardError(), r.evaluations(),
                String.format(Locale.ROOT, "probability-flow ODE, %s trace, rtol %.0e, atol %.0e", trace, rtol, atol));
    }

    private Score variationalBound(Denoiser model, Tensor x, Generator g) {
        Vlb bound = new Vlb(ReverseVariance.parse(variance), Vlb.Decoder.parse(decoder));
        int steps = model.trainingSigmas().length;
        ProgressBar progress = ProgressBar.console("vlb", Math.max(steps, 1));
        Vlb.Result r = bound.evaluate(model, x, g, t -> progress.update(t, ""));
        progress.finish(String.format(Locale.ROOT, "%d terms", steps));
        return new Score(r.meanNll(), r.standardError(), steps,
                String.format(Locale.ROOT, "variational bound, %s variance, %s decoder; L_T %.2e, sum of KL terms %.4f, L_0 %.4f nats",
                        variance, decoder, r.prior(), r.diffusion(), r.decoder()));
    }
}
