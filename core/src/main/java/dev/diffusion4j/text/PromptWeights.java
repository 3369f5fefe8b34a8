package dev.diffusion4j.text;

import dev.diffusion4j.DiffusionException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Emphasis in a prompt as Stable Diffusion's users write it (the AUTOMATIC1111 web UI's syntax):
 * <pre>
 * (text)      weight × 1.1          ((text)) × 1.21, nesting multiplies
 * [text]      weight ÷ 1.1
 * (text:1.5)  weight × 1.5
 * \( \) \[ \] literal brackets;     BREAK (upper case, a word of its own) starts a new 75-token chunk
 * </pre>
 * A bracket left open or closed without an opening one is an error naming its position (the web UI
 * silently closes them, which hides typos). {@link #parse} returns the text in runs of one weight.
 */
public final class PromptWeights {
    /** What (text) multiplies by. */
    public static final double ROUND = 1.1;
    private static final Pattern TOKENS = Pattern.compile(
            "\\\\[()\\[\\]\\\\]|\\(|\\[|:\\s*([+-]?[.\\d]+)\\s*\\)|\\)|]|\\bBREAK\\b|[^\\\\()\\[\\]:B]+|B|:|\\\\");

    /** A run of text and its weight; a break starts a new chunk before it. */
    public record Segment(String text, double weight, boolean breakBefore) {
    }

    private PromptWeights() {
    }

    /** The prompt's runs of equal weight, in order; "" gives one empty run. */
    public static List<Segment> parse(String prompt) {
        List<StringBuilder> texts = new ArrayList<>();
        List<double[]> weights = new ArrayList<>();
        List<Boolean> breaks = new ArrayList<>();
        Deque<int[]> round = new ArrayDeque<>();    // start index into the runs, position in the prompt
        Deque<int[]> square = new ArrayDeque<>();
        boolean pendingBreak = false;
        Matcher m = TOKENS.matcher(prompt);
        while (m.find()) {
            String t = m.group();
            if (t.length() == 2 && t.charAt(0) == '\\') {
                add(texts, weights, breaks, t.substring(1), pendingBreak);
                pendingBreak = false;
            } else if (t.equals("(")) {
                round.push(new int[] {texts.size(), m.start()});
            } else if (t.equals("[")) {
                square.push(new int[] {texts.size(), m.start()});
            } else if (m.group(1) != null) {
                if (round.isEmpty()) {
                    throw unbalanced(prompt, m.start(), "closes a bracket that was never opened");
                }
                double w;
                try {
                    w = Double.parseDouble(m.group(1));
                } catch (NumberFormatException e) {
                    throw new DiffusionException("prompt: '" + m.group(1) + "' at character " + (m.start() + 1) + " is not a weight");
                }
                multiply(weights, round.pop()[0], w);
            } else if (t.equals(")")) {
                if (round.isEmpty()) {
                    throw unbalanced(prompt, m.start(), "closes a bracket that was never opened");
                }
                multiply(weights, round.pop()[0], ROUND);
            } else if (t.equals("]")) {
                if (square.isEmpty()) {
                    throw unbalanced(prompt, m.start(), "closes a bracket that was never opened");
                }
                multiply(weights, square.pop()[0], 1 / ROUND);
            } else if (t.equals("BREAK")) {
                pendingBreak = true;
            } else {
                add(texts, weights, breaks, t, pendingBreak);
                pendingBreak = false;
            }
        }
        if (!round.isEmpty()) {
            throw unbalanced(prompt, round.peek()[1], "opens a bracket that is never closed");
        }
        if (!square.isEmpty()) {
            throw unbalanced(prompt, square.peek()[1], "opens a bracket that is never closed");
        }
        List<Segment> out = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            Segment last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && !breaks.get(i) && last.weight() == weights.get(i)[0]) {
                out.set(out.size() - 1, new Segment(last.text() + texts.get(i), last.weight(), last.breakBefore()));
            } else {
                out.add(new Segment(texts.get(i).toString(), weights.get(i)[0], breaks.get(i)));
            }
        }
        if (pendingBreak) {
            out.add(new Segment("", 1.0, true));
        }
        return out.isEmpty() ? List.of(new Segment("", 1.0, false)) : out;
    }

    private static void add(List<StringBuilder> texts, List<double[]> weights, List<Boolean> breaks, String text, boolean breakBefore) {
        texts.add(new StringBuilder(text));
        weights.add(new double[] {1.0});
        breaks.add(breakBefore);
    }

    private static void multiply(List<double[]> weights, int from, double factor) {
        for (int i = from; i < weights.size(); i++) {
            weights.get(i)[0] *= factor;
        }
    }

    private static DiffusionException unbalanced(String prompt, int position, String what) {
        int from = Math.max(0, position - 15);
        int to = Math.min(prompt.length(), position + 15);
        return new DiffusionException("prompt: '" + prompt.charAt(position) + "' at character " + (position + 1) + " " + what + " (…"
                + prompt.substring(from, to) + "…); write \\" + prompt.charAt(position) + " for a literal bracket");
    }
}
