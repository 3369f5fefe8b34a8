package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.LearnedVariance;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * The loop every sampler shares. It walks a descending grid σ_0 &gt; σ_1 &gt; … &gt; σ_N (σ_N may be
 * 0) from the model's prior at σ_0, x = {@link Denoiser#initNoiseScale(double) s(σ_0)}·noise, and
 * asks the subclass for one {@link Step} at a time. Everything that is not the algorithm lives here: no-grad mode, one native-memory scope per step, freeing each
 * superseded state and each history value a multistep method no longer reads, listener reports
 * and cancellation. A subclass only writes the update from σ_i to σ_{i+1}.
 */
abstract class SigmaSampler implements Sampler {
    /** Default step count of one-evaluation samplers (capped at a discrete model's training steps). */
    static final int DEFAULT_STEPS = 50;

    protected final SamplerOptions options;

    SigmaSampler(SamplerOptions options) {
        this.options = options;
    }

    /** The step count used when the grid spec leaves it open. */
    protected int defaultSteps(Denoiser model) {
        return Math.min(DEFAULT_STEPS, trainingSteps(model, DEFAULT_STEPS));
    }

    /** The state at σ_{i+1} from the step's state at σ_i. */
    protected abstract Tensor step(Step s);

    /** How many earlier steps' {@link Step#remember remembered} values the sampler reads (0 for one-step methods). */
    protected int history() {
        return 0;
    }

    /** The σ schedule used when the grid spec leaves it to the sampler (see {@link SigmaSchedule#DEFAULT}). */
    protected SigmaSchedule preferredSchedule() {
        return SigmaSchedule.MODEL;
    }

    /**
     * The levels for {@code model}, ending at 0: the spec's (or preferred) schedule with the spec's (or
     * default) step count, built by {@link SigmaSchedule#grid}.
     */
    protected double[] levels(Denoiser model, GridSpec spec) {
        return spec.schedule().resolve(preferredSchedule())
                .grid(spec.stepsOr(defaultSteps(model)), model.sigmaMin(), model.sigmaMax(), model.trainingSigmas(), spec);
    }

    @Override
    public final double[] sigmas(Denoiser model, GridSpec spec) {
        double[] grid = levels(model, spec);
        return options.denoiseFinal() ? grid : withoutFinalDenoise(grid);
    }

    /**
     * The grid without its final step to σ = 0, which for most samplers is the step that returns
     * x̂₀: sampling then ends on the state at the lowest positive noise level, noise included.
     */
    protected double[] withoutFinalDenoise(double[] grid) {
        return grid[grid.length - 1] == 0 && grid.length > 2 ? Arrays.copyOf(grid, grid.length - 1) : grid;
    }

    /** The number of training timesteps of a discrete model, or {@code fallback} for a continuous one. */
    static int trainingSteps(Denoiser model, int fallback) {
        int n = model.trainingSigmas().length;
        return n > 0 ? n : fallback;
    }

    @Override
    public final Tensor sample(Denoiser model, Tensor noise, double[] sigmas, Generator g, SamplingListener listener) {
        checkGrid(sigmas);
        int total = sigmas.length - 1;
        Deque<Tensor> past = new ArrayDeque<>();   // remembered values, newest first
        try (Scope outer = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor x = noise.mul(model.initNoiseScale(sigmas[0]));
            for (int i = 0; i < total; i++) {
                if (listener.isCancelled()) {
                    throw new SamplingCancelledException(i, total);
                }
                try (Scope scope = Scope.open()) {
                    Step s = new Step(model, sigmas, i, x, g, past);
                    Tensor next = step(s);
                    listener.onStep(new SamplingStep(i, total, sigmas[i + 1], next, s.reported));
                    if (history() > 0) {
                        if (s.remembered == null) {
                            throw new IllegalStateException(name() + " must remember a value at every step");
                        }
                        past.addFirst(scope.keep(s.remembered));
                        if (past.size() > history()) {
                            Tensor old = past.removeLast();
                            if (old != next && old != x) {
                                old.close();
                            }
                        }
                    }
                    // Free each superseded state now, so memory stays flat over any number of steps.
                    if (next != x && !past.contains(x)) {
                        x.close();
                    }
                    x = scope.keep(next);
                }
            }
            return outer.keep(x);
        }
    }

    static void checkGrid(double[] sigmas) {
        if (sigmas.length < 2) {
            throw new DiffusionException("a sampling grid needs at least two noise levels, got " + Arrays.toString(sigmas));
        }
        for (int i = 0; i < sigmas.length; i++) {
            boolean ok = Double.isFinite(sigmas[i]) && (sigmas[i] > 0 || (sigmas[i] == 0 && i == sigmas.length - 1))
                    && (i == 0 || sigmas[i] < sigmas[i - 1]);
            if (!ok) {
                throw new DiffusionException("sampling grid must be strictly descending and positive (only the last level may be 0); level "
                        + i + " is " + sigmas[i]);
            }
        }
    }

