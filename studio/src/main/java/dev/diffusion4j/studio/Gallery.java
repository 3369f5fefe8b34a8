package dev.diffusion4j.studio;

import dev.diffusion4j.io.GridLayout;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.viz.ImageGrids;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Generated grids on disk, one PNG each with its generation parameters in the PNG text. */
final class Gallery {
    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9_-]{1,80}\\.png");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);
    /** Entries listed at most (newest first); older files stay on disk. */
    static final int LISTED = 100;

    private final Path dir;

    Gallery(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    /** Writes {@code images} as a grid (atomically, by {@link PngWriter}) and returns its file name. */
    String add(Tensor images, String jobId, Map<String, String> parameters) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DiffusionException("cannot create the gallery folder " + dir + ": " + e.getMessage());
        }
        String name = STAMP.format(Instant.now()) + "-" + jobId + ".png";
        ImageGrids.write(images, 0, dir.resolve(name), parameters);
        return name;
    }

    /** The PNG {@code name}; 400 for a name that is not a gallery file name, 404 if absent. */
    Path file(String name) {
        if (!FILE.matcher(name).matches()) {
            throw ApiException.badRequest("bad gallery file name '" + name + "'");
        }
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) {
            throw ApiException.notFound("no gallery file '" + name + "'");
        }
        return p;
    }

    List<Map<String, Object>> list() {
        List<Map<String, Object>> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> pngs = files.filter(f -> FILE.matcher(f.getFileName().toString()).matches())
                    .sorted(Comparator.comparing((Path f) -> f.getFileName().toString()).reversed()).limit(LISTED).toList();
            for (Path f : pngs) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("file", f.getFileName().toString());
                m.put("parameters", parameters(f));
                m.put("created", Files.getLastModifiedTime(f).toMillis());
                out.add(m);
            }
        } catch (IOException e) {
            throw new DiffusionException("cannot list the gallery folder " + dir + ": " + e.getMessage());
        }
        return out;
    }

    /** The generation parameters of a gallery PNG; none for a file that cannot be read (it is listed all the same). */
    private static Map<String, String> parameters(Path f) {
        try {
            Map<String, String> m = new LinkedHashMap<>(PngWriter.readText(f));
            m.keySet().removeIf(k -> k.startsWith(GridLayout.KEY));
            return m;
        } catch (DiffusionException e) {
            return Map.of();
        }
    }
}
