package dev.diffusion4j.studio;

import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.data.ToyDatasets;
import dev.diffusion4j.eval.SampleMetrics;
import dev.diffusion4j.model.ModelSpec;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationListener;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.pipeline.GenerationResult;
import dev.diffusion4j.sampling.SamplingStep;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The 2D pages' computations: the forward process's ingredients (the browser mixes them while the
 * slider moves), the model's denoising field on a grid, the reverse process frame by frame, and the
 * sampler lab (the same noise through several samplers).
 */
final class Explorer {
    static final int MAX_POINTS = 5000;
    static final int MAX_STEPS = 1000;
    /** Reverse-process frames sent to the browser; longer runs are thinned evenly (the last is always kept). */
    static final int MAX_FRAMES = 120;
    /** Points in all frames of one reverse answer together (about 2 MB of JSON). */
    static final int MAX_FRAME_POINTS = 240_000;
    static final String ORACLE = "oracle";

    private final Models models;

    Explorer(Models models) {
        this.models = models;
    }

    static Toy2D dataset(Params p) {
        String name = p.choice("dataset", "8gaussians", ToyDatasets.names());
        return ToyDatasets.get(name);
    }

    /** {@code GET /api/forward}: x₀, one noise draw ε and ᾱ_1..ᾱ_T; x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε (Ho et al. 2020, eq. 4). */
    Map<String, Object> forward(Params p) {
        Toy2D data = dataset(p);
        String scheduleName = p.choice("schedule", "linear", scheduleNames());
        int timesteps = p.integer("timesteps", 1000, 2, 4000);
        int n = p.integer("n", 2000, 1, MAX_POINTS);
        long seed = p.integer("seed", 0L, 0L, Long.MAX_VALUE);
        NoiseSchedule schedule = NoiseSchedule.of(BetaSchedule.parse(scheduleName), timesteps);
        Map<String, Object> m = new LinkedHashMap<>();
        try (Scope s = Scope.open()) {
            float[] x0 = Points.of(data.sample(Generator.derived(seed, 0), n));
            float[] noise = Points.of(Tensor.randn(Generator.derived(seed, 1), n, 2));
            m.put("dataset", data.name());
            m.put("schedule", scheduleName);
            m.put("n", n);
            m.put("timesteps", timesteps);
            m.put("x0", x0);
            m.put("noise", noise);
            m.put("alphaBar", toFloats(schedule.alphasCumprod()));
            m.put("bounds", Points.bounds(x0));
        }
        return m;
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    static List<String> scheduleNames() {
        return Arrays.stream(BetaSchedule.values()).map(BetaSchedule::configName).toList();
    }

    /**
     * {@code GET /api/field}: at ᾱ, the displacement √ᾱ·x̂₀(x_t) − x_t = (1 − ᾱ)∇log p_t(x_t) (Tweedie's
     * formula) on a grid of points x_t, in data coordinates: where the model moves each point. A trained
     * model diffuses standardised data, so its field is that of the standardised process mapped back
     * (x_t = mean + std·z_t); for the oracle, which works in data units, it is exact.
     */
    Map<String, Object> field(Params p) {
        DiffusionPipeline pipe = pipeline2d(p);
        double alphaBar = p.number("alphaBar", 0.5, 0, 1, true, true);
        int grid = p.integer("grid", 20, 2, 64);
        double[] b = p.numbers("bounds", new double[] {-3, 3, -3, 3}, 4);
        if (!(b[1] > b[0]) || !(b[3] > b[2])) {
            throw ApiException.badRequest("bounds must be xmin,xmax,ymin,ymax with xmin < xmax and ymin < ymax");
        }
        float[] positions = new float[2 * grid * grid];
        for (int r = 0, k = 0; r < grid; r++) {
            for (int c = 0; c < grid; c++, k += 2) {
                positions[k] = (float) (b[0] + (c + 0.5) * (b[1] - b[0]) / grid);
                positions[k + 1] = (float) (b[2] + (r + 0.5) * (b[3] - b[2]) / grid);
            }
        }
        ModelSpec spec = pipe.spec();
        double sigma = Math.sqrt((1 - alphaBar) / alphaBar);   // the variance-exploding level of the same ᾱ
        float[] vectors;
        // No lock: the weights are only read, and libtorch runs concurrent no-grad forwards safely.
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor xt = Tensor.of(positions, (long) grid * grid, 2);
            Tensor z = spec.normalize(xt);                       // x_t in the model's space
            Tensor denoised = pipe.denoiser().denoise(z.div(Math.sqrt(alphaBar)), Tensor.full(sigma, (long) grid * grid));
            vectors = Points.of(spec.denormalize(denoised.mul(Math.sqrt(alphaBar))).sub(xt));
        }
        return Map.of("positions", positions, "vectors", vectors, "alphaBar", alphaBar);
    }

    /** The 2D pipeline a request names: the analytic oracle of its data set, or a 2D model of the models folder. */
    DiffusionPipeline pipeline2d(Params p) {
        String model = p.string("model", ORACLE, 64);
        if (model.equals(ORACLE)) {
            Toy2D data = dataset(p);
            if (data.mixture().isEmpty()) {
                throw ApiException.badRequest("the analytic oracle knows only the Gaussian-mixture data sets ("
                        + String.join(", ", oracleDatasets()) + "); train a model for " + data.name());
            }
            return DiffusionPipeline.oracle(data.name());
        }
        if (models.info(model).image()) {
            throw ApiException.badRequest(model + " is an image model; the 2D pages take 2D models (or the oracle)");
        }
        return models.pipeline(model);
    }

