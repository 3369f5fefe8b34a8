package dev.diffusion4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The emphasis syntax users write: the weights each bracket gives, nesting, escapes, BREAK, and errors for unbalanced brackets. */
class PromptWeightsTest {

    private static void assertSegments(String prompt, Object... textAndWeight) {
        List<PromptWeights.Segment> s = PromptWeights.parse(prompt);
        assertEquals(textAndWeight.length / 2, s.size(), prompt + " → " + s);
        for (int i = 0; i < s.size(); i++) {
            assertEquals(textAndWeight[2 * i], s.get(i).text(), prompt);
            assertEquals((double) textAndWeight[2 * i + 1], s.get(i).weight(), 1e-12, prompt + ": weight of " + s.get(i).text());
        }
    }

    @Test
    void bracketsWeighAsTheWebUiDoes() {
        assertSegments("a cat", "a cat", 1.0);
        assertSegments("a (cat) on a [mat]", "a ", 1.0, "cat", 1.1, " on a ", 1.0, "mat", 1 / 1.1);
        assertSegments("((cat))", "cat", 1.1 * 1.1);
        assertSegments("(cat:1.5), dog", "cat", 1.5, ", dog", 1.0);
        assertSegments("(a [b] c:1.3)", "a ", 1.3, "b", 1.3 / 1.1, " c", 1.3);
        assertSegments("(cat: 0.5 )", "cat", 0.5);
        assertSegments("\\(not weighted\\) a: b", "(not weighted) a: b", 1.0);
        assertSegments("", "", 1.0);
        assertSegments("Bob BREAKS things", "Bob BREAKS things", 1.0);
    }

    @Test
    void breakStartsAChunk() {
        List<PromptWeights.Segment> s = PromptWeights.parse("a castle BREAK a (dragon)");
        assertEquals(3, s.size(), s.toString());
        assertTrue(!s.get(0).breakBefore() && s.get(1).breakBefore() && !s.get(2).breakBefore(), s.toString());
        assertEquals(1.1, s.get(2).weight(), 1e-12);
    }

    @Test
    void unbalancedBracketsAreNamedByPosition() {
        String open = assertThrows(DiffusionException.class, () -> PromptWeights.parse("a (cat on a mat")).getMessage();
        assertTrue(open.contains("character 3") && open.contains("never closed"), open);
        String close = assertThrows(DiffusionException.class, () -> PromptWeights.parse("a cat) on a mat")).getMessage();
        assertTrue(close.contains("character 6") && close.contains("never opened"), close);
        assertTrue(assertThrows(DiffusionException.class, () -> PromptWeights.parse("[a cat")).getMessage().contains("never closed"));
        assertTrue(assertThrows(DiffusionException.class, () -> PromptWeights.parse("a]")).getMessage().contains("never opened"));
    }
}
