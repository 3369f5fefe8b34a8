package dev.diffusion4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.io.Json;
import dev.diffusion4j.models.GoldenFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity with transformers' CLIPTokenizer as diffusers loads it (the slow tokenizer, ftfy absent) on
 * CLIP's vocabulary, for SD 1.x's tokenizer folder (padding with end-of-text) and SD 2.x's (padding
 * with "!", which is then a special token split out of the text): 25 prompts of every kind users type
 * — case, punctuation runs, digits, contractions, entities, accents (composed and not), emoji, CJK,
 * control and zero-width characters, weights in brackets, literal special tokens, prompts of 75, 76
 * and 150 tokens, the empty prompt (tools/golden/make_clip_tokenizer_fixture.py).
 */
class ClipTokenizerGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"sd1", "sd2"})
    @SuppressWarnings("unchecked")
    void matchesTransformers(String variant, @TempDir Path dir) throws IOException {
        Path fixture = GoldenFixtures.folder("clip_tokenizer");
        ClipTokenizer.clip().save(dir);
        for (String name : List.of("tokenizer_config.json", "special_tokens_map.json")) {
            Files.copy(fixture.resolve(variant).resolve(name), dir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        ClipTokenizer tokenizer = ClipTokenizer.load(dir);
        assertEquals(77, tokenizer.contextLength());
        assertEquals(variant.equals("sd1") ? ClipTokenizer.END_OF_TEXT : 0, tokenizer.padId());
        List<Map<String, Object>> cases = (List<Map<String, Object>>) Json.readMap(fixture.resolve("tokenizer_cases.json")).get("cases");
        assertEquals(25, cases.size());
        for (Map<String, Object> c : cases) {
            String prompt = (String) c.get("prompt");
            int[] raw = ints(c.getOrDefault("ids_raw_" + variant, c.get("ids_raw")));
            int[] tokens = tokenizer.tokenize(prompt);
            int[] framed = new int[tokens.length + 2];
            framed[0] = ClipTokenizer.START_OF_TEXT;
            System.arraycopy(tokens, 0, framed, 1, tokens.length);
            framed[framed.length - 1] = ClipTokenizer.END_OF_TEXT;
            assertArrayEquals(raw, framed, variant + " raw ids of \"" + prompt + "\"");

            ClipTokenizer.Encoding e = tokenizer.encode(prompt);
            assertArrayEquals(ints(c.get("ids_" + variant)), e.ids(), variant + " padded ids of \"" + prompt + "\"");
            assertEquals(raw.length > 77, e.truncated(), "truncation flag of \"" + prompt + "\"");
        }
    }

    /** The CLIP tokenizer of the project's own models keeps CLIP's cleaning: entities unescaped, no special tokens in the text. */
    @ParameterizedTest
    @ValueSource(strings = {"fish &amp; chips"})
    void theProjectsOwnTokenizerUnescapesEntities(String prompt) {
        int[] own = ClipTokenizer.clip().tokenize(prompt);
        assertTrue(own.length == 3, "fish, &, chips: " + java.util.Arrays.toString(own));
        assertFalse(ClipTokenizer.clip().decode(own).contains("amp"));
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }
}
