package dev.diffusion4j.train;

/**
 * Learning rate by step: linear warm-up from 0 over {@code warmup} steps, then half-cosine decay
 * from the peak to {@code peak·minRatio} at the last step (Loshchilov &amp; Hutter 2017, without restarts).
 */
public record LrSchedule(double peak, int warmup, int total, double minRatio) {

    /** The rate for optimizer step {@code step} (0-based). */
    public double at(long step) {
        if (warmup > 0 && step < warmup) {
            return peak * (step + 1) / warmup;
        }
        long decaySteps = Math.max(1, total - warmup);
        double progress = Math.min(1.0, (double) (step - warmup) / decaySteps);
        double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
        return peak * (minRatio + (1 - minRatio) * cosine);
    }
}
