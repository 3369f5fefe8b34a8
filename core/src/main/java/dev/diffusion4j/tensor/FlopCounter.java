package dev.diffusion4j.tensor;

/**
 * Counts, on the current thread, the floating-point operations of the matmul-class ops issued
 * through {@link Tensor} (matmul, linear, convolutions, fused attention; a multiply-add counts as
 * two) and the number of native ops issued at all. Benchmarks use it to state achieved GFLOP/s and
 * how many JNI calls a network evaluation costs. Element-wise ops count as ops but not as FLOPs:
 * they are memory-bound and a small share of a network's arithmetic.
 */
public final class FlopCounter implements AutoCloseable {
    private static final ThreadLocal<FlopCounter> ACTIVE = new ThreadLocal<>();

    private final FlopCounter previous;
    private long flops;
    private long ops;

    private FlopCounter(FlopCounter previous) {
        this.previous = previous;
    }

    /** Starts counting on this thread until {@link #close()}. */
    public static FlopCounter open() {
        FlopCounter c = new FlopCounter(ACTIVE.get());
        ACTIVE.set(c);
        return c;
    }

    public long flops() {
        return flops;
    }

    /** Native tensor ops issued (each one JNI call at least). */
    public long ops() {
        return ops;
    }

    static void countOp() {
        FlopCounter c = ACTIVE.get();
        if (c != null) {
            c.ops++;
        }
    }

    static void countFlops(long n) {
        FlopCounter c = ACTIVE.get();
        if (c != null) {
            c.flops += n;
        }
    }

    @Override
    public void close() {
        ACTIVE.set(previous);
    }
}
