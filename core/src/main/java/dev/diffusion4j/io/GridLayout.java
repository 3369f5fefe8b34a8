package dev.diffusion4j.io;

import dev.diffusion4j.DiffusionException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where the tiles of a sample grid PNG lie, recorded in its PNG text so that the tiles can be cut out
 * again for evaluation: {@code count} tiles of {@code tileWidth}×{@code tileHeight}
 * source pixels, each enlarged {@code scale} times, in rows of {@code columns}, {@code padding}
 * pixels apart and around.
 */
public record GridLayout(int count, int columns, int tileWidth, int tileHeight, int scale, int padding) {
    public static final String KEY = "grid_layout";

public GridLayout {
        if (count < 1 || columns < 1 || tileWidth < 1 || tileHeight < 1 || scale < 1 || padding < 0) {
            throw new DiffusionException("invalid grid layout: " + count + " tiles, " + columns + " columns, " + tileWidth + "x"
                    + tileHeight + " tiles at scale " + scale + ", padding " + padding);
        }
    }

    /** The layout as one PNG text entry. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY, "tiles=" + count + " columns=" + columns + " tile=" + tileWidth + "x" + tileHeight + " scale=" + scale
                + " padding=" + padding);
        return m;
    }

public static Optional<GridLayout> fromMetadata(Map<String, String> text, Path where) {
        String v = text.get(KEY);
        if (v == null) {
            return Optional.empty();
        }
        Map<String, String> f = new LinkedHashMap<>();
        for (String part : v.trim().split("\\s+")) {
            String[] kv = part.split("=", 2);
            if (kv.length == 2) {
                f.put(kv[0], kv[1]);
            }
        }
        try {
            String[] tile = f.get("tile").split("x");
            return Optional.of(new GridLayout(Integer.parseInt(f.get("tiles")), Integer.parseInt(f.get("columns")),
                    Integer.parseInt(tile[0]), Integer.parseInt(tile[1]), Integer.parseInt(f.get("scale")),
                    Integer.parseInt(f.get("padding"))));
        } catch (RuntimeException e) {
            throw new DiffusionException(where + " has a malformed '" + KEY + "' entry: " + v);
        }
    }
}
