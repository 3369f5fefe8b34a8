package dev.diffusion4j.eval;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How close generated samples are to a data distribution, next to the floor that sampling noise
 * alone produces. Each metric compares the n samples with fresh reference sets of n data points
 * (averaged over several draws). The floor is what the metric gives for two independent sets of
 * n data points: for the energy distance its exact expectation (2/n)·E‖X − X'‖, estimated from
 * {@value #FLOOR_POINTS} data points — a single pair of draws at n = 2000 scatters by a factor of
 * two or more around it; for MMD and sliced Wasserstein the mean over the reference draws.
 * For a finite data set reference sets are random subsets without replacement.
 */
public final class SampleQuality {
    /** The figures of one evaluation. */
    public record Report(int samples, int referenceSize, int repeats,
                         double energyDistance, double energyFloor,
                         double mmd, double mmdFloor,
                         double slicedWasserstein, double slicedWassersteinFloor) {
        /** Energy distance divided by its floor: 1 means indistinguishable at this sample size. */
        public double energyRatio() {
            return energyDistance / energyFloor;
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("samples", samples);
            m.put("reference_size", referenceSize);
            m.put("repeats", repeats);
            m.put("energy_distance", energyDistance);
            m.put("energy_distance_floor", energyFloor);
            m.put("energy_ratio", energyRatio());
            m.put("mmd", mmd);
            m.put("mmd_floor", mmdFloor);
            m.put("sliced_wasserstein", slicedWasserstein);
            m.put("sliced_wasserstein_floor", slicedWassersteinFloor);
            return m;
        }
    }

    /** Random projections used for the sliced Wasserstein distance. */
    public static final int PROJECTIONS = 128;
    /** Data points used to estimate E‖X − X'‖ for the energy floor. */
    public static final int FLOOR_POINTS = 20_000;

    private SampleQuality() {
    }

    /** Up to {@code count} rows of {@code rows}, chosen at random without replacement. */
    private static Tensor subset(Tensor rows, int count, Generator g) {
        long n = rows.size(0);
        return n <= count ? rows : rows.indexSelect(0, Tensor.randperm(g, n).narrow(0, 0, count));
    }

    /** Evaluates {@code samples} [n, d] against {@code data} with {@code repeats} reference draws. */
    public static Report evaluate(Tensor samples, DataSource data, int repeats, long seed) {
        if (samples.dim() != 2 || samples.size(1) != data.dim()) {
            throw new DiffusionException("samples have shape " + java.util.Arrays.toString(samples.shape()) + " but data set '"
                    + data.name() + "' has " + data.dim() + " dimensions");
        }
        if (repeats < 1) {
            throw new DiffusionException("repeats must be at least 1");
        }
        Generator g = new Generator(seed);
        int n = (int) samples.size(0);
        try (Scope s = Scope.open()) {
            Optional<Tensor> all = data.all();
            int k = n;
            if (all.isPresent()) {
                long rows = all.get().size(0);
                if (rows < 4) {
                    throw new DiffusionException("data set '" + data.name() + "' has only " + rows + " rows; need at least 4 to evaluate");
                }
                k = (int) Math.min(n, rows / 2);
            }
            Tensor pool = all.isPresent() ? subset(all.get(), FLOOR_POINTS, g) : data.sample(g, FLOOR_POINTS);
            double edFloor = SampleMetrics.expectedEnergyFloor(pool, k);
            double ed = 0, mmd = 0, mmdFloor = 0, sw = 0, swFloor = 0;
            for (int r = 0; r < repeats; r++) {
                try (Scope rs = Scope.open()) {
                    Tensor a;
                    Tensor b;
                    Tensor x = samples;
                    if (all.isPresent()) {
                        Tensor perm = Tensor.randperm(g, all.get().size(0));
                        a = all.get().indexSelect(0, perm.narrow(0, 0, k));
                        b = all.get().indexSelect(0, perm.narrow(0, k, k));
                        if (k < n) {
                            x = samples.indexSelect(0, Tensor.randperm(g, n).narrow(0, 0, k));
                        }
                    } else {
                        a = data.sample(g, k);
                        b = data.sample(g, k);
                    }
                    ed += SampleMetrics.energyDistance(x, a);
                    mmd += SampleMetrics.mmd(x, a);
                    mmdFloor += SampleMetrics.mmd(b, a);
                    sw += SampleMetrics.slicedWasserstein(x, a, PROJECTIONS, g);
                    swFloor += SampleMetrics.slicedWasserstein(b, a, PROJECTIONS, g);
                }
            }
            return new Report(n, k, repeats, ed / repeats, edFloor, mmd / repeats, mmdFloor / repeats,
                    sw / repeats, swFloor / repeats);
        }
    }
}
