package dev.diffusion4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.AtomicFiles;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.io.TarGz;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/**
 * Captioned colour images: the emoji of the npm packages {@code emoji-datasource-google} (Noto Emoji
 * artwork, Apache-2.0) and {@code emoji-datasource-twitter} (Twemoji artwork, CC-BY-4.0), version
 * 16.0.0 (the packages themselves MIT): per style 3,786 sprites of 64×64 — 1,911 emoji and their
 * skin-tone variants. Each package is fetched on first use (see {@link DataCache}), composited on
 * white, out = a·rgb + (1 − a)·255 rounded, and decoded once into the cache, so later opens read
 * the pixels directly.
 *
 * <p>Each image is labelled with its emoji category (class names: the categories in the emoji
 * picker's order, "Smileys & Emotion" first) and captioned from the emoji's name, short names,
 * skin tone, subcategory, category and style, in lower case: "grinning face, grinning, face
 * smiling, smileys & emotion, google style".
 *
 * <p>10 % of the emoji are held out for evaluation (FID), chosen by emoji rather than by image: an
 * emoji, its skin-tone variants and both its styles are all on the same side (see
 * {@link #isHeldOut}). Flip stays off by default, as for Fashion-MNIST: a mirrored "right arrow" or
 * "clockwise arrows" would contradict its caption.
 */
public final class EmojiDatasets {
    /** The artwork styles, one npm package each. */
    public static final List<String> STYLES = List.of("google", "twitter");

    /** The sprites' side in pixels. */
    public static final int SIZE = 64;

    /** One artwork style and the package its sprites come from. */
    record Style(String name, NpmPackage source) {
    }

    static final Style GOOGLE = new Style("google", new NpmPackage("emoji-datasource-google", "16.0.0",
            "sha512-ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4QxZkOPJCoT8DlPhfQ3A=="));
    static final Style TWITTER = new Style("twitter", new NpmPackage("emoji-datasource-twitter", "16.0.0",
            "sha512-7F+uCuHH+7Qnrc15P5tnbvKkg9E6tlzi4MnT2uW1RlN4pLYTza6cP/dstIfSDMtpjFLWuZewWg8jBbuL2eyELQ=="));

    /** The version of the decoded cache's layout; a cache of another version is decoded again. */
    private static final int CACHE_FORMAT = 1;
    private static final String EMOJI_JSON = "package/emoji.json";
    private static final int CHANNELS = 3;

    /** Unicode's names of the skin-tone modifiers, by code point. */
    private static final Map<String, String> SKIN_TONES = Map.of("1F3FB", "light", "1F3FC", "medium-light", "1F3FD", "medium",
            "1F3FE", "medium-dark", "1F3FF", "dark");

    private EmojiDatasets() {
    }

    /**
     * The emoji of {@code styles} (names from {@link #STYLES}), the training 90 % of the emoji or the
     * held-out 10 %, from the cache directory ({@link DataCache#directory()}), fetching with npm what
     * is not there yet. Named "emoji", "emoji-google" or "emoji-twitter", with "-test" for the
     * held-out part.
     */
    public static ImageDataset load(List<String> styles, boolean heldOut) {
        List<Style> chosen = new ArrayList<>();
        for (String s : styles) {
            chosen.add(switch (s) {
                case "google" -> GOOGLE;
                case "twitter" -> TWITTER;
                default -> throw new DiffusionException("unknown emoji style " + s + "; the styles are " + String.join(", ", STYLES));
            });
        }
        return load(chosen, heldOut, DataCache.directory(), NpmPackage.NPM);
    }

