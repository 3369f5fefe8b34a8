package dev.diffusion4j.text;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * CLIP's byte-level byte-pair-encoding tokenizer (Radford et al. 2021), with CLIP's vocabulary of
 * 49,408 ids, so that "a photo of a cat" is 49406 320 1125 539 320 2368 49407.
 *
 * <ol>
 * <li>Clean: HTML entities unescaped (twice, as CLIP does), runs of whitespace collapsed, lower case.
 *     CLIP also repairs mis-decoded Unicode with ftfy first; that step is left out.</li>
 * <li>Split into words, contractions, single digits and runs of punctuation.</li>
 * <li>Map each word's UTF-8 bytes to printable characters (256 of them: the printable Latin-1
 *     bytes stand for themselves, the others for U+0100 onwards), mark the last with {@code </w>},
 *     and apply the ranked merges, lowest rank first, until none applies.</li>
 * <li>Look the pieces up: ids 0–255 single characters, 256–511 the same with {@code </w>}, then one
 *     id per merge, then start- and end-of-text.</li>
 * </ol>
 */
public final class ClipTokenizer {
    /** CLIP's context length. */
    public static final int CONTEXT_LENGTH = 77;
    public static final int START_OF_TEXT = 49406;
    public static final int END_OF_TEXT = 49407;
    public static final int VOCAB_SIZE = 49408;

    private static final String MERGES = "clip-bpe-merges.txt.gz";
    private static final int MERGE_COUNT = 48_894;
    private static final String END_OF_WORD = "</w>";
    private static final Pattern WORDS = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final Pattern ENTITY = Pattern.compile("&(#[0-9]+|#[xX][0-9a-fA-F]+|amp|lt|gt|quot|apos|nbsp);");

    private static volatile ClipTokenizer shared;

    private final char[] byteToChar = new char[256];
    private final Map<Character, Integer> charToByte = new HashMap<>();
    private final Map<String, Integer> ids = new HashMap<>(2 * VOCAB_SIZE);
    private final String[] pieces = new String[VOCAB_SIZE];
    private final Map<String, Integer> mergeRanks = new HashMap<>(2 * MERGE_COUNT);
    private final Map<String, String[]> cache = new ConcurrentHashMap<>();

    /** The tokenized text: {@link #CONTEXT_LENGTH} ids (start, tokens, end, zero padding) and whether it was cut. */
    public record Encoding(int[] ids, int tokens, boolean truncated) {
    }

