package dev.diffusion4j.io;

import dev.diffusion4j.tensor.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Where a tensor lives in a file: its name, element type, shape and byte range {@code [begin, end)}
 * relative to the start of the file's data buffer.
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    /** The size of the tensor's data in bytes. */
    public long byteCount() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo other && name.equals(other.name) && dtype == other.dtype
                && Arrays.equals(shape, other.shape) && begin == other.begin && end == other.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return name + ": " + dtype.safetensorsName() + " " + Arrays.toString(shape) + " @ [" + begin + ", " + end + ")";
    }
}
