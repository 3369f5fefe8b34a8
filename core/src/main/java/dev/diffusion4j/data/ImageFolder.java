package dev.diffusion4j.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.io.Json;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Loads a folder of PNG and JPEG images. Either the images lie in the folder itself (no labels),
 * or in one sub-folder per class (labels in sorted sub-folder order, class names = sub-folder
 * names); deeper folders, hidden files and files of other types are skipped and counted.
 * Transparent pixels are composited onto white, as an image viewer shows them.
 *
 * <p>Captions, optional, come as Hugging Face's image-folder convention has them: a
 * {@value #METADATA} in the folder with one JSON object per line, {@code {"file_name": "cats/a.png",
 * "text": "a cat on a mat"}} ({@code file_name} relative to the folder), or a text file beside each
 * image with the same name ({@code a.png} and {@code a.txt}). Either way every image needs one: a
 * folder that captions some images and not others is an error naming the first uncaptioned image.
 */
final class ImageFolder {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");
    static final String METADATA = "metadata.jsonl";

    private ImageFolder() {
    }

    /** One decoded image: 8-bit planes [channels, height, width]. */
    record Decoded(byte[] chw, int channels, int height, int width) {
    }

    private record Entry(Path file, int label) {
    }

    /** Reads every image under {@code dir} (see the class comment), applying {@code options}; flip defaults to on. */
    static ImageDataset load(Path dir, ImageOptions options) {
        List<Entry> entries = new ArrayList<>();
        List<String> classes = new ArrayList<>();
        List<Path> skipped = new ArrayList<>();
        List<Path> rootImages = new ArrayList<>();
        for (Path p : list(dir)) {
            if (Files.isDirectory(p)) {
                List<Path> inside = new ArrayList<>();
                for (Path q : list(p)) {
                    if (isImage(q)) {
                        inside.add(q);
                    } else {
                        skipped.add(q);
                    }
                }
                if (!inside.isEmpty()) {
                    for (Path q : inside) {
                        entries.add(new Entry(q, classes.size()));
                    }
                    classes.add(p.getFileName().toString());
                }
            } else if (isImage(p)) {
                rootImages.add(p);
            } else {
                skipped.add(p);
            }
        }
        if (!rootImages.isEmpty() && !classes.isEmpty()) {
            throw new DiffusionException(dir + " holds images both directly (" + rootImages.get(0).getFileName() + ", ...) and in class "
                    + "sub-folders (" + classes.get(0) + ", ...); move the loose images into a class sub-folder or remove the sub-folders");
        }
        for (Path p : rootImages) {
            entries.add(new Entry(p, -1));
        }
        if (entries.isEmpty()) {
            throw new DiffusionException("no images in " + dir + (skipped.isEmpty() ? "" : " (" + skipped.size() + " other files skipped)")
                    + "; put .png or .jpg files in it, or in one sub-folder per class");
        }
        List<Path> files = entries.stream().map(Entry::file).toList();
        List<String> captions = Files.isRegularFile(dir.resolve(METADATA)) ? metadataCaptions(dir, files)
                : hasTextCaptions(files) ? textCaptions(dir, files) : null;
        if (captions != null) {
            Set<Path> captionFiles = new HashSet<>(files.stream().map(ImageFolder::textFile).toList());
            captionFiles.add(dir.resolve(METADATA));
            skipped.removeAll(captionFiles);
        }
        Integer size = options.imageSize();
        // Decoding is the slow part; each image is resized right away so full-size photos are never all in memory.
        List<Object> results = entries.parallelStream().map(e -> {
            try {
                Decoded d = decode(e.file());
                if (size != null) {
                    d = new Decoded(ImageTransforms.resizeCenterCrop(d.chw(), d.channels(), d.height(), d.width(), size), d.channels(),
                            size, size);
                }
                return (Object) d;
            } catch (DiffusionException ex) {
                return ex;
            }
        }).toList();
        List<Decoded> images = new ArrayList<>(results.size());
        for (Object r : results) {
            if (r instanceof DiffusionException ex) {
                // Thrown on the caller's thread, for the first failing file in listing order.
                throw ex;
            }
            images.add((Decoded) r);
        }
        Decoded first = images.get(0);
        boolean allGrey = true;
        for (int i = 0; i < images.size(); i++) {
            Decoded d = images.get(i);
            if (d.height() != first.height() || d.width() != first.width()) {
                throw new DiffusionException("images in " + dir + " have different sizes (" + relative(dir, entries.get(0).file()) + " is "
                        + first.width() + "x" + first.height() + ", " + relative(dir, entries.get(i).file()) + " is " + d.width() + "x"
                        + d.height() + "); set an image size N (image_size) to resize them all to N x N");
            }
            allGrey &= d.channels() == 1;
        }
        int channels = options.channels() != null ? options.channels() : allGrey ? 1 : 3;
        int plane = first.height() * first.width();
        int item = channels * plane;
        byte[] pixels = new byte[images.size() * item];
        for (int i = 0; i < images.size(); i++) {
            Decoded d = images.get(i);
            System.arraycopy(ImageTransforms.convertChannels(d.chw(), d.channels(), channels, plane), 0, pixels, i * item, item);
        }
        int[] labels = null;
        if (!classes.isEmpty()) {
            labels = entries.stream().mapToInt(Entry::label).toArray();
        }
        String name = dir.getFileName() != null ? dir.getFileName().toString() : dir.toString();
        ImageDataset data = ImageDataset.of(name, pixels, images.size(), channels, first.height(), first.width(), labels, classes)
                .withCaptions(captions)
                .withSource("image folder " + dir)
                .withFlip(options.flip() == null || options.flip());
        if (!skipped.isEmpty()) {
            data = data.withWarning("skipped " + skipped.size() + " file" + (skipped.size() == 1 ? "" : "s") + " in " + dir
                    + " that are not .png/.jpg images (or lie more than one folder deep)");
        }
        return data;
    }

