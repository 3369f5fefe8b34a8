package dev.diffusion4j.bench;

import dev.diffusion4j.DiffusionException;
import java.util.ArrayList;
import java.util.List;

/** The robust summaries benchmarks report on a shared machine. */
public final class Stats {
    private Stats() {
    }

    /** The median of {@code values} (the mean of the middle two for an even count). */
    public static double median(List<Double> values) {
        if (values.isEmpty()) {
            throw new DiffusionException("no measurements to take the median of");
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Rates over consecutive windows of {@code size} ticks; the median resists machine noise. */
    public static final class WindowTimer {
        private final int size;
        private final List<Double> rates = new ArrayList<>();
        private long windowStart = System.nanoTime();
        private int count;

        public WindowTimer(int size) {
            this.size = size;
        }

        public void tick() {
            if (++count == size) {
                long now = System.nanoTime();
                rates.add(size / ((now - windowStart) / 1e9));
                windowStart = now;
                count = 0;
            }
        }

        public int windows() {
            return rates.size();
        }

        /** Ticks per second, the median over the windows; the first window includes JIT warm-up and is dropped when there are others. */
        public double medianRate() {
            List<Double> r = new ArrayList<>(rates.size() > 2 ? rates.subList(1, rates.size()) : rates);
            return r.isEmpty() ? Double.NaN : median(r);
        }
    }

}
