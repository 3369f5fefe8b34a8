package dev.diffusion4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A request's parameters (a query string or a JSON object body) read with bounds: every number is
 * range-checked and every name is checked against what exists, so bad input is a 400 with a message.
 */
final class Params {
    private final Map<String, JsonNode> values;

    private Params(Map<String, JsonNode> values) {
        this.values = values;
    }

    static Params of(Map<String, JsonNode> values) {
        return new Params(values);
    }

    static Params ofObject(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the request body must be a JSON object");
        }
        Map<String, JsonNode> m = new java.util.LinkedHashMap<>();
        body.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue()));
        return new Params(m);
    }

    boolean has(String name) {
        JsonNode v = values.get(name);
        return v != null && !v.isNull() && !(v.isTextual() && v.asText().isBlank());
    }

    String string(String name, String fallback) {
        if (!has(name)) {
            return fallback;
        }
        JsonNode v = values.get(name);
        if (!v.isValueNode()) {
            throw ApiException.badRequest(name + " must be a string");
        }
        return v.asText().strip();
    }

    String required(String name) {
        String s = string(name, null);
        if (s == null) {
            throw ApiException.badRequest("missing " + name);
        }
        return s;
    }

    /** A string of at most {@code maxLength} characters. */
    String string(String name, String fallback, int maxLength) {
        String s = string(name, fallback);
        if (s != null && s.length() > maxLength) {
            throw ApiException.badRequest(name + " is longer than " + maxLength + " characters");
        }
        return s;
    }

    /** One of {@code allowed} (case-insensitive, answered in its canonical spelling). */
    String choice(String name, String fallback, Collection<String> allowed) {
        return canonical(name, string(name, fallback), allowed);
    }

    /** {@code s} spelled as in {@code allowed} (case-insensitive); 400 naming the choices otherwise. */
    static String canonical(String name, String s, Collection<String> allowed) {
        for (String a : allowed) {
            if (a.equalsIgnoreCase(s)) {
                return a;
            }
        }
        throw ApiException.badRequest("unknown " + name + " '" + s + "'; choose one of " + String.join(", ", allowed));
    }

    long integer(String name, long fallback, long min, long max) {
        if (!has(name)) {
            return fallback;
        }
        JsonNode v = values.get(name);
        long x;
        if (v.isIntegralNumber()) {
            x = v.asLong();
        } else if (v.isTextual() && v.asText().strip().matches("-?\\d{1,18}")) {
            x = Long.parseLong(v.asText().strip());
        } else {
            throw ApiException.badRequest(name + " must be a whole number, got " + v);
        }
        if (x < min || x > max) {
            throw ApiException.badRequest(name + " must be between " + min + " and " + max + ", got " + x);
        }
        return x;
    }

    int integer(String name, int fallback, int min, int max) {
        return (int) integer(name, (long) fallback, min, max);
    }

    /** A finite number in [min, max]; {@code openMin}/{@code openMax} exclude the end. */
    double number(String name, double fallback, double min, double max, boolean openMin, boolean openMax) {
        if (!has(name)) {
            return fallback;
        }
        JsonNode v = values.get(name);
        double x;
        if (v.isNumber()) {
            x = v.asDouble();
        } else {
            try {
                x = Double.parseDouble(v.asText().strip());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest(name + " must be a number, got " + v);
            }
        }
        boolean ok = Double.isFinite(x) && (openMin ? x > min : x >= min) && (openMax ? x < max : x <= max);
        if (!ok) {
            throw ApiException.badRequest(String.format(Locale.ROOT, "%s must be in %s%s, %s%s, got %s", name, openMin ? "(" : "[",
                    fmt(min), fmt(max), openMax ? ")" : "]", v.asText()));
        }
        return x;
    }

    double number(String name, double fallback, double min, double max) {
        return number(name, fallback, min, max, false, false);
    }

    /** A list of strings (a JSON array, or a comma-separated string) of 1 to {@code max} entries. */
    List<String> strings(String name, List<String> fallback, int max) {
        if (!has(name)) {
            return fallback;
        }
        JsonNode v = values.get(name);
        List<String> out = new ArrayList<>();
        if (v.isArray()) {
            v.forEach(e -> out.add(e.asText().strip()));
        } else {
            for (String s : v.asText().split(",")) {
                out.add(s.strip());
            }
        }
        out.removeIf(String::isEmpty);
        if (out.isEmpty() || out.size() > max) {
            throw ApiException.badRequest(name + " needs 1 to " + max + " entries, got " + out.size());
        }
        return out;
    }

    /** A comma-separated or array list of exactly {@code count} finite numbers. */
    double[] numbers(String name, double[] fallback, int count) {
        if (!has(name)) {
            return fallback;
        }
        List<String> parts = strings(name, List.of(), count);
        if (parts.size() != count) {
            throw ApiException.badRequest(name + " needs " + count + " numbers, got " + parts.size());
        }
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            try {
                out[i] = Double.parseDouble(parts.get(i));
            } catch (NumberFormatException e) {
                throw ApiException.badRequest(name + " must be numbers, got '" + parts.get(i) + "'");
            }
            if (!Double.isFinite(out[i])) {
                throw ApiException.badRequest(name + " must be finite numbers");
            }
        }
        return out;
    }

    private static String fmt(double x) {
        return x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x);
    }
}
