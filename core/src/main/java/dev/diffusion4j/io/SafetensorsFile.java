package dev.diffusion4j.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * An open safetensors file whose header has been fully validated. Tensor data is memory-mapped on
 * demand and copied into native tensors, so files and tensors larger than 2 GiB work.
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final String REMEDY = "re-download or re-save it";

    private final Path file;
    private final FileChannel channel;
    private final long fileSize;
    private final long dataStart;
    private final int chunk;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, FileChannel channel, long fileSize, long dataStart, int chunk,
            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.fileSize = fileSize;
        this.dataStart = dataStart;
        this.chunk = chunk;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    static SafetensorsFile open(Path file, int chunk) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new DiffusionException(file + " does not exist: check the path");
        } catch (IOException e) {
            throw new DiffusionException("could not open " + file + ": " + AtomicFiles.reason(e), e);
        }
        try {
            return parse(file, channel, chunk);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new DiffusionException("could not read " + file + ": " + AtomicFiles.reason(e), e);
        }
    }

    private static SafetensorsFile parse(Path file, FileChannel channel, int chunk) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw corrupt(file, "is too short to be a safetensors file (" + size + " bytes, at least 8 needed); "
                    + "the file is incomplete or not a safetensors file — " + REMEDY);
        }
        long headerLength = readFully(channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (headerLength < 0 || headerLength > Safetensors.MAX_HEADER_BYTES) {
            throw corrupt(file, "declares a header of " + Long.toUnsignedString(headerLength) + " bytes, over the "
                    + Safetensors.MAX_HEADER_BYTES / 1_000_000 + " MB limit; it is not a safetensors file or it is corrupt — " + REMEDY);
        }
        if (headerLength > size - 8) {
            throw corrupt(file, "is truncated: the header should be " + headerLength + " bytes but only " + (size - 8)
                    + " follow the length prefix; the file is incomplete — " + REMEDY);
        }
        ByteBuffer headerBuffer = readFully(channel, 8, (int) headerLength);
        byte[] headerBytes = new byte[(int) headerLength];
        headerBuffer.get(0, headerBytes);
        JsonNode header;
        try {
            header = Json.mapper().reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readTree(headerBytes);
        } catch (JsonProcessingException e) {
            throw corrupt(file, "has a header that is not valid JSON: " + Json.describe(e) + "; the file is corrupt — " + REMEDY);
        }
        if (header == null || !header.isObject()) {
            throw corrupt(file, "has a header that is not a JSON object; it is not a safetensors file or it is corrupt — " + REMEDY);
        }

        Map<String, String> metadata = new TreeMap<>();
        Map<String, TensorInfo> tensors = new TreeMap<>();
        for (Map.Entry<String, JsonNode> field : header.properties()) {
            if (field.getKey().equals(Safetensors.METADATA_KEY)) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                tensors.put(field.getKey(), readEntry(file, field.getKey(), field.getValue()));
            }
        }
        long dataLength = size - 8 - headerLength;
        long used = checkLayout(file, tensors.values());
        if (used > dataLength) {
            throw corrupt(file, "is truncated: header says " + used + " data bytes but file has " + dataLength
                    + "; the file is incomplete — " + REMEDY);
        }
        if (used < dataLength) {
            throw corrupt(file, "has " + (dataLength - used) + " bytes after the last tensor that the header does not describe; "
                    + "the file is corrupt — " + REMEDY);
        }
        return new SafetensorsFile(file, channel, size, 8 + headerLength, chunk,
                Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> into) {
        if (!node.isObject()) {
            throw corrupt(file, "has a " + Safetensors.METADATA_KEY + " entry that is not a JSON object; the header is corrupt — " + REMEDY);
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw corrupt(file, "has metadata '" + e.getKey() + "' that is not a string (" + e.getValue().getNodeType()
                        + "); metadata must map strings to strings — " + REMEDY);
            }
            into.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo readEntry(Path file, String name, JsonNode node) {
        String what = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw corrupt(file, "describes " + what + " with " + node.getNodeType() + " instead of an object with dtype, shape "
                    + "and data_offsets; the header is corrupt — " + REMEDY);
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw corrupt(file, "gives " + what + " no dtype string; the header is corrupt — " + REMEDY);
        }
        DType dtype = dtypeOf(dtypeNode.textValue());
        if (dtype == null) {
            throw corrupt(file, "stores " + what + " as dtype '" + dtypeNode.textValue() + "', which diffusion4j does not support ("
                    + Arrays.stream(DType.values()).map(DType::safetensorsName).collect(Collectors.joining(", "))
                    + "); convert the tensor to one of these and re-save the file");
        }
        long[] shape = longs(file, what, "shape", node.get("shape"), -1);
        for (long s : shape) {
            if (s < 0) {
                throw corrupt(file, "gives " + what + " a negative dimension in shape " + Arrays.toString(shape)
                        + "; the header is corrupt — " + REMEDY);
            }
        }
        long[] offsets = longs(file, what, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < 0) {
            throw corrupt(file, "gives " + what + " negative data_offsets " + Arrays.toString(offsets) + "; the header is corrupt — " + REMEDY);
        }
        if (end < begin) {
            throw corrupt(file, "gives " + what + " data_offsets " + Arrays.toString(offsets)
                    + " whose end comes before its begin; the header is corrupt — " + REMEDY);
        }
        long expected;
        try {
            long numel = 1;
            for (long s : shape) {
                numel = Math.multiplyExact(numel, s);
            }
            expected = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw corrupt(file, "gives " + what + " an impossibly large shape " + Arrays.toString(shape) + "; the header is corrupt — " + REMEDY);
        }
        if (end - begin != expected) {
            throw corrupt(file, "gives " + what + " (" + dtype.safetensorsName() + " " + Arrays.toString(shape) + ", " + expected
                    + " bytes) data_offsets " + Arrays.toString(offsets) + " that span " + (end - begin)
                    + " bytes; the header is corrupt — " + REMEDY);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static DType dtypeOf(String name) {
        for (DType d : DType.values()) {
            if (d.safetensorsName().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** An array of non-fractional numbers; {@code length} −1 accepts any length. */
    private static long[] longs(Path file, String what, String key, JsonNode node, int length) {
        String expectation = length < 0 ? "an array of integers" : "an array of " + length + " integers";
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw corrupt(file, "gives " + what + " a " + key + " that is not " + expectation + " (" + node
                    + "); the header is corrupt — " + REMEDY);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw corrupt(file, "gives " + what + " a " + key + " that is not " + expectation + " (" + node
                        + "); the header is corrupt — " + REMEDY);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /**
     * Checks that the tensors tile the data buffer from byte 0 with no overlap and no gap, and
     * returns the number of bytes they cover. Zero-size tensors may sit anywhere they break nothing.
     */
    private static long checkLayout(Path file, java.util.Collection<TensorInfo> infos) {
        List<TensorInfo> byOffset = new ArrayList<>(infos);
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long covered = 0;
        TensorInfo previous = null;
        for (TensorInfo info : byOffset) {
            if (info.begin() < covered) {
                throw corrupt(file, "has overlapping tensors '" + previous.name() + "' [" + previous.begin() + ", " + previous.end()
                        + ") and '" + info.name() + "' [" + info.begin() + ", " + info.end() + "); the header is corrupt — " + REMEDY);
            }
            if (info.begin() > covered) {
                throw corrupt(file, "has a hole in its data buffer: bytes [" + covered + ", " + info.begin()
                        + ") before tensor '" + info.name() + "' belong to no tensor; the header is corrupt — " + REMEDY);
            }
            covered = info.end();
            previous = info;
        }
        return covered;
    }

    public Path path() {
        return file;
    }

    /** Tensor names in sorted order. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new DiffusionException(file + " has no tensor '" + name + "'; it holds " + describeNames()
                    + " — check the name or the file");
        }
        return info;
    }

    /** The header's string metadata (sorted by key), empty if the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** A copy of tensor {@code name} in native memory; it belongs to the current {@code Scope}. */
    public Tensor read(String name) {
        TensorInfo info = info(name);
        ensureUnchanged();
        long start = dataStart + info.begin();
        try {
            return Tensor.fromChunks(info.dtype(), info.shape(), chunk,
                    (offset, length) -> channel.map(FileChannel.MapMode.READ_ONLY, start + offset, length));
        } catch (IOException e) {
            throw new DiffusionException("could not read tensor '" + name + "' from " + file + ": " + AtomicFiles.reason(e), e);
        }
    }

    /** Every tensor, in name order. */
    public Map<String, Tensor> readAll() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : tensors.keySet()) {
            out.put(name, read(name));
        }
        return out;
    }

    /**
     * A read-only little-endian view of {@code length} raw bytes of tensor {@code name} starting at
     * byte {@code offset}, without copying: for inspecting or streaming part of a huge tensor.
     */
    public ByteBuffer rawBytes(String name, long offset, int length) {
        TensorInfo info = info(name);
        if (offset < 0 || length < 0 || offset > info.byteCount() - length) {
            throw new IndexOutOfBoundsException("bytes [" + offset + ", " + (offset + length) + ") outside tensor '" + name
                    + "' of " + info.byteCount() + " bytes");
        }
        ensureUnchanged();
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin() + offset, length).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new DiffusionException("could not read tensor '" + name + "' from " + file + ": " + AtomicFiles.reason(e), e);
        }
    }

    /**
     * Reading a mapped page past the end of a file that shrank kills the JVM (SIGBUS inside a
     * native copy), so re-check the size before mapping.
     */
    private void ensureUnchanged() {
        if (!channel.isOpen()) {
            throw new IllegalStateException(file + " was already closed");
        }
        long now;
        try {
            now = channel.size();
        } catch (IOException e) {
            throw new DiffusionException("could not read " + file + ": " + AtomicFiles.reason(e), e);
        }
        if (now != fileSize) {
            throw new DiffusionException(file + " changed size on disk while open (" + fileSize + " -> " + now
                    + " bytes); something else is writing it — wait for that to finish and open it again");
        }
    }

    private String describeNames() {
        if (tensors.isEmpty()) {
            return "no tensors";
        }
        List<String> names = names();
        String shown = String.join(", ", names.subList(0, Math.min(10, names.size())));
        return names.size() + " tensor(s): " + shown + (names.size() > 10 ? ", ..." : "");
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
        return buffer.flip();
    }

    private static DiffusionException corrupt(Path file, String problem) {
        return new DiffusionException(file + " " + problem);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing useful can be done about a failed close of a read-only channel.
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + tensors.size() + " tensors]";
    }
}
