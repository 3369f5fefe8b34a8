package dev.diffusion4j.tensor;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * Loads libtorch once per JVM and owns the process-wide native settings.
 *
 * <p>Two thread pools share the cores: libtorch's OpenMP pool (element-wise ops, reductions,
 * convolutions) and OpenBLAS's own pthreads (matrix products). OpenBLAS threads spin after each
 * product, so with both pools at full width a small MLP step runs ~20× slower than with either
 * one alone (measured: 68 ms vs 2.9 ms for an 8-layer 128-wide MLP step). {@link ThreadPolicy}
 * picks which pool gets the cores.
 */
public final class Backend {
    /** Which thread pool gets the cores. */
    public enum ThreadPolicy {
        /** Matrix products on all cores, other ops single-threaded: best for MLPs and attention. */
        BLAS_PARALLEL,
        /** Element-wise ops and convolutions on all cores, matrix products single-threaded: best for conv nets. */
        OP_PARALLEL
    }

    private static volatile boolean loaded;
    private static ThreadPolicy policy;
    private static int threads;

    private Backend() {
    }

    /** Loads the natives (idempotent) and applies the default thread policy. */
    public static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (Backend.class) {
            if (loaded) {
                return;
            }
            // JavaCPP otherwise reads /proc/self/statm on every native allocation (~1.5 µs per op).
            if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
                System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
            }
            if (System.getProperty("org.bytedeco.javacpp.logger") == null) {
                System.setProperty("org.bytedeco.javacpp.logger", "slf4j");
            }
            Loader.load(torch.class);
            Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            loaded = true;
            setThreads(ThreadPolicy.BLAS_PARALLEL, Runtime.getRuntime().availableProcessors());
        }
    }

    /** Sets how many cores native compute uses and which pool gets them. */
    public static synchronized void setThreads(ThreadPolicy newPolicy, int cores) {
        ensureLoaded();
        int n = Math.max(1, cores);
        if (newPolicy == ThreadPolicy.BLAS_PARALLEL) {
            torch.set_num_threads(1);
            org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(n);
        } else {
            org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(1);
            torch.set_num_threads(n);
        }
        policy = newPolicy;
        threads = n;
    }

    public static synchronized ThreadPolicy threadPolicy() {
        ensureLoaded();
        return policy;
    }

    public static synchronized int threads() {
        ensureLoaded();
        return threads;
    }

    /** Seeds libtorch's global generator; project code always passes an explicit {@link Generator}. */
    public static void manualSeed(long seed) {
        ensureLoaded();
        torch.manual_seed(seed);
    }

    /** Resident set size of this process in bytes (0 if the platform does not report it). */
    public static long residentBytes() {
        ensureLoaded();
        return org.bytedeco.javacpp.Pointer.physicalBytes();
    }

    /** A one-line description of the backend for logs and reports. */
    public static String describe() {
        ensureLoaded();
        return "libtorch (org.bytedeco:pytorch) on " + System.getProperty("os.arch") + ", "
                + threads + " thread(s), policy " + policy;
    }
}
