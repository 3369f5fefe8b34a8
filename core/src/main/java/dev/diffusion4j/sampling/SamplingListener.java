package dev.diffusion4j.sampling;

/** Observes a running sampler (progress, intermediate states) and can cancel it. */
public interface SamplingListener {
    SamplingListener NONE = new SamplingListener() { };

    default void onStep(SamplingStep step) {
    }

    /** Polled before every step; returning true stops the sampler with {@link SamplingCancelledException}. */
    default boolean isCancelled() {
        return false;
    }
}