    /**
     * The caption of each image in {@code files} from {@code dir}/{@value #METADATA}; every line names
     * one of them, every one of them has a line.
     */
    private static List<String> metadataCaptions(Path dir, List<Path> files) {
        Path metadata = dir.resolve(METADATA);
        List<String> lines;
        try {
            lines = Files.readAllLines(metadata, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DiffusionException("cannot read " + metadata + ": " + AtomicFiles.reason(e) + "; it must be UTF-8 text");
        }
        Map<Path, Integer> index = new HashMap<>();
        for (int i = 0; i < files.size(); i++) {
            index.put(files.get(i).normalize(), i);
        }
        String[] captions = new String[files.size()];
        int[] lineOf = new int[files.size()];
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String where = metadata + " line " + (i + 1);
            JsonNode row;
            try {
                row = Json.mapper().readTree(lines.get(i));
            } catch (JsonProcessingException e) {
                throw new DiffusionException(where + " is not valid JSON: " + Json.describe(e));
            }
            if (row == null || !row.isObject() || !row.path("file_name").isTextual() || !row.path("text").isTextual()) {
                throw new DiffusionException(where + " must be a JSON object with the strings \"file_name\" and \"text\", as "
                        + "{\"file_name\": \"a.png\", \"text\": \"a red circle\"}");
            }
            String name = row.get("file_name").asText();
            Path file = dir.resolve(name).normalize();
            Integer at = index.get(file);
            if (at == null) {
                throw new DiffusionException(where + " gives a caption for " + name + ", which is not an image in " + dir
                        + (Files.exists(file) ? " (not a .png/.jpg one folder deep at most)" : " (no such file)")
                        + "; fix the file_name or remove the line");
            }
            if (row.get("text").asText().isBlank()) {
                throw new DiffusionException(where + " gives " + name + " a blank caption; write what the image shows");
            }
            if (captions[at] != null) {
                throw new DiffusionException(where + " captions " + name + " again (line " + lineOf[at] + " did already); keep one "
                        + "line per image");
            }
            captions[at] = row.get("text").asText().strip();
            lineOf[at] = i + 1;
        }
        for (int i = 0; i < files.size(); i++) {
            if (captions[i] == null) {
                String name = dir.relativize(files.get(i)).toString().replace('\\', '/');
                throw new DiffusionException(metadata + " has no caption for " + files.get(i) + "; add the line {\"file_name\": \""
                        + name + "\", \"text\": \"...\"}");
            }
        }
        return Arrays.asList(captions);
    }

