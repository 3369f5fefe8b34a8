package dev.diffusion4j.tensor;

import java.util.List;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.Context;
import org.bytedeco.pytorch.global.torch;

/**
 * Loads libtorch once per JVM and owns the process-wide native settings.
 *
 * <p>Two thread pools share the cores: libtorch's OpenMP pool (element-wise ops, reductions,
 * convolutions) and OpenBLAS's own pthreads (matrix products). OpenBLAS threads spin after each
 * product, so with both pools at full width a small MLP step runs ~20× slower than with either
 * one alone (measured: 68 ms vs 2.9 ms for an 8-layer 128-wide MLP step). {@link ThreadPolicy}
 * picks which pool gets the cores.
 *
 * <p>Denormal floats are flushed to zero on every thread that opens a {@link Scope}: activations
 * near 1e-38 otherwise take x86's microcode slow path, and a 200-step DDPM run of the default 2D
 * model measured 30 ms per step with denormals against 13 ms flushed. The setting lives in each
 * thread's MXCSR register; it also makes that thread's Java float arithmetic flush values below
 * the normal range (1.2e-38 float, 2.2e-308 double), which nothing in the project relies on.
 *
 * <p>One setting has to come from the environment, before the process starts: glibc's malloc
 * thresholds. By default glibc serves libtorch's megabyte-sized buffers with fresh mmap()s that
 * are page-faulted in on every step; {@code MALLOC_MMAP_THRESHOLD_=33554432} keeps them in the heap
 * for reuse (DDPM sampling at batch 2000: 45 → 109 steps/s). Buffers above glibc's 32 MB ceiling for
 * that threshold (im2col buffers and attention maps at batch 128) are still mmap()ed afresh unless
 * {@code MALLOC_MMAP_MAX_=0} turns mmap off (U-Net training 1.1–1.2× faster). Java threads are not
 * the process's first thread, so glibc gives them arenas of their own, built from 64 MB sub-heaps
 * that it unmaps as soon as they empty: {@code MALLOC_ARENA_MAX=1} puts every thread on the one
 * sbrk heap, and {@code MALLOC_TRIM_THRESHOLD_=2147483648} hands its top back to the kernel only
 * beyond 2 GB free. Together these two measured U-Net training 1.3× and sampling 1.6–1.7× faster
 * (bench-images, alternating runs), a tenth of the page faults per training step, and peak memory
 * about 10 % higher. The {@code diffuse} launcher and the test configuration set all four.
 *
 * <p>That is not enough for convolutions: without oneDNN, libtorch unfolds the whole batch into one
 * im2col buffer (14 MB for a 16-channel 28×28 layer at batch 32), and glibc hands that memory back
 * and forth to the kernel, so every second call page-faulted all of it in again — 3,500 faults and
 * 38 ms instead of 3 ms, which made a U-Net forward cost 3.6 ms per image at batch 16 and 15 ms at
 * batch 128. libtorch's {@code THP_MEM_ALLOC_ENABLE} backs buffers of 2 MB and more with transparent
 * huge pages (one fault per 2 MB) and is read at the first such allocation, so it is set here,
 * in-process, unless the environment already says otherwise.
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
    private static final ThreadLocal<Boolean> THREAD_READY = ThreadLocal.withInitial(() -> false);
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
            torch.set_env("THP_MEM_ALLOC_ENABLE", "1", false);
            Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            // Where NNPACK cannot start (e.g. AMD EPYC) libtorch retries and warns on every eligible
            // convolution; oneDNN or libtorch's own kernels do that work everywhere else anyway.
            torch.globalContext().setUserEnabledNNPACK(false);
            loaded = true;
            setThreads(ThreadPolicy.BLAS_PARALLEL, Runtime.getRuntime().availableProcessors());
        }
    }

    /** Flushes denormals to zero on the calling thread (once per thread; cheap afterwards). */
    static void prepareThread() {
        if (!THREAD_READY.get()) {
            ensureLoaded();
            Context.setFlushDenormal(true);
            THREAD_READY.set(true);
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

    /** Gives the cores to {@code newPolicy}'s pool, keeping the thread count; no-op when it already has them. */
    public static synchronized void useThreadPolicy(ThreadPolicy newPolicy) {
        ensureLoaded();
        if (policy != newPolicy) {
            setThreads(newPolicy, threads);
        }
    }

    public static synchronized ThreadPolicy threadPolicy() {
        ensureLoaded();
        return policy;
    }

    public static synchronized int threads() {
        ensureLoaded();
        return threads;
    }

    /** Resident set size of this process in bytes (0 if the platform does not report it). */
    public static long residentBytes() {
        ensureLoaded();
        return org.bytedeco.javacpp.Pointer.physicalBytes();
    }

    /** The glibc variables of the class comment; read by glibc at process start, so only reported here. */
    private static final List<String> MALLOC_SETTINGS =
            List.of("MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_");

    /** A one-line description of the backend for logs and reports. */
    public static String describe() {
        ensureLoaded();
        return "libtorch (org.bytedeco:pytorch) on " + System.getProperty("os.arch") + ", "
                + threads + " thread(s), policy " + policy + ", " + OneDnnGuard.describe() + ", " + mallocSettings();
    }

    /** Which of the glibc malloc settings this process started without (each costs speed, see the class comment). */
    static String mallocSettings() {
        List<String> unset = MALLOC_SETTINGS.stream().filter(name -> System.getenv(name) == null).toList();
        return unset.isEmpty() ? "glibc malloc settings in place"
                : "glibc malloc settings missing: " + String.join(", ", unset) + " (slower; the diffuse launcher sets them)";
    }

    /**
     * Whether oneDNN's convolutions failed their float64 check on this CPU ({@link OneDnnGuard}):
     * then bf16 convolutions have no fast path (they run in float32, or emulated where float32
     * convolutions failed too and libtorch's own, slower kernels run every convolution).
     */
    public static boolean oneDnnOff() {
        return OneDnnGuard.bf16Wrong();
    }

    /** Whether bf16 has a fast path here: bf16 hardware that oneDNN (checked right on this CPU) can use. */
    public static boolean bf16Fast() {
        return hasBf16Hardware() && !oneDnnOff();
    }

    static Context context() {
        return torch.globalContext();
    }

    /**
     * Whether this CPU has bfloat16 matrix hardware (AMX-BF16 or AVX512-BF16, read from
     * /proc/cpuinfo). Without it libtorch emulates bf16 matmuls and convolutions, which are then
     * several times slower than float32, so bf16 autocast only pays off where this is true.
     */
    public static boolean hasBf16Hardware() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return line.contains(" amx_bf16") || line.contains(" avx512_bf16");
                }
            }
        } catch (java.io.IOException | SecurityException e) {
            return false;
        }
        return false;
    }
}
