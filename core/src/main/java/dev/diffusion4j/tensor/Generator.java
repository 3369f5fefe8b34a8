package dev.diffusion4j.tensor;

import dev.diffusion4j.DiffusionException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * A seeded random source (libtorch's CPU Mersenne-Twister generator). Every random draw in the
 * project takes one explicitly: the same seed gives the same samples. Its full state can be saved
 * and restored, which is how training resumes exactly.
 */
public final class Generator {
    final org.bytedeco.pytorch.Generator native_;
    final GeneratorOptional optional;
    private final long seed;

    public Generator(long seed) {
        Backend.ensureLoaded();
        this.seed = seed;
        this.native_ = Natives.persistent(torch.make_generator_cpu(seed));
        this.optional = Natives.persistent(new GeneratorOptional(native_));
    }

    /** The seed this generator was created with. */
    public long seed() {
        return seed;
    }

    /**
     * A new generator whose seed is derived from this one's seed and a stream number, so that
     * independent consumers (data, noise, dropout) get decorrelated, reproducible streams.
     */
    public static Generator derived(long seed, long stream) {
        return new Generator(mix(seed * 0x9E3779B97F4A7C15L + stream));
    }

    /** SplitMix64 finaliser: spreads nearby seeds across the 64-bit space. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The complete generator state as bytes (engine + cached normal sample). */
    public byte[] state() {
        try (Scope s = Scope.open()) {
            org.bytedeco.pytorch.Tensor st = native_.get_state();
            byte[] out = new byte[(int) st.numel()];
            new BytePointer(st.data_ptr()).get(out);
            return out;
        }
    }

    /** Restores a state obtained from {@link #state()}. */
    public void setState(byte[] state) {
        try (Scope s = Scope.open()) {
            org.bytedeco.pytorch.Tensor t = torch.empty(state.length).to(DType.UINT8.scalarType);
            new BytePointer(t.data_ptr()).put(state);
            native_.set_state(t);
        } catch (RuntimeException e) {
            throw new DiffusionException("invalid random generator state (" + state.length + " bytes): " + Natives.firstLine(e));
        }
    }
}
