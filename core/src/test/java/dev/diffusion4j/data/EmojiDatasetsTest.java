package dev.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.io.Tarballs;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The emoji data sets on two small packages built here as npm would pack them: twelve emoji in
 * three categories, each sprite a flat colour with one half-transparent and one transparent pixel.
 */
class EmojiDatasetsTest {
    /** npm as a command that cannot start: these tests never fetch. */
    private static final String NO_NPM = "/nonexistent/npm";

    /** code, name, short names, category, subcategory, sort order — listed out of picker order on purpose. */
    private static final String[][] EMOJI = {
        {"1F436", "DOG FACE", "dog", "Animals & Nature", "animal-mammal", "20"},
        {"1F431", "CAT FACE", "cat", "Animals & Nature", "animal-mammal", "21"},
        {"1F42D", "MOUSE FACE", "mouse", "Animals & Nature", "animal-mammal", "22"},
        {"1F439", "HAMSTER FACE", "hamster", "Animals & Nature", "animal-mammal", "23"},
        {"1F43B", "BEAR FACE", "bear", "Animals & Nature", "animal-mammal", "24"},
        {"1F600", "GRINNING FACE", "grinning", "Smileys & Emotion", "face-smiling", "1"},
        {"1F601", "GRINNING FACE WITH SMILING EYES", "grin", "Smileys & Emotion", "face-smiling", "2"},
        {"1F609", "WINKING FACE", "wink", "Smileys & Emotion", "face-affection", "3"},
        {"2764-FE0F", "HEAVY BLACK HEART", "heart", "Smileys & Emotion", "heart", "4"},
        {"1F44D", "THUMBS UP SIGN", "+1 thumbsup", "People & Body", "hand-fingers-closed", "10"},
        {"1F44B", "WAVING HAND SIGN", "wave", "People & Body", "hand-fingers-open", "11"},
        {"1F385", "FATHER CHRISTMAS", "santa", "People & Body", "person-fantasy", "12"},
    };
    /** The emoji the held-out rule picks among these (checked below, not assumed). */
    private static final List<String> HELD_OUT = List.of("1F601", "1F609", "2764-FE0F");

    private Path cache;

    @BeforeEach
    void cacheDirectory(@TempDir Path dir) {
        cache = dir.resolve("cache");
    }