    /** {@link #load(List, boolean)} with the cache directory and the npm command given. */
    static ImageDataset load(List<Style> styles, boolean heldOut, Path cacheDir, String npm) {
        if (styles.isEmpty()) {
            throw new DiffusionException("name at least one emoji style: " + String.join(", ", STYLES));
        }
        List<Decoded> all = new ArrayList<>();
        for (Style s : styles) {
            Decoded d = decoded(s, cacheDir, npm);
            if (!all.isEmpty() && !d.classes().equals(all.get(0).classes())) {
                throw new DiffusionException("the emoji packages " + styles.get(0).source().spec() + " and " + s.source().spec()
                        + " list different categories; use packages of one version");
            }
            all.add(d);
        }
        int item = CHANNELS * SIZE * SIZE;
        int count = 0;
        for (Decoded d : all) {
            count += (int) d.emoji().stream().filter(e -> isHeldOut(e) == heldOut).count();
        }
        byte[] pixels = new byte[count * item];
        int[] labels = new int[count];
        List<String> captions = new ArrayList<>(count);
        int n = 0;
        for (Decoded d : all) {
            for (int i = 0; i < d.emoji().size(); i++) {
                if (isHeldOut(d.emoji().get(i)) == heldOut) {
                    System.arraycopy(d.pixels(), i * item, pixels, n * item, item);
                    labels[n] = d.labels()[i];
                    captions.add(d.captions().get(i));
                    n++;
                }
            }
        }
        String name = "emoji" + (styles.size() == 1 ? "-" + styles.get(0).name() : "") + (heldOut ? "-test" : "");
        String from = String.join(" and ", styles.stream().map(s -> s.source().spec()).toList());
        return ImageDataset.of(name, pixels, count, CHANNELS, SIZE, SIZE, labels, all.get(0).classes())
                .withCaptions(captions)
                .withSource((heldOut ? "the held-out 10% of the emoji" : "the training 90% of the emoji") + ", " + from);
    }

    /**
     * Whether the emoji with this unified code (as emoji.json writes it, "1F600") is held out: the
     * first eight bytes of the SHA-256 of the code, as a big-endian long, are 0 modulo 10. A rule on
     * the emoji alone, so it needs no list and keeps an emoji's images together.
     */
    static boolean isHeldOut(String unified) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(unified.getBytes(StandardCharsets.US_ASCII));
            return Math.floorMod(ByteBuffer.wrap(hash).getLong(), 10) == 0;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /**
     * One style's images, all of them: pixels [N, 3, 64, 64], and per image the unified code of its
     * emoji (the base emoji for a skin-tone variant), its category label and its caption.
     */
    private record Decoded(byte[] pixels, List<String> emoji, int[] labels, List<String> captions, List<String> classes) {
    }

    /** The style's images from the decoded cache, else from its package (fetched if need be), which then fill the cache. */
    private static Decoded decoded(Style style, Path cacheDir, String npm) {
        String stem = "emoji-" + style.name() + "-" + style.source().version();
        Path meta = cacheDir.resolve(stem + ".json");
        Path pixels = cacheDir.resolve(stem + ".rgb");
        Optional<Decoded> cached = readCache(style, meta, pixels);
        if (cached.isPresent()) {
            return cached.get();
        }
        Decoded d = decode(style.source().fetch(cacheDir, npm), style.name());
        CRC32 crc = new CRC32();
        crc.update(d.pixels());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", CACHE_FORMAT);
        m.put("package", style.source().spec());
        m.put("integrity", style.source().integrity());
        m.put("size", SIZE);
        m.put("pixels_crc32", crc.getValue());
        m.put("classes", d.classes());
        m.put("emoji", d.emoji());
        m.put("labels", d.labels());
        m.put("captions", d.captions());
        // Pixels first: the metadata is what marks a complete cache.
        AtomicFiles.writeBytes(pixels, d.pixels());
        Json.write(meta, m);
        return d;
    }

