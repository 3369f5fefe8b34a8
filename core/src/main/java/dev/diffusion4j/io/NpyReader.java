package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads NumPy {@code .npy} files (format versions 1, 2 and 3): the magic {@code \x93NUMPY}, the
 * version, a little-endian header length (2 bytes in version 1, 4 in versions 2 and 3), a Python
 * dict literal with {@code descr}, {@code fortran_order} and {@code shape}, then the array in
 * C order. Supported dtypes: {@code |u1 <f4 <f8 <i8 <i4 |b1}.
 */
public final class NpyReader {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Map<String, DType> DTYPES = Map.of("|u1", DType.UINT8, "<f4", DType.FLOAT32, "<f8", DType.FLOAT64,
            "<i8", DType.INT64, "<i4", DType.INT32, "|b1", DType.BOOL);
    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
    private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

    private NpyReader() {
    }

    /** A NumPy array on the Java heap: dtype, shape, and its values as raw little-endian bytes in C order. */
    public record NpyArray(DType dtype, long[] shape, byte[] data) {

        /** Number of elements. */
        public long numel() {
            return data.length / dtype.byteSize();
        }

        /** The array as a new tensor of its dtype and shape, in the caller's scope. */
        public Tensor tensor() {
            return Tensor.fromBytes(data, dtype, shape);
        }
    }

    /** Reads {@code file}; any format problem is a {@link DiffusionException} naming the file. */
    public static NpyArray read(Path file) {
        if (Files.isDirectory(file)) {
            throw new DiffusionException("cannot read " + file + ": it is a directory, not a .npy file");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return read(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new DiffusionException("cannot read " + file + ": the file does not exist");
        } catch (IOException e) {
            throw new DiffusionException("cannot read " + file + ": " + AtomicFiles.reason(e));
        }
    }

    /** Reads a .npy stream; {@code name} identifies it in error messages. */
    public static NpyArray read(InputStream in, String name) throws IOException {
        byte[] preamble = in.readNBytes(8);
        if (preamble.length < 8 || !Arrays.equals(Arrays.copyOf(preamble, 6), MAGIC)) {
            throw new DiffusionException("not a .npy file: " + name + " does not start with \\x93NUMPY; save arrays with numpy.save");
        }
        int major = preamble[6] & 0xff;
        if (major < 1 || major > 3) {
            throw new DiffusionException("unsupported .npy format version " + major + "." + (preamble[7] & 0xff) + " in " + name
                    + "; versions 1 to 3 are supported");
        }
        byte[] lengthBytes = in.readNBytes(major == 1 ? 2 : 4);
        if (lengthBytes.length < (major == 1 ? 2 : 4)) {
            throw new DiffusionException("truncated .npy file " + name + ": it ends inside the header length");
        }
        long headerLength = 0;
        for (int i = lengthBytes.length - 1; i >= 0; i--) {
            headerLength = headerLength << 8 | (lengthBytes[i] & 0xff);
        }
        if (headerLength > 1 << 20) {
            throw new DiffusionException("corrupt .npy file " + name + ": header length " + headerLength + " bytes is implausible");
        }
        byte[] headerBytes = in.readNBytes((int) headerLength);
        if (headerBytes.length < headerLength) {
            throw new DiffusionException("truncated .npy file " + name + ": expected a " + headerLength + "-byte header, file ends after "
                    + headerBytes.length);
        }
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).strip();
        DType dtype = dtype(header, name);
        long[] shape = shape(header, name);
        Matcher fortran = FORTRAN.matcher(header);
        if (!fortran.find()) {
            throw new DiffusionException("bad .npy header in " + name + ": no fortran_order entry in " + header);
        }
        if (fortran.group(1).equals("True")) {
            throw new DiffusionException(name + " stores its array in Fortran (column-major) order; save it in C order "
                    + "with numpy.save(path, numpy.ascontiguousarray(a))");
        }
        long count = 1;
        for (long s : shape) {
            if (s != 0 && count > (Integer.MAX_VALUE - 8L) / dtype.byteSize() / s) {
                throw new DiffusionException(name + " holds an array of shape " + Arrays.toString(shape) + " over 2 GiB; split it into "
                        + "smaller files");
            }
            count *= s;
        }
        int bytes = (int) (count * dtype.byteSize());
        byte[] data = in.readNBytes(bytes);
        if (data.length < bytes) {
            throw new DiffusionException("truncated .npy file " + name + ": expected " + bytes + " bytes of " + dtype + " values for shape "
                    + Arrays.toString(shape) + ", but the file ends after " + data.length + " of them");
        }
        if (in.read() >= 0) {
            throw new DiffusionException("corrupt .npy file " + name + ": more bytes follow the " + bytes + " its header declares");
        }
        return new NpyArray(dtype, shape, data);
    }

    private static DType dtype(String header, String name) {
        Matcher m = DESCR.matcher(header);
        if (!m.find()) {
            throw new DiffusionException("bad .npy header in " + name + ": no descr entry in " + header);
        }
        String descr = m.group(1);
        DType d = DTYPES.get(descr);
        if (d == null) {
            String hint = descr.startsWith(">") ? " (big-endian: convert with a.astype(a.dtype.newbyteorder('<')))" : "";
            throw new DiffusionException("unsupported .npy dtype '" + descr + "' in " + name + hint
                    + "; supported: |u1 (uint8), <f4, <f8, <i4, <i8, |b1 (bool)");
        }
        return d;
    }

    private static long[] shape(String header, String name) {
        Matcher m = SHAPE.matcher(header);
        if (!m.find()) {
            throw new DiffusionException("bad .npy header in " + name + ": no shape entry in " + header);
        }
        String inner = m.group(1).strip();
        if (inner.isEmpty()) {
            return new long[0];
        }
        String[] parts = inner.split(",");
        int n = parts[parts.length - 1].isBlank() ? parts.length - 1 : parts.length;
        long[] shape = new long[n];
        for (int i = 0; i < n; i++) {
            try {
                shape[i] = Long.parseLong(parts[i].strip().replace("L", ""));
            } catch (NumberFormatException e) {
                throw new DiffusionException("bad .npy header in " + name + ": shape (" + inner + ") is not a tuple of integers");
            }
            if (shape[i] < 0) {
                throw new DiffusionException("bad .npy header in " + name + ": negative size in shape (" + inner + ")");
            }
        }
        return shape;
    }
}
