package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST (LeCun et al. 1998): the magic bytes
 * {@code 00 00 type ndims}, {@code ndims} big-endian 32-bit sizes, then the values in row-major
 * order. Only unsigned bytes (type {@code 0x08}) are accepted, which covers images [N, H, W] and
 * labels [N]. Gzip-compressed files are recognised by their first two bytes ({@code 1f 8b}),
 * whatever their name.
 */
public final class IdxReader {
    private static final int UNSIGNED_BYTE = 0x08;

    private IdxReader() {
    }

    /** An IDX array held on the Java heap: its sizes and its values (unsigned bytes), row-major. */
    public record IdxArray(long[] shape, byte[] data) {

        /** The size of the first axis: the number of images or labels. */
        public int count() {
            return (int) shape[0];
        }

        /** The values as a new uint8 tensor of {@link #shape()} in the caller's scope. */
        public Tensor tensor() {
            return Tensor.fromBytes(data, DType.UINT8, shape);
        }
    }

    /** Reads {@code file}, raw or gzip-compressed. */
    public static IdxArray read(Path file) {
        if (Files.isDirectory(file)) {
            throw new DiffusionException("cannot read " + file + ": it is a directory, not an IDX file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new DiffusionException("cannot read " + file + ": the file does not exist");
        } catch (IOException e) {
            throw new DiffusionException("cannot read " + file + ": " + AtomicFiles.reason(e));
        }
    }

    /** Reads an IDX stream, raw or gzip-compressed; {@code name} identifies it in error messages. */
    public static IdxArray read(InputStream raw, String name) throws IOException {
        InputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
        in.reset();
        if (gzip) {
            try {
                in = new GZIPInputStream(in, 1 << 16);
            } catch (ZipException | EOFException e) {
                throw new DiffusionException("corrupt IDX file " + name + ": bad gzip header (" + e.getMessage() + ")");
            }
        }
        try {
            return parse(in, name);
        } catch (ZipException e) {
            throw new DiffusionException("corrupt IDX file " + name + ": bad gzip data (" + e.getMessage()
                    + "); download the file again");
        }
    }

    private static IdxArray parse(InputStream in, String name) throws IOException {
        byte[] magic = new byte[4];
        int got = readFully(in, magic);
        if (got < 4) {
            throw new DiffusionException("not an IDX file: " + name + " ends after " + got + " bytes, before its 4-byte magic number");
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new DiffusionException(String.format("not an IDX file: %s starts with %02x %02x %02x %02x, but IDX files "
                    + "start with 00 00 <type> <ndims>", name, magic[0], magic[1], magic[2], magic[3]));
        }
        int type = magic[2] & 0xff;
        int ndims = magic[3] & 0xff;
        if (type != UNSIGNED_BYTE) {
            throw new DiffusionException(String.format("unsupported IDX value type 0x%02x (%s) in %s; only unsigned bytes "
                    + "(0x08), as in MNIST images and labels, are supported", type, typeName(type), name));
        }
        if (ndims == 0) {
            throw new DiffusionException("corrupt IDX file " + name + ": it declares 0 dimensions");
        }
        byte[] dimBytes = new byte[4 * ndims];
        got = readFully(in, dimBytes);
        if (got < dimBytes.length) {
            throw new DiffusionException("truncated IDX file " + name + ": expected " + ndims + " sizes in the header, file ends after "
                    + (4 + got) + " bytes");
        }
        long[] shape = new long[ndims];
        long count = 1;
        for (int d = 0; d < ndims; d++) {
            int i = 4 * d;
            shape[d] = ((dimBytes[i] & 0xffL) << 24) | ((dimBytes[i + 1] & 0xff) << 16) | ((dimBytes[i + 2] & 0xff) << 8)
                    | (dimBytes[i + 3] & 0xff);
            count *= shape[d];
            if (count > Integer.MAX_VALUE - 8) {
                throw new DiffusionException("IDX file " + name + " declares shape " + Arrays.toString(shape)
                        + ", over 2^31 values; split it into smaller files");
            }
        }
        byte[] data = new byte[(int) count];
        got = readFully(in, data);
        if (got < data.length) {
            throw new DiffusionException("truncated IDX file " + name + ": expected " + data.length + " bytes of values for shape "
                    + Arrays.toString(shape) + ", but the file ends after " + got + " of them");
        }
        if (in.read() >= 0) {
            throw new DiffusionException("corrupt IDX file " + name + ": more bytes follow the " + data.length
                    + " values its header " + Arrays.toString(shape) + " declares");
        }
        return new IdxArray(shape, data);
    }

    /** Reads until {@code buf} is full or the stream ends (a truncated gzip stream counts as ended); returns the bytes read. */
    private static int readFully(InputStream in, byte[] buf) throws IOException {
        int off = 0;
        try {
            while (off < buf.length) {
                int n = in.read(buf, off, buf.length - off);
                if (n < 0) {
                    break;
                }
                off += n;
            }
        } catch (EOFException e) {
            // GZIPInputStream signals a cut-off file this way; the caller reports how far it got.
        }
        return off;
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0x09 -> "signed byte";
            case 0x0B -> "16-bit integer";
            case 0x0C -> "32-bit integer";
            case 0x0D -> "32-bit float";
            case 0x0E -> "64-bit float";
            default -> "not an IDX type";
        };
    }
}