    /** The decoded cache, when it is complete and was made from this very package; empty otherwise. */
    private static Optional<Decoded> readCache(Style style, Path meta, Path pixelFile) {
        if (!Files.isRegularFile(meta) || !Files.isRegularFile(pixelFile)) {
            return Optional.empty();
        }
        try {
            JsonNode m = Json.read(meta);
            if (m.path("format").asInt() != CACHE_FORMAT || !m.path("integrity").asText().equals(style.source().integrity())
                    || m.path("size").asInt() != SIZE) {
                return Optional.empty();
            }
            byte[] pixels = Files.readAllBytes(pixelFile);
            CRC32 crc = new CRC32();
            crc.update(pixels);
            if (crc.getValue() != m.path("pixels_crc32").asLong()) {
                return Optional.empty();
            }
            List<String> emoji = strings(m.path("emoji"));
            List<String> captions = strings(m.path("captions"));
            int[] labels = new int[m.path("labels").size()];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = m.path("labels").get(i).asInt();
            }
            int count = emoji.size();
            if (captions.size() != count || labels.length != count || pixels.length != count * CHANNELS * SIZE * SIZE) {
                return Optional.empty();
            }
            return Optional.of(new Decoded(pixels, emoji, labels, captions, strings(m.path("classes"))));
        } catch (IOException | DiffusionException e) {
            // An unreadable cache is decoded again from the package.
            return Optional.empty();
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>(array.size());
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** One sprite to read: the emoji it shows (its base code), its tarball path, label and caption. */
    private record Sprite(String emoji, String path, int label, String caption) {
    }

    /** Every image of {@code style} in the package {@code tgz}, in the emoji picker's order, each base emoji before its variants. */
    private static Decoded decode(Path tgz, String style) {
        String dir = "package/img/" + style + "/" + SIZE + "/";
        Map<String, byte[]> files = new HashMap<>();
        TarGz.read(tgz, n -> n.equals(EMOJI_JSON) || n.startsWith(dir), files::put);
        byte[] listing = files.get(EMOJI_JSON);
        if (listing == null) {
            throw new DiffusionException(tgz + " holds no " + EMOJI_JSON + "; it is not an emoji-datasource package");
        }
        List<JsonNode> emoji = emojiInOrder(listing, tgz);
        List<String> classes = categories(emoji, tgz);
        List<Sprite> sprites = sprites(emoji, classes, style, dir, tgz);
        int item = CHANNELS * SIZE * SIZE;
        byte[] pixels = new byte[sprites.size() * item];
        // Decoding is the slow part of a first open; each sprite fills its own slice.
        IntStream.range(0, sprites.size()).parallel().forEach(i -> {
            Sprite s = sprites.get(i);
            byte[] png = files.get(s.path());
            if (png == null) {
                throw new DiffusionException(tgz + " lists " + s.path() + " in its emoji.json but does not hold it; delete the file "
                        + "and fetch the package again");
            }
            System.arraycopy(composite(png, tgz + ":" + s.path()), 0, pixels, i * item, item);
        });
        return new Decoded(pixels, sprites.stream().map(Sprite::emoji).toList(), sprites.stream().mapToInt(Sprite::label).toArray(),
                sprites.stream().map(Sprite::caption).toList(), classes);
    }

    /** The sprites of {@code style} that emoji.json lists, with their labels and captions. */
    private static List<Sprite> sprites(List<JsonNode> emoji, List<String> classes, String style, String dir, Path tgz) {
        String hasImage = "has_img_" + style;
        List<Sprite> sprites = new ArrayList<>();
        for (JsonNode e : emoji) {
            String code = field(e, "unified", tgz);
            int label = classes.indexOf(field(e, "category", tgz));
            if (e.path(hasImage).asBoolean()) {
                sprites.add(new Sprite(code, dir + field(e, "image", tgz), label, caption(e, null, style, tgz)));
            }
            List<String> tones = new ArrayList<>();
            e.path("skin_variations").fieldNames().forEachRemaining(tones::add);
            tones.sort(Comparator.naturalOrder());
            for (String tone : tones) {
                JsonNode v = e.get("skin_variations").get(tone);
                if (v.path(hasImage).asBoolean()) {
                    sprites.add(new Sprite(code, dir + field(v, "image", tgz), label, caption(e, tone, style, tgz)));
                }
            }
        }
        return sprites;
    }

    /** emoji.json's entries sorted by their place in the emoji picker ({@code sort_order}). */
    private static List<JsonNode> emojiInOrder(byte[] listing, Path tgz) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(listing);
        } catch (IOException e) {
            throw new DiffusionException(tgz + " holds an unreadable " + EMOJI_JSON + " (" + e.getMessage() + ")");
        }
        if (root == null || !root.isArray() || root.isEmpty()) {
            throw new DiffusionException(tgz + ": " + EMOJI_JSON + " must be a non-empty array of emoji");
        }
        List<JsonNode> emoji = new ArrayList<>();
        root.forEach(emoji::add);
        emoji.sort(Comparator.comparingInt(e -> e.path("sort_order").asInt()));
        return emoji;
    }

    /** The categories in the order their first emoji appear in the picker: the class names. */
    private static List<String> categories(List<JsonNode> emoji, Path tgz) {
        Set<String> seen = new LinkedHashSet<>();
        for (JsonNode e : emoji) {
            seen.add(field(e, "category", tgz));
        }
        return List.copyOf(seen);
    }

    private static String field(JsonNode node, String name, Path tgz) {
        JsonNode v = node.get(name);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new DiffusionException(tgz + ": an entry of " + EMOJI_JSON + " has no \"" + name + "\" (" + node.path("unified")
                    + "); it is not an emoji-datasource package");
        }
        return v.asText();
    }

    /**
     * The caption of emoji {@code e} (skin tone {@code tone}, a key of its skin_variations such as
     * "1F3FB" or "1F3FB-1F3FF", or null) in {@code style}: name, short names, skin tone, subcategory,
     * category and style, lower case, joined by commas, each part once.
     */
    private static String caption(JsonNode e, String tone, String style, Path tgz) {
        List<String> parts = new ArrayList<>();
        parts.add(field(e, "name", tgz));
        e.path("short_names").forEach(s -> parts.add(s.asText().replace('_', ' ').replace('-', ' ')));
        if (tone != null) {
            parts.add(skinTone(tone));
        }
        parts.add(e.path("subcategory").asText("").replace('-', ' '));
        parts.add(field(e, "category", tgz));
        parts.add(style + " style");
        return String.join(", ", parts.stream().map(p -> p.strip().toLowerCase(Locale.ROOT)).filter(p -> !p.isEmpty())
                .distinct().toList());
    }

    /** "1F3FB" → "light skin tone"; "1F3FB-1F3FF" (two people) → "light and dark skin tones". */
    private static String skinTone(String key) {
        List<String> tones = Arrays.stream(key.toUpperCase(Locale.ROOT).split("-")).distinct()
                .map(t -> SKIN_TONES.getOrDefault(t, t.toLowerCase(Locale.ROOT))).toList();
        return tones.size() == 1 ? tones.get(0) + " skin tone" : String.join(" and ", tones) + " skin tones";
    }

    /** A 64×64 sprite's PNG as three planes of 8-bit RGB on white. */
    private static byte[] composite(byte[] png, String where) {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException | RuntimeException e) {
            throw new DiffusionException("corrupt PNG: " + where + " (" + e.getMessage() + "); delete the package and fetch it again");
        }
        if (img == null) {
            throw new DiffusionException("corrupt PNG: " + where + " (no decoder recognises it); delete the package and fetch it again");
        }
        ImageFolder.Decoded d = ImageFolder.planes(img);
        if (d.height() != SIZE || d.width() != SIZE) {
            throw new DiffusionException(where + " is " + d.width() + "x" + d.height() + ", not " + SIZE + "x" + SIZE);
        }
        return ImageTransforms.convertChannels(d.chw(), d.channels(), CHANNELS, SIZE * SIZE);
    }
}