    static List<String> oracleDatasets() {
        return ToyDatasets.all().stream().filter(d -> d.mixture().isPresent()).map(Toy2D::name).toList();
    }

    /** The request of a 2D page: {@code n} points from {@code sampler} with {@code steps} steps. */
    static GenerationRequest request(String sampler, int steps, int n, long seed) {
        return GenerationRequest.builder().sampler(sampler).steps(steps).count(n).seed(seed).build();
    }

    /** A reverse-process job: validates now, runs later. */
    Job.Work reverse(Params p) {
        DiffusionPipeline pipe = pipeline2d(p);
        GenerationRequest request = request(p.string("sampler", "ddim", 64), p.integer("steps", 50, 1, MAX_STEPS),
                p.integer("n", 2000, 1, MAX_POINTS), p.integer("seed", 0L, 0L, Long.MAX_VALUE));
        pipe.check(request);
        return job -> reverse(pipe, request, job);
    }

    private static Map<String, Object> reverse(DiffusionPipeline pipe, GenerationRequest request, Job job) {
        ModelSpec spec = pipe.spec();
        NoiseSchedule schedule = spec.schedule();
        List<Map<String, Object>> frames = new ArrayList<>();
        List<Map<String, Object>> steps = new ArrayList<>();
        GenerationResult result;
        try (Scope s = Scope.open()) {
            result = pipe.generate(request, new GenerationListener() {
                @Override
                public void onNoise(int batch, int batches, Tensor noise) {
                    frames.add(frame(schedule, pipe.denoiser().sigmaMax(), spec.denormalize(noise)));
                }

                @Override
                public void onStep(int batch, int batches, SamplingStep step) {
                    try (Scope inner = Scope.open()) {
                        steps.add(frame(schedule, step.sigma(), spec.denormalize(step.xVariancePreserving())));
                    }
                    job.progress(step.index() + 1, step.total(), null);
                }

                @Override
                public boolean isCancelled() {
                    return job.cancelRequested();
                }
            });
        }
        // the answer holds at most MAX_FRAME_POINTS points: fewer frames for bigger clouds
        int maxFrames = Math.max(2, Math.min(MAX_FRAMES, MAX_FRAME_POINTS / request.count()));
        frames.addAll(thin(steps, maxFrames - 1));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("frames", frames);
        m.put("nfe", result.metadata().evaluations());
        m.put("seconds", result.seconds());
        m.put("parameters", result.metadata().asMap());
        return m;
    }

    private static Map<String, Object> frame(NoiseSchedule schedule, double sigma, Tensor points) {
        Map<String, Object> f = new LinkedHashMap<>();
        long t = 0;
        if (sigma > 0) {
            try (Scope s = Scope.open()) {
                t = Math.round(schedule.sigmaToT(Tensor.full(sigma, 1)).item());
            }
        }
        f.put("t", t);
        f.put("sigma", sigma);
        f.put("alphaBar", 1 / (1 + sigma * sigma));
        f.put("points", Points.of(points));
        return f;
    }

    /** At most {@code max} of {@code all}, evenly spaced, always with the last. */
    static <T> List<T> thin(List<T> all, int max) {
        if (all.size() <= max) {
            return all;
        }
        List<T> out = new ArrayList<>(max);
        for (int i = 0; i < max; i++) {
            out.add(all.get((int) Math.round((double) i * (all.size() - 1) / (max - 1))));
        }
        return out;
    }

    /** A sampler-lab job: the same noise through each sampler; NFE and the energy distance to fresh data. */
    Job.Work lab(Params p) {
        DiffusionPipeline pipe = pipeline2d(p);
        List<String> names = p.strings("samplers", List.of("ddim", "euler", "heun", "dpmpp_2m"), 8);
        int steps = p.integer("steps", 20, 1, MAX_STEPS);
        int n = p.integer("n", 2000, 2, MAX_POINTS);
        long seed = p.integer("seed", 0L, 0L, Long.MAX_VALUE);
        List<GenerationRequest> requests = names.stream().map(name -> request(name, steps, n, seed)).toList();
        requests.forEach(pipe::check);
        Toy2D data = labData(pipe, p);
        return job -> {
            try (Scope s = Scope.open()) {
                Tensor reference = data.sample(Generator.derived(seed, 7), n);
                List<Map<String, Object>> results = new ArrayList<>();
                for (int i = 0; i < requests.size() && !job.cancelRequested(); i++) {
                    GenerationResult out = pipe.generate(requests.get(i));   // the same seed: the same noise for every sampler
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("sampler", out.metadata().get("sampler"));
                    r.put("nfe", out.metadata().evaluations());
                    r.put("seconds", out.seconds());
                    r.put("energy", SampleMetrics.energyDistance(out.samples(), reference));
                    r.put("points", Points.of(out.samples()));
                    results.add(r);
                    job.progress(i + 1, names.size(), null);
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("dataset", data.name());
                m.put("reference", Points.of(reference));
                m.put("floor", SampleMetrics.expectedEnergyFloor(reference, n));
                m.put("results", results);
                return m;
            }
        };
    }

    /** The data a model learned (its config names it), or for the oracle the requested set. */
    private static Toy2D labData(DiffusionPipeline pipe, Params p) {
        Object data = pipe.config().get("data");
        Object source = data instanceof Map<?, ?> m ? m.get("source") : null;
        if (source != null && ToyDatasets.find(source.toString()).isPresent()) {
            return ToyDatasets.get(source.toString());
        }
        if (!pipe.isOracle()) {
            throw ApiException.badRequest(pipe.name() + " was not trained on a built-in 2D data set, so the lab has no truth to compare with");
        }
        return dataset(p);
    }
}
