package dev.diffusion4j.io;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.diffusion4j.DiffusionException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The project's one JSON configuration: pretty-printed output with sorted keys (so files diff
 * cleanly), lenient about unknown properties (so newer files load in older code), strict about
 * trailing garbage. NaN and ±Infinity are read as Python's json module writes them: diffusers'
 * scheduler configs hold {@code "lambda_min_clipped": -Infinity}.
 */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .enable(JsonNodeFeature.WRITE_PROPERTIES_SORTED)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private Json() {
    }

    /** The shared mapper. Do not reconfigure it; call {@code mapper().copy()} for a variant. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Parses {@code file} into a tree, reporting missing or malformed files as {@link DiffusionException}. */
    public static JsonNode read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DiffusionException(file + " does not exist: check the path");
        } catch (IOException e) {
            throw new DiffusionException("could not read " + file + ": " + AtomicFiles.reason(e), e);
        }
        try {
            JsonNode node = MAPPER.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw new DiffusionException(file + " is not valid JSON: the file is empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new DiffusionException(file + " is not valid JSON: " + describe(e), e);
        } catch (IOException e) {
            throw new DiffusionException("could not read " + file + ": " + AtomicFiles.reason(e), e);
        }
    }

    /** Parses {@code file}, which must hold a JSON object, into a map (numbers, strings, lists, maps). */
    public static Map<String, Object> readMap(Path file) {
        JsonNode node = read(file);
        if (!node.isObject()) {
            throw new DiffusionException(file + " must hold a JSON object, got " + node.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        return MAPPER.convertValue(node, new TypeReference<Map<String, Object>>() { });
    }

    /** Writes {@code value} as pretty-printed JSON with a trailing newline, atomically. */
    public static void write(Path file, Object value) {
        AtomicFiles.write(file, out -> {
            MAPPER.writer().without(JsonGenerator.Feature.AUTO_CLOSE_TARGET).writeValue(out, value);
            out.write('\n');
        });
    }

    /** Jackson's own message without its source excerpt, plus the line and column. */
    public static String describe(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        int nl = message == null ? -1 : message.indexOf('\n');
        if (nl >= 0) {
            message = message.substring(0, nl);
        }
        JsonLocation at = e.getLocation();
        return at == null ? message : message + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }
}
