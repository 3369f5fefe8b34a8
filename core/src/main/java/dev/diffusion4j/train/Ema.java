package dev.diffusion4j.train;

import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Exponential moving average of model weights, θ̄ ← d·θ̄ + (1−d)·θ, with the decay warmed up as
 * d_n = min(decay, (1+n)/(10+n)) so early averages are not dominated by the random initialisation.
 * Kept in float32 whatever precision the forward pass uses.
 */
public final class Ema {
    private final double decay;
    private final Map<String, Tensor> live;
    private final Map<String, Tensor> shadow = new LinkedHashMap<>();
    /** Keys whose tensors never change (frozen parameters): their average is their value, so no update touches them. */
    private final Set<String> constant;

    /** Tracks every tensor of {@code state} (parameters and buffers), starting from their current values. */
    public Ema(Map<String, Tensor> state, double decay) {
        this(state, decay, Set.of());
    }

    /** Like {@link #Ema(Map, double)}, with the keys of tensors that stay constant (their copy is never updated). */
    public Ema(Map<String, Tensor> state, double decay, Set<String> constant) {
        this.decay = decay;
        this.live = state;
        this.constant = Set.copyOf(constant);
        try (Scope s = Scope.open()) {
            state.forEach((k, v) -> shadow.put(k, Scope.escape(v.detach().clone())));
        }
    }

    /** The decay used for update number {@code n} (0-based). */
    public double decayAt(long n) {
        return Math.min(decay, (1.0 + n) / (10.0 + n));
    }

    /** Moves the average towards the live weights; {@code n} counts updates from 0. */
    public void update(long n) {
        double d = decayAt(n);
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            List<String> keys = new ArrayList<>(live.keySet());
            for (String k : keys) {
                if (constant.contains(k)) {
                    continue;
                }
                shadow.get(k).lerp_(live.get(k), 1 - d);
            }
        }
    }

    /** The averaged weights by state-dict key. */
    public Map<String, Tensor> state() {
        return shadow;
    }

    /** Overwrites the averages (on resume). Keys and shapes must match. */
    public void load(Map<String, Tensor> state) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            for (Map.Entry<String, Tensor> e : shadow.entrySet()) {
                Tensor src = state.get(e.getKey());
                if (src == null) {
                    throw new dev.diffusion4j.DiffusionException("EMA weights lack '" + e.getKey() + "'");
                }
                e.getValue().copy_(src);
            }
        }
    }
}