    /** emoji.json as emoji-datasource writes it; the thumbs up has two skin tones, the darker one not drawn by Twemoji. */
    private static byte[] emojiJson() {
        List<Map<String, Object>> list = new ArrayList<>();
        for (String[] e : EMOJI) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e[1]);
            m.put("unified", e[0]);
            m.put("image", e[0].toLowerCase() + ".png");
            m.put("short_name", e[2].split(" ")[0]);
            m.put("short_names", List.of(e[2].split(" ")));
            m.put("category", e[3]);
            m.put("subcategory", e[4]);
            m.put("sort_order", Integer.parseInt(e[5]));
            m.put("has_img_google", true);
            m.put("has_img_twitter", true);
            if (e[0].equals("1F44D")) {
                m.put("skin_variations", Map.of(
                        "1F3FF", Map.of("unified", "1F44D-1F3FF", "image", "1f44d-1f3ff.png", "has_img_google", true,
                                "has_img_twitter", false),
                        "1F3FB", Map.of("unified", "1F44D-1F3FB", "image", "1f44d-1f3fb.png", "has_img_google", true,
                                "has_img_twitter", true)));
            }
            list.add(m);
        }
        try {
            return Json.mapper().writeValueAsBytes(list);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The flat colour of one sprite: red from the image's name, green from the style. */
    private static int colour(String image, String style) {
        return 0xFF000000 | (Math.floorMod(image.hashCode(), 200) << 16) | ((style.equals("google") ? 40 : 80) << 8) | 0x10;
    }

    private static byte[] sprite(String image, String style) {
        BufferedImage img = new BufferedImage(EmojiDatasets.SIZE, EmojiDatasets.SIZE, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < EmojiDatasets.SIZE; y++) {
            for (int x = 0; x < EmojiDatasets.SIZE; x++) {
                img.setRGB(x, y, colour(image, style));
            }
        }
        img.setRGB(0, 0, 0x80C86400); // (200, 100, 0) at alpha 128
        img.setRGB(1, 0, 0x00000000); // fully transparent
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            assertTrue(ImageIO.write(img, "png", out));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toByteArray();
    }

    /** The package of {@code style} as bytes: emoji.json, a sprite sheet to skip, every sprite the listing says is drawn. */
    private static byte[] tarball(String style) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("package/package.json", "{\"name\": \"emoji-datasource\"}".getBytes(StandardCharsets.UTF_8));
        files.put("package/emoji.json", emojiJson());
        files.put("package/img/" + style + "/sheets/64.png", new byte[3000]);
        List<String> images = new ArrayList<>(Arrays.stream(EMOJI).map(e -> e[0].toLowerCase() + ".png").toList());
        images.add("1f44d-1f3fb.png");
        if (style.equals("google")) {
            images.add("1f44d-1f3ff.png");
        }
        for (String image : images) {
            files.put("package/img/" + style + "/64/" + image, sprite(image, style));
        }
        return Tarballs.tgz(files);
    }

    /** Puts the package of {@code style} into the cache as a user would; returns its style, with the integrity of these bytes. */
    private EmojiDatasets.Style placed(String style, byte[] tgz) throws IOException {
        Files.createDirectories(cache);
        Path file = Files.write(cache.resolve("emoji-datasource-" + style + "-16.0.0.tgz"), tgz);
        return new EmojiDatasets.Style(style, new NpmPackage("emoji-datasource-" + style, "16.0.0", NpmPackage.integrityOf(file)));
    }

    private List<EmojiDatasets.Style> bothPlaced() throws IOException {
        return List.of(placed("google", tarball("google")), placed("twitter", tarball("twitter")));
    }

    private static int px(ImageDataset d, int n, int c, int y, int x) {
        return d.pixelBytes()[((n * d.channels() + c) * d.height() + y) * d.width() + x] & 0xff;
    }

    @Test
    void theRuleHoldsOutTheseEmoji() {
        assertEquals(HELD_OUT, Arrays.stream(EMOJI).map(e -> e[0]).filter(EmojiDatasets::isHeldOut).toList());
    }

    @Test
    void spritesOnWhiteWithCategoryLabelsAndCaptions() throws IOException {
        EmojiDatasets.Style google = placed("google", tarball("google"));
        ImageDataset train = EmojiDatasets.load(List.of(google), false, cache, NO_NPM);
        assertEquals("emoji-google", train.name());
        assertEquals(List.of("Smileys & Emotion", "People & Body", "Animals & Nature"), train.classNames(),
                "categories in the picker's order");
        // Picker order, held-out emoji left out, the thumbs up followed by its two skin tones.
        List<String> expected = List.of(
                "grinning face, grinning, face smiling, smileys & emotion, google style",
                "thumbs up sign, +1, thumbsup, hand fingers closed, people & body, google style",
                "thumbs up sign, +1, thumbsup, light skin tone, hand fingers closed, people & body, google style",
                "thumbs up sign, +1, thumbsup, dark skin tone, hand fingers closed, people & body, google style",
                "waving hand sign, wave, hand fingers open, people & body, google style",
                "father christmas, santa, person fantasy, people & body, google style",
                "dog face, dog, animal mammal, animals & nature, google style",
                "cat face, cat, animal mammal, animals & nature, google style",
                "mouse face, mouse, animal mammal, animals & nature, google style",
                "hamster face, hamster, animal mammal, animals & nature, google style",
                "bear face, bear, animal mammal, animals & nature, google style");
        assertEquals(expected, train.captions());
        assertEquals(List.of(0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2), IntStream.range(0, train.size()).map(train::label).boxed().toList());
        assertEquals(3, train.channels());
        assertEquals(64, train.height());
        assertFalse(train.flips(), "a mirrored arrow would contradict its caption");
        assertTrue(train.description().contains("captioned"), train.description());

        // Opaque pixels keep their colour; a·rgb + (1 − a)·255 on the half-transparent one; white where transparent.
        // Image 2 is the light-skinned thumbs up.
        assertEquals(colour("1f44d-1f3fb.png", "google") >> 16 & 0xff, px(train, 2, 0, 5, 5));
        assertEquals(40, px(train, 2, 1, 5, 5));
        assertEquals(0x10, px(train, 2, 2, 63, 63));
        assertEquals(227, px(train, 2, 0, 0, 0)); // 200·128/255 + 255·127/255 = 227.4
        assertEquals(177, px(train, 2, 1, 0, 0)); // 100·128/255 + 127 = 177.2
        assertEquals(127, px(train, 2, 2, 0, 0)); // 0 + 127
        for (int ch = 0; ch < 3; ch++) {
            assertEquals(255, px(train, 2, ch, 0, 1));
        }
    }

    @Test
    void heldOutEmojiAreTheSameInBothStyles() throws IOException {
        List<EmojiDatasets.Style> both = bothPlaced();
        ImageDataset train = EmojiDatasets.load(both, false, cache, NO_NPM);
        ImageDataset test = EmojiDatasets.load(both, true, cache, NO_NPM);
        assertEquals("emoji", train.name());
        assertEquals("emoji-test", test.name());
        // Google draws 14 sprites, Twemoji 13 (no dark thumbs up); three emoji of one image each are held out per style.
        assertEquals(11 + 10, train.size());
        assertEquals(3 + 3, test.size());
        assertEquals(List.of(
                "grinning face with smiling eyes, grin, face smiling, smileys & emotion, google style",
                "winking face, wink, face affection, smileys & emotion, google style",
                "heavy black heart, heart, smileys & emotion, google style",
                "grinning face with smiling eyes, grin, face smiling, smileys & emotion, twitter style",
                "winking face, wink, face affection, smileys & emotion, twitter style",
                "heavy black heart, heart, smileys & emotion, twitter style"), test.captions(),
                "the subcategory 'heart' is said once");
        assertEquals(train.classNames(), test.classNames(), "both splits share the class list");
        for (String caption : train.captions()) {
            assertTrue(Stream.of("grinning face with", "winking", "heart").noneMatch(caption::startsWith), caption);
        }
        assertEquals(11, train.captions().stream().filter(t -> t.endsWith("google style")).count());
        assertEquals(10, train.captions().stream().filter(t -> t.endsWith("twitter style")).count());
        // The twitter style's pixels are its own.
        int twitterFirst = 11;
        assertEquals(80, px(train, twitterFirst, 1, 5, 5));
        assertEquals(40, px(train, 0, 1, 5, 5));
    }

    @Test
    void theSecondOpenReadsTheDecodedCache() throws IOException {
        List<EmojiDatasets.Style> both = bothPlaced();
        ImageDataset first = EmojiDatasets.load(both, false, cache, NO_NPM);
        for (EmojiDatasets.Style s : both) {
            Files.delete(cache.resolve(s.source().fileName()));
        }
        // With the packages gone and no npm, only the decoded cache can answer.
        ImageDataset second = EmojiDatasets.load(both, false, cache, NO_NPM);
        assertArrayEquals(first.pixelBytes(), second.pixelBytes());
        assertEquals(first.captions(), second.captions());
        assertEquals(first.classNames(), second.classNames());
        assertEquals(first.size(), second.size());

        // A damaged cache is not trusted: it is decoded again, here from a package put back.
        Path pixels = cache.resolve("emoji-google-16.0.0.rgb");
        byte[] bytes = Files.readAllBytes(pixels);
        bytes[100] ^= 1;
        Files.write(pixels, bytes);
        String m = assertThrows(DiffusionException.class, () -> EmojiDatasets.load(both, false, cache, NO_NPM)).getMessage();
        assertTrue(m.startsWith("cannot fetch emoji-datasource-google@16.0.0: npm is not installed"), m);
        Files.write(cache.resolve(both.get(0).source().fileName()), tarball("google"));
        assertArrayEquals(first.pixelBytes(), EmojiDatasets.load(both, false, cache, NO_NPM).pixelBytes());
    }

    @Test
    void aTruncatedPackageIsAnErrorAndLeavesNoCache() throws IOException {
        byte[] whole = tarball("google");
        EmojiDatasets.Style cut = placed("google", Arrays.copyOf(whole, whole.length * 2 / 3));
        String m = assertThrows(DiffusionException.class, () -> EmojiDatasets.load(List.of(cut), false, cache, NO_NPM)).getMessage();
        assertTrue(m.startsWith(cache.resolve("emoji-datasource-google-16.0.0.tgz") + " is not a readable .tgz archive: truncated"), m);
        assertFalse(m.contains("\n"), "one line");
        try (Stream<Path> left = Files.list(cache)) {
            assertEquals(List.of("emoji-datasource-google-16.0.0.tgz"), left.map(p -> p.getFileName().toString()).toList(),
                    "nothing decoded, nothing half-written");
        }
    }

    @Test
    void aPackageThatIsNotTheOnePublishedIsDeleted() throws IOException {
        EmojiDatasets.Style google = placed("google", tarball("google"));
        Path file = cache.resolve(google.source().fileName());
        Files.write(file, tarball("twitter"));
        String m = assertThrows(DiffusionException.class, () -> EmojiDatasets.load(List.of(google), false, cache, NO_NPM)).getMessage();
        assertTrue(m.startsWith(file + " does not match the published integrity of emoji-datasource-google@16.0.0 (its hash is sha512-"),
                m);
        assertTrue(m.endsWith("so it was deleted; open the data set again to download it anew"), m);
        assertFalse(Files.exists(file));
    }

    @Test
    void withoutNpmOrAPackageTheErrorSaysWhatToDo() {
        String m = assertThrows(DiffusionException.class, () -> EmojiDatasets.load(List.of(EmojiDatasets.GOOGLE), false, cache, NO_NPM))
                .getMessage();
        assertEquals("cannot fetch emoji-datasource-google@16.0.0: npm is not installed (" + NO_NPM + " did not start); install npm "
                + "(Debian: apt-get install npm) or put emoji-datasource-google-16.0.0.tgz into " + cache, m);
        try (Stream<Path> left = Files.list(cache)) {
            assertEquals(0, left.count(), "the staging directory is gone");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void npmsReasonIsItsFirstMeaningfulErrorLine() {
        String output = """
                npm error code ETARGET
                npm error notarget No matching version found for emoji-datasource-google@99.0.0.
                npm error A complete log of this run can be found in: /home/u/.npm/_logs/debug-0.log
                """;
        assertEquals("notarget No matching version found for emoji-datasource-google@99.0.0.", NpmPackage.npmReason(output, 1));
        assertEquals("code E404", NpmPackage.npmReason("npm ERR! code E404\nnpm ERR! A complete log of this run\n", 1));
        assertEquals("exit code 1", NpmPackage.npmReason("", 1));
    }

    @Test
    void theCacheDirectoryFollowsTheEnvironment() {
        assertEquals(Path.of("/data/d4j"), DataCache.directory("/data/d4j", "/xdg", "/home/u"));
        assertEquals(Path.of("/xdg/diffusion4j"), DataCache.directory(null, "/xdg", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/diffusion4j"), DataCache.directory("", "relative/xdg", "/home/u"));
    }

    /**
     * The real packages, fetched with npm into the user's cache on the first run: 3,786 Noto sprites
     * of 64×64, about a tenth of them held out, and a second open of both styles from the decoded
     * cache within two seconds.
     */
    @Tag("quality")
    @Test
    void theRealPackages() {
        Path userCache = DataCache.directory();
        boolean cached = EmojiDatasets.STYLES.stream().allMatch(s -> Files.isRegularFile(userCache.resolve("emoji-" + s + "-16.0.0.json")));
        assumeTrue(cached || npmRuns(), "npm is not installed and the emoji packages are not in " + userCache);
        ImageDataset train = EmojiDatasets.load(List.of("google"), false);
        ImageDataset test = EmojiDatasets.load(List.of("google"), true);
        assertEquals(3786, train.size() + test.size());
        assertEquals(List.of(3, 64, 64), List.of(test.channels(), test.height(), test.width()));
        double share = test.size() / 3786.0;
        assertTrue(share > 0.08 && share < 0.12, "held-out share " + share);
        assertEquals(10, train.numClasses());
        assertEquals("Smileys & Emotion", train.classNames().get(0));
        assertTrue(train.captions().contains("grinning face, grinning, face smiling, smileys & emotion, google style"));

        EmojiDatasets.load(List.of("twitter"), false);
        long t0 = System.nanoTime();
        ImageDataset both = (ImageDataset) DataSources.open("emoji", ImageOptions.NATIVE);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("EmojiDatasets: %s opened from the decoded cache in %.2f s%n", both.description(), seconds);
        assertEquals(2 * train.size(), both.size(), "the same emoji are held out in both styles, and each style draws all of them");
        assertTrue(seconds < 2, seconds + " s");
        for (String name : ImageDatasets.names().stream().filter(n -> n.startsWith("emoji")).toList()) {
            ImageDataset d = (ImageDataset) DataSources.open(name, new ImageOptions(32, null, null));
            assertEquals(name, d.name());
            assertEquals(32, d.height());
            assertTrue(ImageDatasets.descriptions().get(name).contains(String.format("%,d images", d.size())), name + ": " + d.size());
        }
    }

    private static boolean npmRuns() {
        try {
            return new ProcessBuilder(NpmPackage.NPM, "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
