package dev.diffusion4j.tensor;

import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.InferenceMode;

/**
 * Thread-local autograd switches. Grad mode is per thread in libtorch, so sampling and serving
 * threads must open one of these explicitly.
 */
public final class NoGrad implements AutoCloseable {
    private final org.bytedeco.javacpp.Pointer guard;

    private NoGrad(org.bytedeco.javacpp.Pointer guard) {
        this.guard = guard;
    }

    /** Disables gradient recording until closed (tensors stay usable in autograd later). */
    public static NoGrad open() {
        Backend.ensureLoaded();
        return new NoGrad(new AutoGradMode(false));
    }

    /**
     * Inference mode: like {@link #open()} but faster; tensors created inside can never join an
     * autograd graph. Use for pure sampling.
     */
    public static NoGrad inference() {
        Backend.ensureLoaded();
        return new NoGrad(new InferenceMode(true));
    }

    /** Re-enables gradient recording inside a no-grad region (e.g. for a guidance gradient). */
    public static NoGrad enableGrad() {
        Backend.ensureLoaded();
        return new NoGrad(new AutoGradMode(true));
    }

    public static boolean isGradEnabled() {
        Backend.ensureLoaded();
        return org.bytedeco.pytorch.GradMode.is_enabled();
    }

    @Override
    public void close() {
        // Destroying the RAII guard restores the previous mode.
        guard.close();
    }
}
