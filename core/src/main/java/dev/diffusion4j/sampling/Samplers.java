package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** The sampler registry: look samplers up by name, list them with a description. */
public final class Samplers {
    /** A registered sampler: name, one-line description, order of accuracy (0 for stochastic). */
    public record Entry(String name, String description, String order, Function<SamplerOptions, Sampler> factory) {
    }

    private static final Map<String, Entry> REGISTRY = new LinkedHashMap<>();

    static {
        register(new Entry("ddpm", "DDPM ancestral sampling (Ho et al. 2020); β̃ or β variance; default: every training step", "stochastic", DdpmSampler::new));
        register(new Entry("ddim", "DDIM (Song et al. 2021); deterministic at eta=0, DDPM-like at eta=1; default 50 steps", "1", DdimSampler::new));
        register(new Entry("rk45", "probability-flow ODE, adaptive Dormand–Prince RK45 in log σ (rtol = atol = 1e-5); steps chosen by error control", "5", ProbabilityFlowSampler::new));
    }

    private Samplers() {
    }

    private static void register(Entry e) {
        REGISTRY.put(e.name(), e);
    }

    public static List<Entry> entries() {
        return Collections.unmodifiableList(new ArrayList<>(REGISTRY.values()));
    }

    public static List<String> names() {
        return new ArrayList<>(REGISTRY.keySet());
    }

    /** Creates the named sampler; unknown names list the available ones. */
    public static Sampler create(String name, SamplerOptions options) {
        Entry e = REGISTRY.get(name.toLowerCase(Locale.ROOT));
        if (e == null) {
            throw new DiffusionException("unknown sampler '" + name + "'; available: " + String.join(", ", REGISTRY.keySet()));
        }
        return e.factory().apply(options);
    }
}
