package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Axis tick positions at "nice" values, multiples of 1, 2 or 5 × 10^k (Heckbert, "Nice numbers for
 * graph labels", Graphics Gems 1990), for linear and log-10 axes, and their labels.
 */
public final class Ticks {
    private static final double[] NICE = {1, 2, 5, 10};
    /** Relative slack so that a tick landing on a limit up to rounding still counts as inside. */
    private static final double EPS = 1e-9;
    /** Log ranges up to this many decades get 1-2-5 ticks; wider ones would crowd with them. */
    static final double ONE_TWO_FIVE_DECADES = 2.5;

    private Ticks() {
    }

    /**
     * The smallest step of the form 1, 2 or 5 × 10^k that splits {@code span} into at most
     * {@code maxIntervals} intervals.
     */
    public static double niceStep(double span, int maxIntervals) {
        if (!(span > 0) || !Double.isFinite(span) || maxIntervals < 1) {
            throw new DiffusionException("cannot choose a tick step for span " + span + " and " + maxIntervals
                    + " intervals: the span must be positive and finite, the intervals at least 1");
        }
        double raw = span / maxIntervals;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : NICE) {
            if (m * magnitude >= raw * (1 - EPS)) {
                return m * magnitude;
            }
        }
        return 10 * magnitude;
    }

    /**
     * At most {@code maxCount} ticks inside [lo, hi] (lo &lt; hi): every multiple of
     * {@link #niceStep niceStep(hi − lo, maxCount − 1)} in the range, so consecutive ticks are one
     * step apart and neither limit is more than one step away from its nearest tick. The 1-2-5
     * steps grow by up to 2.5×, so there may be fewer ticks: at least one when 4 are allowed, two
     * when 6 are.
     */
    public static double[] linear(double lo, double hi, int maxCount) {
        checkRange(lo, hi, maxCount);
        return multiples(lo, hi, niceStep(hi - lo, maxCount - 1));
    }

    /** Every multiple of {@code step} in [lo, hi], up to rounding. */
    static double[] multiples(double lo, double hi, double step) {
        // Integer multiples of the step avoid the drift of repeated addition (0.1 + 0.2 ≠ 0.3).
        long first = (long) Math.ceil(lo / step - EPS);
        long last = (long) Math.floor(hi / step + EPS);
        List<Double> out = new ArrayList<>();
        for (long k = first; k <= last; k++) {
            out.add(clean(k * step));
        }
        return toArray(out);
    }

    /**
     * At most {@code maxCount} major ticks for a log-10 axis over [lo, hi] (0 &lt; lo &lt; hi). Up to
     * {@value #ONE_TWO_FIVE_DECADES} decades the 1, 2, 5 × 10^k values in the range, when there are
     * at least two and no more than allowed; else powers of ten (every d-th decade when there are
     * too many); else (a range narrower than about a factor 2) linear nice ticks.
     */
    public static double[] log10(double lo, double hi, int maxCount) {
        checkRange(lo, hi, maxCount);
        if (!(lo > 0)) {
            throw new DiffusionException("a log axis needs positive limits but got [" + lo + ", " + hi + "]");
        }
        int firstExp = (int) Math.ceil(Math.log10(lo) - EPS);
        int lastExp = (int) Math.floor(Math.log10(hi) + EPS);
        List<Double> oneTwoFive = new ArrayList<>();
        for (int e = firstExp - 1; e <= lastExp; e++) {
            for (double m : new double[] {1, 2, 5}) {
                double v = clean(m * pow10(e));
                if (v >= lo * (1 - EPS) && v <= hi * (1 + EPS)) {
                    oneTwoFive.add(v);
                }
            }
        }
        boolean fewDecades = Math.log10(hi / lo) <= ONE_TWO_FIVE_DECADES;
        if (fewDecades && oneTwoFive.size() >= 2 && oneTwoFive.size() <= maxCount) {
            return toArray(oneTwoFive);
        }
        if (lastExp > firstExp) {
            int every = 1;
            while ((lastExp - firstExp) / every + 1 > maxCount) {
                every++;
            }
            List<Double> out = new ArrayList<>();
            // Align skipped decades on multiples of `every`, so 10^0 stays labelled when it is in range.
            for (int e = Math.floorDiv(firstExp + every - 1, every) * every; e <= lastExp; e += every) {
                out.add(pow10(e));
            }
            if (out.size() >= 2) {
                return toArray(out);
            }
        }
        if (oneTwoFive.size() >= 2 && oneTwoFive.size() <= maxCount) {
            return toArray(oneTwoFive);
        }
        return linear(lo, hi, maxCount);
    }

    /**
     * Minor ticks of a log-10 axis: 2·10^k … 9·10^k inside [lo, hi]; empty when the range spans more
     * than {@code maxDecades} decades, where they would crowd into a grey band.
     */
    public static double[] log10Minor(double lo, double hi, int maxDecades) {
        if (!(lo > 0) || !(hi > lo) || Math.log10(hi / lo) > maxDecades) {
            return new double[0];
        }
        List<Double> out = new ArrayList<>();
        for (int e = (int) Math.floor(Math.log10(lo)); e <= (int) Math.ceil(Math.log10(hi)); e++) {
            for (int m = 2; m <= 9; m++) {
                double v = clean(m * pow10(e));
                if (v >= lo && v <= hi) {
                    out.add(v);
                }
            }
        }
        return toArray(out);
    }

    /**
     * A tick label for {@code value} on an axis whose ticks are {@code step} apart: just enough
     * decimals to tell neighbours apart, plain notation between 10⁻⁴ and 10⁶ and "2.5e-7" style
     * outside, never "-0".
     */
    public static String label(double value, double step) {
        if (value == 0 || Math.abs(value) < Math.abs(step) * EPS) {
            return "0";
        }
        if (!Double.isFinite(value)) {
            return Double.toString(value);
        }
        double abs = Math.abs(value);
        int stepExp = (int) Math.floor(Math.log10(Math.abs(step)) + EPS);
        if (abs >= 1e-4 && abs < 1e6) {
            int decimals = Math.max(0, -stepExp);
            return String.format(Locale.ROOT, "%." + decimals + "f", value);
        }
        int exp = (int) Math.floor(Math.log10(abs) + EPS);
        int digits = Math.max(0, Math.min(6, exp - stepExp));
        BigDecimal mantissa = BigDecimal.valueOf(value / pow10(exp)).setScale(digits, RoundingMode.HALF_EVEN);
        if (mantissa.abs().compareTo(BigDecimal.TEN) >= 0) {
            // 9.96e-5 shown with one digit rounds up to 10.0: carry into the exponent.
            exp++;
            mantissa = BigDecimal.valueOf(value / pow10(exp)).setScale(digits, RoundingMode.HALF_EVEN);
        }
        String m = mantissa.stripTrailingZeros().toPlainString();
        return m + "e" + exp;
    }

    /** A label for a tick of a log axis, with the precision of the tick's own decade. */
    public static String logLabel(double value) {
        return label(value, pow10((int) Math.floor(Math.log10(value) + EPS)));
    }

    static double pow10(int e) {
        // Parsing "1e-3" gives the double nearest to 10^-3; Math.pow(10, -3) can be one ulp off.
        return Double.parseDouble("1e" + e);
    }

    /**
     * Rounds k·step to 15 significant digits, the decimal it stands for (3 × 0.1 is 0.30000000000000004
     * in binary), so labels and positions agree; turns -0 into 0.
     */
    private static double clean(double v) {
        double r = new BigDecimal(v).round(new MathContext(15, RoundingMode.HALF_EVEN)).doubleValue();
        return r == 0 ? 0.0 : r;
    }

    private static void checkRange(double lo, double hi, int maxCount) {
        if (!Double.isFinite(lo) || !Double.isFinite(hi) || !(lo < hi) || maxCount < 2) {
            throw new DiffusionException("cannot place ticks on [" + lo + ", " + hi + "] with at most " + maxCount
                    + ": the range must be finite with lo < hi, and at least 2 ticks allowed");
        }
    }

    private static double[] toArray(List<Double> values) {
        double[] out = new double[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}
