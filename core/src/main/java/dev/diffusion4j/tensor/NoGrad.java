package dev.diffusion4j.tensor;

import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.InferenceMode;

/**
 * Thread-local autograd switches. Grad mode is per thread in libtorch, so sampling and serving
 * threads must open one of these explicitly.
 */
public final class NoGrad implements AutoCloseable {
    private final org.bytedeco.javacpp.Pointer[] guards;

    private NoGrad(org.bytedeco.javacpp.Pointer... guards) {
        this.guards = guards;
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

    /**
     * Re-enables gradient recording inside a no-grad or inference region (e.g. for a guidance
     * gradient); tensors made in inference mode must be copied before they can join a graph.
     */
    public static NoGrad enableGrad() {
        Backend.ensureLoaded();
        return new NoGrad(new InferenceMode(false), new AutoGradMode(true));
    }

    public static boolean isGradEnabled() {
        Backend.ensureLoaded();
        return org.bytedeco.pytorch.GradMode.is_enabled();
    }

    @Override
    public void close() {
        // Destroying the RAII guards, innermost first, restores the previous modes.
        for (int i = guards.length - 1; i >= 0; i--) {
            guards[i].close();
        }
    }
}
