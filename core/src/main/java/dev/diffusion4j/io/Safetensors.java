package dev.diffusion4j.io;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then the raw little-endian data. Files of any
 * size are supported; tensor data never passes through the Java heap.
 */
public final class Safetensors {
    /** The key of the optional string-to-string metadata object in the header. */
    public static final String METADATA_KEY = "__metadata__";
    /** Headers larger than this are rejected before being read, as the reference implementation does. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final int WRITE_CHUNK = 16 << 20;
    /** One mapping per tensor up to this size; larger tensors are copied mapping by mapping. */
    static final int READ_CHUNK = 1 << 30;

    private Safetensors() {
    }

    /**
     * Writes {@code tensors} (laid out in name order) and optional {@code metadata} to {@code file},
     * atomically. Non-contiguous tensors are written in row-major order.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        write(file, tensors, metadata, WRITE_CHUNK);
    }

    /** Opens {@code file} for reading; the header is validated now, tensor data is read on demand. */
    public static SafetensorsFile open(Path file) {
        return SafetensorsFile.open(file, READ_CHUNK);
    }

    static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, int chunk) {
        TreeMap<String, Tensor> sorted = new TreeMap<>(tensors);
        if (sorted.containsKey(METADATA_KEY)) {
            throw new DiffusionException("cannot write " + file + ": '" + METADATA_KEY + "' is reserved for metadata; rename that tensor");
        }
        List<TensorInfo> layout = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            Tensor t = e.getValue();
            DType dtype = t.dtype();
            long bytes = Math.multiplyExact(t.numel(), (long) dtype.byteSize());
            layout.add(new TensorInfo(e.getKey(), dtype, t.shape(), offset, offset + bytes));
            offset += bytes;
        }
        byte[] header = header(layout, metadata == null ? Map.of() : metadata);
        long total = 8L + header.length + offset;
        AtomicFiles.writeChannel(file, channel -> {
            long written = writeAll(channel, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length))
                    + writeAll(channel, ByteBuffer.wrap(header))
                    + streamData(sorted.values(), channel, chunk);
            // Cheap insurance that the header describes exactly the bytes that follow it.
            if (written != total) {
                throw new IOException("wrote " + written + " bytes but the header describes " + total);
            }
        });
    }

    /** Writes each tensor's bytes straight from native memory; returns the byte count. */
    static long streamData(Collection<Tensor> tensors, WritableByteChannel channel, int chunk) throws IOException {
        long[] written = {0};
        for (Tensor t : tensors) {
            t.copyBytesTo(buffer -> written[0] += writeAll(channel, buffer), chunk);
        }
        return written[0];
    }

    private static long writeAll(WritableByteChannel channel, ByteBuffer buffer) throws IOException {
        long n = 0;
        while (buffer.hasRemaining()) {
            n += channel.write(buffer);
        }
        return n;
    }

    /** The compact JSON header, padded with spaces to a multiple of 8 bytes so the data is aligned. */
    static byte[] header(List<TensorInfo> layout, Map<String, String> metadata) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = Json.mapper().getFactory().createGenerator(out)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart(METADATA_KEY);
                for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
                    g.writeStringField(e.getKey(), Objects.requireNonNull(e.getValue(), "metadata value for " + e.getKey()));
                }
                g.writeEndObject();
            }
            for (TensorInfo info : layout) {
                g.writeObjectFieldStart(info.name());
                g.writeStringField("dtype", info.dtype().safetensorsName());
                g.writeArrayFieldStart("shape");
                for (long s : info.shape()) {
                    g.writeNumber(s);
                }
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(info.begin());
                g.writeNumber(info.end());
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("in-memory JSON generation failed", e);
        }
        byte[] json = out.toByteArray();
        byte[] padded = Arrays.copyOf(json, (json.length + 7) / 8 * 8);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }
}
