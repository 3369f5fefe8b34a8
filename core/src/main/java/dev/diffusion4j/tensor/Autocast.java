package dev.diffusion4j.tensor;

import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * CPU automatic mixed precision: matmul/conv-class ops run in the given low-precision dtype while
 * parameters stay float32. Thread-local, like libtorch's autocast state. The cast cache is
 * disabled so that optimizer updates to the float32 weights are always seen. Low-precision kernels
 * come from oneDNN, so the first region runs {@link OneDnnGuard}'s check.
 */
public final class Autocast implements AutoCloseable {
    private final boolean prevEnabled;
    private final ScalarType prevType;
    private final boolean prevCache;

    private Autocast(DType dtype) {
        Backend.ensureLoaded();
        OneDnnGuard.ensureChecked();
        prevEnabled = active();
        prevType = torch.get_autocast_dtype(DeviceType.CPU);
        prevCache = torch.is_autocast_cache_enabled();
        torch.set_autocast_cache_enabled(false);
        torch.set_autocast_dtype(DeviceType.CPU, dtype.scalarType);
        torch.set_autocast_enabled(DeviceType.CPU, true);
    }

    /** Opens an autocast region in {@code dtype} (BFLOAT16 or FLOAT16). */
    public static Autocast open(DType dtype) {
        if (dtype != DType.BFLOAT16 && dtype != DType.FLOAT16) {
            throw new IllegalArgumentException("autocast dtype must be BFLOAT16 or FLOAT16, got " + dtype);
        }
        return new Autocast(dtype);
    }

    /** Whether an autocast region is open on this thread. */
    static boolean active() {
        return torch.is_autocast_enabled(DeviceType.CPU);
    }

    /**
     * Runs {@code op} with autocast off on this thread and switches it back on after: a float32
     * island inside a region, for ops whose low-precision kernels {@link OneDnnGuard} found wrong.
     */
    static Tensor outside(java.util.function.Supplier<Tensor> op) {
        boolean was = active();
        torch.set_autocast_enabled(DeviceType.CPU, false);
        try {
            return op.get();
        } finally {
            torch.set_autocast_enabled(DeviceType.CPU, was);
        }
    }

    @Override
    public void close() {
        torch.set_autocast_enabled(DeviceType.CPU, prevEnabled);
        torch.set_autocast_dtype(DeviceType.CPU, prevType);
        torch.set_autocast_cache_enabled(prevCache);
    }
}