    private ClipTokenizer(List<String[]> merges) {
        List<Integer> printable = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            printable.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            printable.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            printable.add(b);
        }
        List<Integer> order = new ArrayList<>(printable);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            byteToChar[b] = printable.contains(b) ? (char) b : (char) (256 + extra++);
            if (!printable.contains(b)) {
                order.add(b);
            }
        }
        List<String> vocab = new ArrayList<>(VOCAB_SIZE);
        for (int b : order) {
            vocab.add(String.valueOf(byteToChar[b]));
            charToByte.put(byteToChar[b], b);
        }
        for (int i = 0; i < 256; i++) {
            vocab.add(vocab.get(i) + END_OF_WORD);
        }
        for (int r = 0; r < merges.size(); r++) {
            String[] m = merges.get(r);
            vocab.add(m[0] + m[1]);
            mergeRanks.put(pairKey(m[0], m[1]), r);
        }
        vocab.add("<|startoftext|>");
        vocab.add("<|endoftext|>");
        for (int i = 0; i < vocab.size(); i++) {
            ids.put(vocab.get(i), i);
            pieces[i] = vocab.get(i);
        }
        cache.put("<|startoftext|>", new String[] {"<|startoftext|>"});
        cache.put("<|endoftext|>", new String[] {"<|endoftext|>"});
    }

    /** The tokenizer with CLIP's merges (read once per process from the project's resources). */
    public static ClipTokenizer clip() {
        ClipTokenizer t = shared;
        if (t == null) {
            synchronized (ClipTokenizer.class) {
                if (shared == null) {
                    shared = new ClipTokenizer(readMerges());
                }
                t = shared;
            }
        }
        return t;
    }

    private static List<String[]> readMerges() {
        try (InputStream raw = ClipTokenizer.class.getResourceAsStream(MERGES)) {
            if (raw == null) {
                throw new DiffusionException("the CLIP merges resource " + MERGES + " is missing from the build");
            }
            List<String[]> merges = new ArrayList<>(MERGE_COUNT);
            try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    String[] pair = line.split(" ");
                    if (pair.length != 2) {
                        throw new DiffusionException("malformed CLIP merge at line " + (merges.size() + 1) + ": '" + line + "'");
                    }
                    merges.add(pair);
                }
            }
            if (merges.size() != MERGE_COUNT) {
                throw new DiffusionException("expected " + MERGE_COUNT + " CLIP merges, found " + merges.size());
            }
            return merges;
        } catch (IOException e) {
            throw new DiffusionException("cannot read the CLIP merges: " + e.getMessage(), e);
        }
    }

    /** The token ids of {@code text}, without start/end markers or padding. */
    public int[] tokenize(String text) {
        List<Integer> out = new ArrayList<>();
        Matcher m = WORDS.matcher(clean(text));
        while (m.find()) {
            for (String piece : bpe(toByteChars(m.group()))) {
                out.add(ids.get(piece));
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * {@code text} as CLIP's model input: start-of-text, the tokens, end-of-text, zeros up to
     * {@code contextLength}. Longer texts are cut to fit, keeping end-of-text last, and flagged.
     */
    public Encoding encode(String text, int contextLength) {
        if (contextLength < 2) {
            throw new DiffusionException("context length must be at least 2 (start and end of text), got " + contextLength);
        }
        int[] tokens = tokenize(text);
        int kept = Math.min(tokens.length, contextLength - 2);
        int[] out = new int[contextLength];
        out[0] = START_OF_TEXT;
        System.arraycopy(tokens, 0, out, 1, kept);
        out[kept + 1] = END_OF_TEXT;
        return new Encoding(out, kept + 2, kept < tokens.length);
    }

    /** {@link #encode(String, int)} at CLIP's context length of 77. */
    public Encoding encode(String text) {
        return encode(text, CONTEXT_LENGTH);
    }

    /** Token ids int64 [texts, contextLength] of {@code texts}, each as {@link #encode(String, int)} makes it. */
    public Tensor ids(List<String> texts, int contextLength) {
        long[] out = new long[texts.size() * contextLength];
        for (int i = 0; i < texts.size(); i++) {
            int[] e = encode(texts.get(i), contextLength).ids();
            for (int j = 0; j < contextLength; j++) {
                out[i * contextLength + j] = e[j];
            }
        }
        return Tensor.of(out, texts.size(), contextLength);
    }

    /** The text of an encoding (its padding dropped). */
    public String decode(Encoding e) {
        return decode(Arrays.copyOf(e.ids(), e.tokens()));
    }

    /** The text of token ids (start and end markers dropped; words separated by single spaces). */
    public String decode(int[] tokenIds) {
        StringBuilder chars = new StringBuilder();
        for (int id : tokenIds) {
            if (id == START_OF_TEXT || id == END_OF_TEXT) {
                continue;
            }
            if (id < 0 || id >= VOCAB_SIZE) {
                throw new DiffusionException("token id " + id + " is outside CLIP's vocabulary of " + VOCAB_SIZE);
            }
            chars.append(pieces[id]);
        }
        String joined = chars.toString().replace(END_OF_WORD, " ");
        byte[] bytes = new byte[joined.length()];
        int n = 0;
        for (char c : joined.toCharArray()) {
            bytes[n++] = (byte) (c == ' ' ? ' ' : charToByte.get(c));
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8).strip();
    }

    /** Vocabulary size, 49,408. */
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    static String clean(String text) {
        String s = unescape(unescape(text)).strip();
        return WHITESPACE.matcher(s).replaceAll(" ").strip().toLowerCase(java.util.Locale.ROOT);
    }

    /** HTML character references: numeric ones and the five of XML plus &amp;nbsp;. */
    private static String unescape(String s) {
        Matcher m = ENTITY.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String e = m.group(1);
            String r = switch (e) {
                case "amp" -> "&";
                case "lt" -> "<";
                case "gt" -> ">";
                case "quot" -> "\"";
                case "apos" -> "'";
                case "nbsp" -> "\u00A0";
                default -> {
                    int cp = e.charAt(1) == 'x' || e.charAt(1) == 'X' ? Integer.parseInt(e.substring(2), 16) : Integer.parseInt(e.substring(1));
                    yield Character.isValidCodePoint(cp) ? new String(Character.toChars(cp)) : m.group();
                }
            };
            m.appendReplacement(out, Matcher.quoteReplacement(r));
        }
        m.appendTail(out);
        return out.toString();
    }

    private String toByteChars(String word) {
        byte[] utf8 = word.getBytes(StandardCharsets.UTF_8);
        char[] c = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            c[i] = byteToChar[utf8[i] & 0xFF];
        }
        return new String(c);
    }

    /** The word's pieces after applying the merges in rank order (the last piece carries {@code </w>}). */
    private String[] bpe(String token) {
        String[] cached = cache.get(token);
        if (cached != null) {
            return cached;
        }
        List<String> word = new ArrayList<>();
        for (int i = 0; i < token.length() - 1; i++) {
            word.add(String.valueOf(token.charAt(i)));
        }
        word.add(token.charAt(token.length() - 1) + END_OF_WORD);
        while (word.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i < word.size() - 1; i++) {
                Integer r = mergeRanks.get(pairKey(word.get(i), word.get(i + 1)));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            String first = word.get(best);
            String second = word.get(best + 1);
            // merge every occurrence of (first, second), left to right, as CLIP does
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); i++) {
                if (i < word.size() - 1 && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(word.get(i));
                }
            }
            word = merged;
        }
        String[] result = word.toArray(new String[0]);
        cache.put(token, result);
        return result;
    }

    private static String pairKey(String a, String b) {
        return a + '\u0000' + b;
    }

    @Override
    public String toString() {
        return "ClipTokenizer[" + VOCAB_SIZE + " ids, context " + CONTEXT_LENGTH + "]";
    }
}
