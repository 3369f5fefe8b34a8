package dev.diffusion4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Immutable checkpoint directories {@code <run>/checkpoint-NNNNNNNN/} inside a run directory.
 * A checkpoint is written in a hidden staging directory, sealed with a {@code manifest.json}
 * holding every file's size and SHA-256, and renamed into place atomically, so a visible
 * checkpoint is always complete.
 */
public final class CheckpointStore {
    public static final String MANIFEST = "manifest.json";
    public static final int FORMAT_VERSION = 1;
    public static final int DEFAULT_KEEP = 2;

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
    private static final String FORMAT = "diffusion4j-checkpoint";
    private static final long MAX_STEP = 1_000_000_000_000_000_000L;
    private static final Pattern COMPLETE = Pattern.compile("checkpoint-(\\d{8,18})");
    private static final String STALE_PREFIX = ".checkpoint-";
    private static final String STALE_SUFFIX = ".tmp";
    private static final String LOCK = ".checkpoint.lock";
    private static final String DAMAGED = "the checkpoint is damaged — use an earlier checkpoint or save it again";

    /**
     * Run directories this JVM is staging into. File locks are per process, and closing any channel
     * on the lock file may drop this process's lock, so in-process exclusion is tracked here.
     */
    private static final Set<Path> STAGING = ConcurrentHashMap.newKeySet();

    private CheckpointStore() {
    }

    /** The directory name of the checkpoint for {@code step}. */
    public static String dirName(long step) {
        return String.format("checkpoint-%08d", step);
    }

    /**
     * Starts writing the checkpoint for {@code step} in {@code runDir}. Only one checkpoint can be
     * staged per run directory at a time, across processes.
     */
    public static Staging stage(Path runDir, long step) {
        if (step < 0 || step >= MAX_STEP) {
            throw new DiffusionException("checkpoint step must be between 0 and " + (MAX_STEP - 1) + ", got " + step);
        }
        Path key;
        try {
            Files.createDirectories(runDir);
            key = runDir.toRealPath();
        } catch (IOException e) {
            throw new DiffusionException("could not create run directory " + runDir + ": " + AtomicFiles.reason(e), e);
        }
        Path run = runDir;
        Path target = run.resolve(dirName(step));
        Path staging = run.resolve(STALE_PREFIX + String.format("%08d", step) + STALE_SUFFIX);
        Locked locked = lockForStaging(runDir, key);
        try {
            if (Files.exists(target)) {
                throw new DiffusionException(runDir + " already has a checkpoint for step " + step + " (" + target
                        + "); checkpoints are never overwritten — delete it or use another output directory");
            }
            deleteStale(run);
            Files.createDirectory(staging);
            return new Staging(run, staging, target, step, locked);
        } catch (IOException | RuntimeException e) {
            locked.release();
            if (e instanceof IOException io) {
                throw new DiffusionException("could not stage a checkpoint in " + runDir + ": " + AtomicFiles.reason(io), e);
            }
            throw (RuntimeException) e;
        }
    }

    /** The run's lock file, held while a checkpoint is staged there; {@code key} is the run's real path. */
    private record Locked(Path key, FileChannel channel, FileLock lock) {
        void release() {
            try {
                lock.release();
            } catch (IOException ignored) {
                // Closing the channel below releases the lock as well.
            }
            closeQuietly(channel);
            STAGING.remove(key);
        }
    }

    /**
     * Synchronized with {@link #cleanIfIdle} so that this JVM never holds two channels on one lock
     * file at once (a second tryLock would throw, and closing it could drop the first lock).
     */
    /** How long staging waits for a lock held by someone else before it reports a concurrent writer. */
    private static final long LOCK_WAIT_MILLIS = 2000;

    private static synchronized Locked lockForStaging(Path runDir, Path key) {
        if (!STAGING.add(key)) {
            throw new DiffusionException("a checkpoint is already being staged in " + runDir + "; commit or close it first");
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(key.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            // A reader's cleanIfIdle (e.g. another process polling latest()) holds the lock for milliseconds:
            // wait that out; a writer staging a checkpoint holds it far longer.
            for (long waited = 0; lock == null && waited < LOCK_WAIT_MILLIS; waited += 10) {
                Thread.sleep(10);
                lock = channel.tryLock();
            }
            if (lock == null) {
                throw new DiffusionException(runDir + " is being written by another process; wait for it to finish or use another output directory");
            }
            return new Locked(key, channel, lock);
        } catch (IOException | RuntimeException | InterruptedException e) {
            closeQuietly(channel);
            STAGING.remove(key);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new DiffusionException("interrupted while waiting to lock " + runDir, e);
            }
            if (e instanceof IOException io) {
                throw new DiffusionException("could not lock " + runDir + " for writing: " + AtomicFiles.reason(io), e);
            }
            throw (RuntimeException) e;
        }
    }

