package dev.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LrScheduleAndEmaTest {
    @Test
    void warmupThenCosine() {
        LrSchedule s = new LrSchedule(1e-3, 100, 1100, 0.1);
        assertEquals(1e-5, s.at(0), 1e-12);
        assertEquals(5e-4, s.at(49), 1e-12);
        assertEquals(1e-3, s.at(100), 1e-12);
        // halfway through the decay: min + (1 − min)·½
        assertEquals(1e-3 * (0.1 + 0.9 * 0.5), s.at(600), 1e-12);
        assertEquals(1e-4, s.at(1100), 1e-12);
        assertEquals(1e-4, s.at(5000), 1e-12, "stays at the floor past the end");
    }

    @Test
    void emaFollowsItsRecurrenceWithDecayWarmup() {
        Tensor w = Scope.escape(Tensor.of(new float[] {0f}, 1));
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("w", w);
        Ema ema = new Ema(state, 0.99);
        assertEquals(0.1, ema.decayAt(0), 1e-12);
        assertEquals(0.99, ema.decayAt(100_000), 1e-12);
        double expected = 0;
        for (int n = 0; n < 50; n++) {
            try (Scope s = Scope.open()) {
                w.fill_(n + 1);
            }
            ema.update(n);
            double d = Math.min(0.99, (1.0 + n) / (10.0 + n));
            expected = d * expected + (1 - d) * (n + 1);
        }
        assertEquals(expected, ema.state().get("w").item(), 1e-4);
    }

    /** A constant (frozen) tensor keeps its value in the average and is never updated; the others are. */
    @Test
    void constantTensorsAreCopiedNotAveraged() {
        Tensor frozen = Scope.escape(Tensor.of(new float[] {3f}, 1));
        Tensor live = Scope.escape(Tensor.of(new float[] {0f}, 1));
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("frozen", frozen);
        state.put("live", live);
        Ema ema = new Ema(state, 0.5, java.util.Set.of("frozen"));
        try (Scope s = Scope.open()) {
            live.fill_(1);
            frozen.fill_(7);   // would move the average if it were updated
        }
        ema.update(1000);
        assertEquals(3.0, ema.state().get("frozen").item(), 0.0, "the value it started from");
        assertEquals(0.5, ema.state().get("live").item(), 1e-7);
    }
}
