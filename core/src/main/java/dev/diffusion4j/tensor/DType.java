package dev.diffusion4j.tensor;

import dev.diffusion4j.DiffusionException;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Element types, with their safetensors names and sizes in bytes. */
public enum DType {
    FLOAT32("F32", 4, ScalarType.Float),
    FLOAT64("F64", 8, ScalarType.Double),
    FLOAT16("F16", 2, ScalarType.Half),
    BFLOAT16("BF16", 2, ScalarType.BFloat16),
    INT64("I64", 8, ScalarType.Long),
    INT32("I32", 4, ScalarType.Int),
    INT16("I16", 2, ScalarType.Short),
    INT8("I8", 1, ScalarType.Char),
    UINT8("U8", 1, ScalarType.Byte),
    BOOL("BOOL", 1, ScalarType.Bool);

    private final String safetensorsName;
    private final int byteSize;
    final ScalarType scalarType;

    DType(String safetensorsName, int byteSize, ScalarType scalarType) {
        this.safetensorsName = safetensorsName;
        this.byteSize = byteSize;
        this.scalarType = scalarType;
    }

    /** The dtype string used in safetensors headers ("F32", "BF16", ...). */
    public String safetensorsName() {
        return safetensorsName;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return this == FLOAT32 || this == FLOAT64 || this == FLOAT16 || this == BFLOAT16;
    }

    public static DType fromSafetensorsName(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        throw new DiffusionException("unsupported tensor dtype '" + name + "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
    }

    /** Parses user-facing names: float32/fp32/f32, bfloat16/bf16, float16/fp16/half. */
    public static DType parse(String name) {
        switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "float32": case "fp32": case "f32": case "float": return FLOAT32;
            case "float64": case "fp64": case "f64": case "double": return FLOAT64;
            case "bfloat16": case "bf16": return BFLOAT16;
            case "float16": case "fp16": case "f16": case "half": return FLOAT16;
            default: throw new DiffusionException("unknown dtype '" + name + "': use float32, bfloat16 or float16");
        }
    }

    static DType of(ScalarType st) {
        for (DType d : values()) {
            if (d.scalarType.value == st.value) {
                return d;
            }
        }
        throw new IllegalStateException("tensor of unsupported scalar type " + st);
    }
}