    /** The complete checkpoints (those with a manifest) in {@code runDir}, oldest step first. */
    public static List<Path> list(Path runDir) {
        if (!Files.isDirectory(runDir)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(runDir)) {
            entries.filter(p -> COMPLETE.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(MANIFEST)))
                    .forEach(found::add);
        } catch (IOException e) {
            throw new DiffusionException("could not list " + runDir + ": " + AtomicFiles.reason(e), e);
        }
        found.sort(Comparator.comparingLong(CheckpointStore::stepOfName));
        return found;
    }

    /**
     * The newest complete checkpoint in {@code runDir}, if any. Staging directories left by a
     * crashed writer are deleted on the way, unless a writer is still working on them.
     */
    public static Optional<Path> latest(Path runDir) {
        if (!Files.isDirectory(runDir)) {
            return Optional.empty();
        }
        cleanIfIdle(runDir);
        List<Path> all = list(runDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** {@code dir} itself if it is a checkpoint, else the newest checkpoint in run directory {@code dir}. */
    public static Path resolve(Path dir) {
        if (!Files.exists(dir)) {
            throw new DiffusionException(dir + " does not exist: check the path, or train a model into it first");
        }
        if (!Files.isDirectory(dir)) {
            throw new DiffusionException(dir + " is a file, not a checkpoint: pass a run directory or a checkpoint-NNNNNNNN directory inside it");
        }
        if (Files.isRegularFile(dir.resolve(MANIFEST))) {
            return dir;
        }
        String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
        if (COMPLETE.matcher(name).matches() || (name.startsWith(STALE_PREFIX) && name.endsWith(STALE_SUFFIX))) {
            throw new DiffusionException(dir + " is an incomplete checkpoint (it has no " + MANIFEST
                    + "): it was never fully written — use another checkpoint or pass the run directory");
        }
        return latest(dir).orElseThrow(() -> new DiffusionException(
                dir + " holds no checkpoint: train a model into it first"));
    }

    /** The training step recorded in a checkpoint's manifest. */
    public static long step(Path checkpointDir) {
        return readManifest(checkpointDir).get("step").asLong();
    }

    /** The SHA-256 (hex) the manifest of {@code checkpointDir} records for file {@code name}, if it lists one. */
    public static Optional<String> sha256(Path checkpointDir, String name) {
        JsonNode entry = readManifest(checkpointDir).get("files").get(name);
        return entry == null || !entry.path("sha256").isTextual() ? Optional.empty() : Optional.of(entry.get("sha256").asText());
    }

    /** Checks every file listed in the manifest for presence, size and SHA-256. */
    public static void verify(Path checkpointDir) {
        JsonNode files = readManifest(checkpointDir).get("files");
        Path root = checkpointDir.toAbsolutePath().normalize();
        for (Map.Entry<String, JsonNode> entry : toMap(files).entrySet()) {
            Path file = root.resolve(entry.getKey()).normalize();
            JsonNode size = entry.getValue().get("size");
            JsonNode sha = entry.getValue().get("sha256");
            if (!file.startsWith(root) || file.equals(root) || size == null || !size.canConvertToLong() || sha == null || !sha.isTextual()) {
                throw new DiffusionException(checkpointDir.resolve(MANIFEST) + " has an invalid entry for '" + entry.getKey() + "'; " + DAMAGED);
            }
            Path shown = checkpointDir.resolve(entry.getKey());
            if (!Files.isRegularFile(file)) {
                throw new DiffusionException(shown + " is missing from the checkpoint; " + DAMAGED);
            }
            long expected = size.asLong();
            long actual;
            try {
                actual = Files.size(file);
                if (actual < expected) {
                    throw new DiffusionException(shown + " is truncated: the manifest says " + expected + " bytes but the file has "
                            + actual + "; " + DAMAGED);
                }
                if (actual > expected) {
                    throw new DiffusionException(shown + " is corrupt: the manifest says " + expected + " bytes but the file has "
                            + actual + "; " + DAMAGED);
                }
                if (!sha256(file).equalsIgnoreCase(sha.asText())) {
                    throw new DiffusionException(shown + " is corrupt: its SHA-256 does not match the manifest; " + DAMAGED);
                }
            } catch (IOException e) {
                throw new DiffusionException("could not read " + shown + ": " + AtomicFiles.reason(e), e);
            }
        }
    }

    private static Map<String, JsonNode> toMap(JsonNode files) {
        Map<String, JsonNode> out = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : files.properties()) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    private static JsonNode readManifest(Path checkpointDir) {
        Path manifest = checkpointDir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            throw new DiffusionException(checkpointDir + " has no " + MANIFEST + ", so it is not a complete checkpoint; "
                    + "use another checkpoint or pass the run directory");
        }
        JsonNode node = Json.read(manifest);
        JsonNode version = node.get("format_version");
        if (!FORMAT.equals(node.path("format").asText()) || version == null || !version.canConvertToInt()
                || !node.path("step").canConvertToLong() || !node.path("files").isObject()) {
            throw new DiffusionException(manifest + " is not a diffusion4j checkpoint manifest; " + DAMAGED);
        }
        if (version.asInt() > FORMAT_VERSION) {
            throw new DiffusionException(checkpointDir + " was written by a newer diffusion4j (checkpoint format "
                    + version.asInt() + ", this version reads up to " + FORMAT_VERSION + "); upgrade diffusion4j");
        }
        return node;
    }

    private static long stepOfName(Path checkpoint) {
        Matcher m = COMPLETE.matcher(checkpoint.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Deletes crashed writers' staging directories, unless some writer holds the run's lock. */
    private static synchronized void cleanIfIdle(Path runDir) {
        Path run;
        try {
            run = runDir.toRealPath();
        } catch (IOException e) {
            return;
        }
        if (STAGING.contains(run)) {
            return;
        }
        try (FileChannel channel = FileChannel.open(run.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return;
            }
            try {
                deleteStale(run);
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            // A read-only run directory cannot be cleaned; stale staging there is ignored by list().
            LOG.debug("not cleaning {}: {}", runDir, e.toString());
        }
    }

    private static void deleteStale(Path run) throws IOException {
        List<Path> stale;
        try (Stream<Path> entries = Files.list(run)) {
            stale = entries.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(STALE_PREFIX) && n.endsWith(STALE_SUFFIX) && Files.isDirectory(p);
            }).toList();
        }
        for (Path p : stale) {
            LOG.info("deleting unfinished checkpoint {}", p);
            AtomicFiles.deleteTree(p);
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buffer) >= 0) {
                digest.update(buffer.flip());
                buffer.clear();
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Callers may write checkpoint files through plain streams; their bytes must be durable before
     * the manifest vouches for them. POSIX can sync a read-only handle; Windows needs a writable one.
     */
    private static void force(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
            return;
        } catch (IOException e) {
            LOG.debug("syncing {} read-only failed ({}); retrying writable", file, e.toString());
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing the lock channel only releases the lock; nothing is lost if it fails.
            }
        }
    }

    /**
     * A checkpoint being written. Write files under {@link #path}, then {@link #commit}; closing
     * without committing discards everything written.
     */
    public static final class Staging implements AutoCloseable {
        private final Path run;
        private final Path dir;
        private final Path target;
        private final long step;
        private final Locked locked;
        private boolean finished;

        private Staging(Path run, Path dir, Path target, long step, Locked locked) {
            this.run = run;
            this.dir = dir;
            this.target = target;
            this.step = step;
            this.locked = locked;
        }

        public long step() {
            return step;
        }

        /** The staging directory; files written here become part of the checkpoint. */
        public Path dir() {
            return dir;
        }

        /** Where to write file {@code name} (a relative path such as {@code model.safetensors}). */
        public Path path(String name) {
            ensureOpen();
            Path rel = name.isBlank() ? null : dir.getFileSystem().getPath(name).normalize();
            if (rel == null || rel.isAbsolute() || rel.toString().isEmpty() || rel.startsWith("..")
                    || rel.toString().equals(MANIFEST)) {
                throw new DiffusionException("'" + name + "' cannot be a checkpoint file name: use a relative name such as "
                        + "model.safetensors (" + MANIFEST + " is reserved)");
            }
            Path p = dir.resolve(rel);
            try {
                Files.createDirectories(p.getParent());
            } catch (IOException e) {
                throw new DiffusionException("could not write " + p + ": " + AtomicFiles.reason(e), e);
            }
            return p;
        }

        public void writeJson(String name, Object value) {
            Json.write(path(name), value);
        }

        public void writeTensors(String name, Map<String, Tensor> tensors, Map<String, String> metadata) {
            Safetensors.write(path(name), tensors, metadata);
        }

        /** Seals and publishes the checkpoint, keeping the newest {@value CheckpointStore#DEFAULT_KEEP}. */
        public Path commit() {
            return commit(DEFAULT_KEEP);
        }

        /**
         * Seals the checkpoint with its manifest, renames it into place atomically and deletes older
         * checkpoints so that {@code keep} remain, always including this one.
         */
        public Path commit(int keep) {
            ensureOpen();
            if (keep < 1) {
                throw new DiffusionException("keep must be at least 1 checkpoint, got " + keep);
            }
            try {
                ObjectNode manifest = Json.mapper().createObjectNode();
                manifest.put("format", FORMAT);
                manifest.put("format_version", FORMAT_VERSION);
                manifest.put("step", step);
                manifest.put("created", Instant.now().toString());
                ObjectNode files = manifest.putObject("files");
                List<Path> dirs = new ArrayList<>();
                for (Path file : contents(dirs)) {
                    String rel = relativeName(file);
                    ObjectNode entry = files.putObject(rel);
                    entry.put("size", Files.size(file));
                    entry.put("sha256", sha256(file));
                    force(file);
                }
                Json.write(dir.resolve(MANIFEST), manifest);
                for (Path d : dirs) {
                    AtomicFiles.syncDirectory(d);
                }
                Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
                AtomicFiles.syncDirectory(run);
            } catch (IOException e) {
                throw new DiffusionException("could not commit checkpoint " + target + ": " + AtomicFiles.reason(e), e);
            }
            finished = true;
            try {
                prune(keep);
            } finally {
                release();
            }
            return target;
        }

        /** Every regular file under the staging directory except the manifest, in name order. */
        private List<Path> contents(List<Path> dirsOut) throws IOException {
            List<Path> files = new ArrayList<>();
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    dirsOut.add(d);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile() && !file.equals(dir.resolve(MANIFEST))) {
                        files.add(file);
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
            files.sort(Comparator.comparing(this::relativeName));
            return files;
        }

        private String relativeName(Path file) {
            List<String> parts = new ArrayList<>();
            for (Path p : dir.relativize(file)) {
                parts.add(p.toString());
            }
            return String.join("/", parts);
        }

        /**
         * Deletes all but the newest {@code keep} checkpoints by step, never the one just written
         * (a run resumed from an older step must not lose its fresh checkpoint). Each victim is first
         * renamed to a staging name so a crash mid-delete cannot leave a half-deleted "complete" one.
         */
        private void prune(int keep) {
            List<Path> others = new ArrayList<>(list(run));
            others.removeIf(p -> p.getFileName().equals(target.getFileName()));
            int survivors = keep - 1;
            for (int i = 0; i < others.size() - survivors; i++) {
                Path victim = others.get(i);
                Path doomed = run.resolve("." + victim.getFileName() + ".pruned" + STALE_SUFFIX);
                try {
                    Files.move(victim, doomed, StandardCopyOption.ATOMIC_MOVE);
                    AtomicFiles.deleteTree(doomed);
                } catch (IOException e) {
                    LOG.warn("could not delete old checkpoint {}: {}", victim, AtomicFiles.reason(e));
                }
            }
        }

        private void ensureOpen() {
            if (finished) {
                throw new IllegalStateException("checkpoint staging for step " + step + " is already committed or closed");
            }
        }

        private void release() {
            locked.release();
        }

        /** Discards the staged files unless {@link #commit} succeeded. */
        @Override
        public void close() {
            if (finished) {
                return;
            }
            finished = true;
            try {
                AtomicFiles.deleteTree(dir);
            } catch (IOException e) {
                LOG.warn("could not delete unfinished checkpoint {}: {}", dir, AtomicFiles.reason(e));
            } finally {
                release();
            }
        }
    }
}
