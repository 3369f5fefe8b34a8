package dev.diffusion4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.diffusion4j.io.Json;
import java.io.PrintWriter;
import java.util.Map;

/** Prints the one-line JSON summary that {@code --json} puts last on stdout, for scripts. */
final class JsonLine {
    private JsonLine() {
    }

    static void print(PrintWriter out, Map<String, Object> figures) {
        try {
            out.println(Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(figures));
            out.flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("figures are not serialisable: " + e.getMessage(), e);
        }
    }
}
