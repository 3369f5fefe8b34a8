package dev.diffusion4j.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress display for long loops: on a terminal, one line redrawn in place
 * ({@code label [#####.....] 42% 4200/10000 loss 0.31 | 312 it/s | ETA 0:19}); otherwise plain log
 * lines every 10% or 15 seconds, so logs stay readable when output is redirected.
 */
public final class ProgressBar {
    private static final int WIDTH = 28;
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final long LOG_NANOS = 15_000_000_000L;

    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean interactive;
    private final long start = System.nanoTime();
    private long lastDraw;
    private long lastLogDone = -1;
    private int lastLogDecile = -1;
    private long rateMarkDone;
    private long rateMarkTime = start;
    private double rate;

    public ProgressBar(String label, long total, PrintStream out, boolean interactive) {
        this.label = label;
        this.total = Math.max(1, total);
        this.out = out;
        this.interactive = interactive;
    }

    /** A bar on standard error that draws in place when a terminal is attached. */
    public static ProgressBar console(String label, long total) {
        return new ProgressBar(label, total, System.err, isTerminal());
    }

    /** True when the JVM has a console and the terminal can redraw lines. */
    public static boolean isTerminal() {
        String term = System.getenv("TERM");
        return System.console() != null && term != null && !term.equals("dumb");
    }

    /** Reports {@code done} units finished; {@code metrics} (may be empty) is shown after the counts. */
    public void update(long done, String metrics) {
        long now = System.nanoTime();
        updateRate(done, now);
        if (interactive) {
            if (now - lastDraw >= REDRAW_NANOS || done >= total) {
                lastDraw = now;
                out.print("\r" + line(done, metrics, now) + "\u001b[K");
                out.flush();
            }
        } else {
            int decile = (int) (10 * done / total);
            if (decile > lastLogDecile || now - lastDraw >= LOG_NANOS) {
                if (done != lastLogDone) {
                    lastDraw = now;
                    lastLogDecile = decile;
                    lastLogDone = done;
                    out.println(line(done, metrics, now));
                }
            }
        }
    }

    /** Ends the display with a final line. */
    public void finish(String summary) {
        if (interactive) {
            out.print("\r\u001b[K");
        }
        out.println(label + " " + summary);
        out.flush();
    }

    private void updateRate(long done, long now) {
        double window = (now - rateMarkTime) / 1e9;
        if (window >= 1.0 || rate == 0 && window > 0.2) {
            double inst = (done - rateMarkDone) / window;
            rate = rate == 0 ? inst : 0.7 * rate + 0.3 * inst;
            rateMarkDone = done;
            rateMarkTime = now;
        }
    }

    /** The current rate in units per second (smoothed over ~1 s windows). */
    public double rate() {
        return rate;
    }

    private String line(long done, String metrics, long now) {
        double frac = Math.min(1.0, (double) done / total);
        int filled = (int) Math.round(frac * WIDTH);
        StringBuilder sb = new StringBuilder(label).append(' ');
        if (interactive) {
            sb.append('[').append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("] ");
        }
        sb.append(String.format(Locale.ROOT, "%3d%% %d/%d", (int) (100 * frac), done, total));
        if (metrics != null && !metrics.isEmpty()) {
            sb.append(' ').append(metrics);
        }
        double elapsed = (now - start) / 1e9;
        double r = rate > 0 ? rate : (elapsed > 0 ? done / elapsed : 0);
        if (r > 0) {
            sb.append(String.format(Locale.ROOT, " | %s it/s | ETA %s", formatRate(r), formatDuration((total - done) / r)));
        }
        return sb.toString();
    }

    private static String formatRate(double r) {
        return r >= 100 ? String.format(Locale.ROOT, "%.0f", r) : String.format(Locale.ROOT, "%.1f", r);
    }

    /** h:mm:ss or m:ss. */
    public static String formatDuration(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        long h = s / 3600;
        long m = (s % 3600) / 60;
        long sec = s % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec) : String.format(Locale.ROOT, "%d:%02d", m, sec);
    }
}
