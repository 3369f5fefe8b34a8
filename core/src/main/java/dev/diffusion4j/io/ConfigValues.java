package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Typed reads of a parsed {@code config.json} map (Jackson's numbers, strings and lists). */
public final class ConfigValues {
    private ConfigValues() {
    }

    /** {@code m[key]}, or {@code fallback} when absent; anything but a number is an error naming {@code owner}'s key. */
    public static Number number(Map<String, Object> m, String key, Number fallback, String owner) {
        Object v = m.getOrDefault(key, fallback);
        if (!(v instanceof Number n)) {
            throw new DiffusionException(owner + " config: '" + key + "' must be a number, got " + v);
        }
        return n;
    }

    /**
     * Refuses a config naming a key outside {@code known}: an architecture option this version does not
     * know, which it would otherwise build wrong (or ignore) without a word.
     */
    public static void refuseUnknown(Map<String, Object> m, Set<String> known, String owner) {
        List<String> unknown = m.keySet().stream().filter(k -> !known.contains(k)).sorted().toList();
        if (!unknown.isEmpty()) {
            throw new DiffusionException(owner + " config: unknown keys " + unknown + " (this version knows " + known.stream().sorted()
                    .toList() + ")");
        }
    }

    /** A JSON list of strings (a ClassCastException for anything else, which callers report as malformed). */
    public static List<String> strings(Object v) {
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            out.add((String) o);
        }
        return out;
    }

    /** A JSON list of whole numbers. */
    public static List<Integer> ints(Object v) {
        List<Integer> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            out.add(((Number) o).intValue());
        }
        return out;
    }
}