    /** The caption file beside {@code image}: the same name with {@code .txt} for its extension. */
    private static Path textFile(Path image) {
        String n = image.getFileName().toString();
        return image.resolveSibling(n.substring(0, n.lastIndexOf('.')) + ".txt");
    }

    private static boolean hasTextCaptions(List<Path> files) {
        return files.stream().anyMatch(f -> Files.isRegularFile(textFile(f)));
    }

    /** The caption of each image in {@code files} from the text file beside it; every image needs one. */
    private static List<String> textCaptions(Path dir, List<Path> files) {
        Path example = files.stream().filter(f -> Files.isRegularFile(textFile(f))).findFirst().orElseThrow();
        List<String> captions = new ArrayList<>(files.size());
        for (Path f : files) {
            Path txt = textFile(f);
            if (!Files.isRegularFile(txt)) {
                throw new DiffusionException("no caption for " + f + ": images in " + dir + " are captioned by text files ("
                        + dir.relativize(textFile(example)) + " for " + dir.relativize(example) + ") but " + txt.getFileName()
                        + " is missing; write it, or caption every image in one " + METADATA);
            }
            String text;
            try {
                text = Files.readString(txt, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new DiffusionException("cannot read the caption " + txt + ": " + AtomicFiles.reason(e) + "; it must be UTF-8 text");
            }
            if (text.isEmpty()) {
                throw new DiffusionException("the caption file " + txt + " is empty; write what " + f.getFileName() + " shows");
            }
            captions.add(text);
        }
        return captions;
    }

    private static String relative(Path dir, Path file) {
        return dir.relativize(file).toString();
    }

    /** The non-hidden entries of {@code dir}, sorted by name. */
    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new DiffusionException("cannot list " + dir + ": " + AtomicFiles.reason(e));
        }
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    /**
     * Decodes a PNG or JPEG into planes (see {@link #planes}); a file no decoder reads is an error
     * naming it.
     */
    static Decoded decode(Path file) {
        String kind = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png") ? "PNG" : "JPEG";
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new DiffusionException("corrupt " + kind + ": " + file + " (" + (e.getMessage() != null ? e.getMessage()
                    : e.getClass().getSimpleName()) + "); remove or replace the file");
        }
        if (img == null) {
            throw new DiffusionException("corrupt " + kind + ": " + file + " (no decoder recognises its contents); "
                    + "remove or replace the file");
        }
        return planes(img);
    }

    /**
     * An image's pixels: grey images (one colour component, any bit depth) as one plane of their
     * stored levels scaled to 8 bits; everything else as three sRGB planes. Transparency is
     * composited on white, a·v + (1 − a)·255 rounded.
     */
    static Decoded planes(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        boolean alpha = img.getColorModel().hasAlpha();
        if (img.getColorModel().getNumColorComponents() == 1 && !(img.getColorModel() instanceof java.awt.image.IndexColorModel)) {
            // The raster, not getRGB: Java treats grey as linear light and would gamma-brighten mid-greys.
            Raster r = img.getRaster();
            int max = (1 << img.getColorModel().getComponentSize(0)) - 1;
            int maxAlpha = alpha ? (1 << img.getColorModel().getComponentSize(1)) - 1 : 1;
            byte[] out = new byte[w * h];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double v = r.getSample(x, y, 0) * 255.0 / max;
                    if (alpha) {
                        double a = r.getSample(x, y, 1) / (double) maxAlpha;
                        v = v * a + 255 * (1 - a);
                    }
                    out[y * w + x] = (byte) Math.round(v);
                }
            }
            return new Decoded(out, 1, h, w);
        }
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        int plane = w * h;
        byte[] out = new byte[3 * plane];
        for (int p = 0; p < plane; p++) {
            int c = argb[p];
            double a = alpha ? (c >>> 24) / 255.0 : 1;
            for (int ch = 0; ch < 3; ch++) {
                int v = c >> (16 - 8 * ch) & 0xff;
                out[ch * plane + p] = (byte) (alpha ? Math.round(v * a + 255 * (1 - a)) : v);
            }
        }
        return new Decoded(out, 3, h, w);
    }
}
