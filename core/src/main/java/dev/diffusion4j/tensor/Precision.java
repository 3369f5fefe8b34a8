package dev.diffusion4j.tensor;

import dev.diffusion4j.DiffusionException;
import java.util.Locale;

/**
 * Arithmetic of the forward and backward passes. Weights, optimizer moments and the EMA are always
 * float32; {@link #BF16} runs matmul- and convolution-class ops under CPU autocast to bfloat16.
 */
public enum Precision {
    FP32,
    BF16;

    /**
     * The faster precision for convolutional networks on this machine: BF16 where the CPU has bf16
     * units and oneDNN passed its check ({@link Backend#bf16Fast()}), else FP32. With AVX512-BF16 and
     * oneDNN 3.12, bf16 trains the default and seed U-Nets 1.4-1.5x faster than fp32 (README).
     */
    public static Precision fastest() {
        return Backend.bf16Fast() ? BF16 : FP32;
    }

    /** A region of code that runs at this precision. */
    public interface Region extends AutoCloseable {
        @Override
        void close();
    }

    /** Opens the autocast region for this precision; a no-op region for FP32. */
    public Region open() {
        return this == BF16 ? Autocast.open(DType.BFLOAT16)::close : () -> { };
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Precision parse(String s) {
        for (Precision p : values()) {
            if (p.configName().equalsIgnoreCase(s)) {
                return p;
            }
        }
        throw new DiffusionException("unknown precision '" + s + "'; use fp32 or bf16");
    }
}
