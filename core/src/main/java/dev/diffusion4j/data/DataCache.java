package dev.diffusion4j.data;

import java.nio.file.Path;

/**
 * Where data sets fetched on first use are kept, with what was decoded from them: the directory
 * named by {@value #ENV}, else {@code $XDG_CACHE_HOME/diffusion4j} (when absolute), else
 * {@code ~/.cache/diffusion4j} (the XDG base-directory default). Everything in it can be deleted; it
 * is fetched or decoded again when next needed.
 */
public final class DataCache {
    /** The environment variable naming the cache directory. */
    public static final String ENV = "DIFFUSION4J_CACHE";

    private DataCache() {
    }

    /** The cache directory (not necessarily existing yet). */
    public static Path directory() {
        return directory(System.getenv(ENV), System.getenv("XDG_CACHE_HOME"), System.getProperty("user.home"));
    }

    static Path directory(String own, String xdg, String home) {
        if (own != null && !own.isBlank()) {
            return Path.of(own);
        }
        // The XDG specification has relative values ignored.
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "diffusion4j");
        }
        return Path.of(home, ".cache", "diffusion4j");
    }
}