    /**
     * dx/dσ = (x − D(x; σ))/σ: the probability-flow ODE in σ (Karras et al. 2022, eq. 1 with the
     * score of eq. 3 and σ(t) = t; Algorithm 1, line 4).
     */
    static Tensor derivative(Tensor x, Tensor denoised, double sigma) {
        return x.sub(denoised).div(sigma);
    }

    /**
     * What one step sees: the state x at σ_i, the neighbouring levels, the denoiser, the generator
     * and the values remembered at earlier steps. Tensors it creates are freed when the step ends
     * unless returned or {@link #remember remembered}.
     */
    static final class Step {
        private final Denoiser model;
        private final double[] sigmas;
        private final int index;
        private final Tensor x;
        private final Generator g;
        private final Deque<Tensor> past;
        private Tensor denoised;
        Tensor reported;
        Tensor remembered;

        Step(Denoiser model, double[] sigmas, int index, Tensor x, Generator g, Deque<Tensor> past) {
            this.model = model;
            this.sigmas = sigmas;
            this.index = index;
            this.x = x;
            this.g = g;
            this.past = past;
        }

        /** The denoiser being sampled (for properties such as its σ range; evaluate it through {@link #denoise}). */
        Denoiser model() {
            return model;
        }

        /** The state at σ_i. */
        Tensor x() {
            return x;
        }

        /** σ_i. */
        double sigma() {
            return sigmas[index];
        }

        /** σ_{i+1}, the level this step lands on. */
        double sigmaNext() {
            return sigmas[index + 1];
        }

        /** σ_{i+offset}: {@code sigma(-1)} is the previous step's level. */
        double sigma(int offset) {
            return sigmas[index + offset];
        }

        /** The smallest positive level of the grid (σ_{N−1} when the grid ends at 0, else σ_N). */
        double lowestSigma() {
            double last = sigmas[sigmas.length - 1];
            return last > 0 ? last : sigmas[sigmas.length - 2];
        }

        /** Whether the grid's last level is 0 (the last step then returns x̂₀). */
        boolean endsAtZero() {
            return sigmas[sigmas.length - 1] == 0;
        }

        /** i, counting from 0. */
        int index() {
            return index;
        }

        /** N, the number of steps of the whole grid. */
        int steps() {
            return sigmas.length - 1;
        }

        /** x̂₀ = D(x; σ_i), evaluated once per step. */
        Tensor denoised() {
            if (denoised == null) {
                denoised = denoise(x, sigma());
            }
            return denoised;
        }

        /**
         * x̂₀ = D(x; σ_i) and the learned variance fraction u from the model's {@link LearnedVariance},
         * one evaluation that also serves as the step's {@link #denoised()}.
         */
        LearnedVariance.Estimate estimate(LearnedVariance lv) {
            LearnedVariance.Estimate e = lv.estimate(x, Tensor.full(x.dtype(), sigma(), 1));
            denoised = e.denoised();
            if (reported == null) {
                reported = denoised;
            }
            return e;
        }

        /** D(y; σ) for any state and level; the first evaluation of a step is what the listener sees. */
        Tensor denoise(Tensor y, double sigma) {
            Tensor d = model.denoise(y, Tensor.full(y.dtype(), sigma, 1));
            if (reported == null) {
                reported = d;
            }
            return d;
        }

        /**
         * Applies {@code update} {@code times} times, starting from {@code y}: the inner loop of a
         * Langevin method. Each application runs in its own native scope and the state it supersedes is
         * freed at once (so is {@code y} itself, unless it is the step's x), so memory does not grow
         * with the count. The step's first evaluation (the one
         * the listener sees) must come before, in the step's own scope.
         */
        Tensor repeat(Tensor y, int times, java.util.function.UnaryOperator<Tensor> update) {
            if (times > 0 && reported == null) {
                throw new IllegalStateException("evaluate the step's first denoised estimate before repeat()");
            }
            for (int k = 0; k < times; k++) {
                Tensor previous = y;
                try (Scope inner = Scope.open()) {
                    y = inner.keep(update.apply(previous));
                }
                if (previous != x && previous != y && previous != denoised) {
                    previous.close();
                }
            }
            return y;
        }

        /** Fresh standard normal noise shaped like x (and of its dtype), drawn from the run's generator. */
        Tensor noise() {
            Tensor z = Tensor.randn(g, x.shape());
            return z.dtype() == x.dtype() ? z : z.to(x.dtype());
        }


        /** The value remembered {@code k} steps ago (k = 1: the previous step), or null before that. */
        Tensor past(int k) {
            int j = 1;
            for (Tensor t : past) {
                if (j++ == k) {
                    return t;
                }
            }
            return null;
        }

        /** Keeps {@code t} for the next {@link SigmaSampler#history()} steps; call exactly once per step. */
        void remember(Tensor t) {
            remembered = t;
        }
    }
}
