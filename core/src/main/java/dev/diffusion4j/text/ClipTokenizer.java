package dev.diffusion4j.text;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
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
 * CLIP's byte-level byte-pair-encoding tokenizer (Radford et al. 2021). {@link #clip()} has CLIP's
 * vocabulary of 49,408 ids, so that "a photo of a cat" is 49406 320 1125 539 320 2368 49407;
 * {@link #load} reads any CLIP vocabulary from a pipeline's {@code tokenizer/} folder as
 * transformers' {@code CLIPTokenizer} does.
 *
 * <ol>
 * <li>Clean ({@link Cleaning}), lower case.</li>
 * <li>Split into words, contractions, single digits and runs of punctuation.</li>
 * <li>Map each word's UTF-8 bytes to printable characters (256 of them: the printable Latin-1
 *     bytes stand for themselves, the others for U+0100 onwards), mark the last with {@code </w>},
 *     and apply the ranked merges, lowest rank first, until none applies.</li>
 * <li>Look the pieces up in the vocabulary (CLIP's: ids 0–255 single characters, 256–511 the same
 *     with {@code </w>}, then one id per merge, then start- and end-of-text); a piece it lacks is
 *     the unknown token.</li>
 * </ol>
 */
public final class ClipTokenizer {
    /** CLIP's context length. */
    public static final int CONTEXT_LENGTH = 77;
    public static final int START_OF_TEXT = 49406;
    public static final int END_OF_TEXT = 49407;
    public static final int VOCAB_SIZE = 49408;
    public static final String START_TOKEN = "<|startoftext|>";
    public static final String END_TOKEN = "<|endoftext|>";

    private static final String MERGES = "clip-bpe-merges.txt.gz";
    private static final int MERGE_COUNT = 48_894;
    private static final String END_OF_WORD = "</w>";
    private static final Pattern WORDS = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final Pattern ENTITY = Pattern.compile("&(#[0-9]+|#[xX][0-9a-fA-F]+|amp|lt|gt|quot|apos|nbsp);");

    private static volatile ClipTokenizer shared;

    /** How text is cleaned before it is split into words. */
    public enum Cleaning {
        /**
         * CLIP's own: HTML entities unescaped (twice), runs of whitespace collapsed. (CLIP also repairs
         * mis-decoded Unicode with ftfy first; that step is left out.)
         */
        CLIP,
        /**
         * transformers' {@code CLIPTokenizer} where ftfy is not installed (diffusers' usual setting):
         * control characters dropped, every CJK ideograph made a word of its own, NFC normalisation,
         * whitespace collapsed; entities stay as written.
         */
        TRANSFORMERS
    }

    private final char[] byteToChar = new char[256];
    private final Map<Character, Integer> charToByte = new HashMap<>();
    private final Map<String, Integer> ids;
    private final String[] pieces;
    private final Map<String, Integer> mergeRanks;
    private final List<String[]> merges;
    /** Tokens matched in the raw text before cleaning and kept whole (transformers' added tokens), longest first. */
    private final List<String> specials;
    private final Map<String, String[]> cache = new ConcurrentHashMap<>();
    private final Cleaning cleaning;
    private final int startId;
    private final int endId;
    private final int padId;
    private final int unknownId;
    private final int contextLength;

    /** The tokenized text: {@link #contextLength()} ids (start, tokens, end, padding) and whether it was cut. */
    public record Encoding(int[] ids, int tokens, boolean truncated) {
    }

    /**
     * @param vocab  piece → id, holding {@value #START_TOKEN} and {@value #END_TOKEN}
     * @param merges the ranked merges, lowest rank first
     * @param pad    the padding piece ({@value #END_TOKEN} for SD 1.x's tokenizer, "!" for SD 2.x's), or
     *               null to pad with id 0
     */
    private ClipTokenizer(Map<String, Integer> vocab, List<String[]> merges, Cleaning cleaning, String pad, String unknown,
                          List<String> specials, int contextLength, String source) {
        int printable = 0;
        for (int b = 0; b < 256; b++) {
            if (isPrintable(b)) {
                byteToChar[b] = (char) b;
            } else {
                byteToChar[b] = (char) (256 + printable++);
            }
            charToByte.put(byteToChar[b], b);
        }
        this.ids = Map.copyOf(vocab);
        int size = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        this.pieces = new String[size];
        vocab.forEach((piece, id) -> {
            if (id < 0) {
                throw new DiffusionException(source + ": the vocabulary gives '" + piece + "' the negative id " + id);
            }
            pieces[id] = piece;
        });
        this.merges = List.copyOf(merges);
        this.mergeRanks = new HashMap<>(2 * merges.size());
        for (int r = 0; r < merges.size(); r++) {
            mergeRanks.put(pairKey(merges.get(r)[0], merges.get(r)[1]), r);   // a repeated pair keeps its last rank, as a dict built from the list does
        }
        this.cleaning = cleaning;
        this.startId = id(START_TOKEN, source);
        this.endId = id(END_TOKEN, source);
        this.padId = pad == null ? 0 : id(pad, source);
        this.unknownId = id(unknown, source);
        this.contextLength = contextLength;
        for (String special : specials) {
            id(special, source);
        }
        this.specials = specials.stream().distinct().sorted(java.util.Comparator.comparingInt(String::length).reversed()).toList();
        cache.put(START_TOKEN, new String[] {START_TOKEN});
        cache.put(END_TOKEN, new String[] {END_TOKEN});
    }

    /** The printable bytes that stand for themselves: '!' … '~', '¡' … '¬', '®' … 'ÿ'. */
    private static boolean isPrintable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    private int id(String piece, String source) {
        Integer id = ids.get(piece);
        if (id == null) {
            throw new DiffusionException(source + ": the vocabulary has no '" + piece + "' token");
        }
        return id;
    }

    /** The tokenizer with CLIP's vocabulary and merges (read once per process from the project's resources), padding with 0. */
    public static ClipTokenizer clip() {
        ClipTokenizer t = shared;
        if (t == null) {
            synchronized (ClipTokenizer.class) {
                if (shared == null) {
                    List<String[]> merges = readMerges();
                    shared = new ClipTokenizer(clipVocabulary(merges), merges, Cleaning.CLIP, null, END_TOKEN, List.of(), CONTEXT_LENGTH,
                            MERGES);
                }
                t = shared;
            }
        }
        return t;
    }

    /**
     * CLIP's vocabulary read as transformers' {@code CLIPTokenizer} reads a Stable Diffusion
     * pipeline's tokenizer folder ({@link Cleaning#TRANSFORMERS}), padding with {@code pad}: SD 1.x's
     * "&lt;|endoftext|&gt;" or SD 2.x's "!". For single-file checkpoints, which carry no tokenizer.
     */
    public static ClipTokenizer stableDiffusion(String pad) {
        List<String[]> merges = readMerges();
        return new ClipTokenizer(clipVocabulary(merges), merges, Cleaning.TRANSFORMERS, pad, END_TOKEN, List.of(START_TOKEN, END_TOKEN, pad),
                CONTEXT_LENGTH, MERGES);
    }

    /** CLIP's vocabulary: the 256 byte characters (printable ones first), the same with {@code </w>}, one per merge, the two markers. */
    private static Map<String, Integer> clipVocabulary(List<String[]> merges) {
        List<String> vocab = new ArrayList<>(VOCAB_SIZE);
        List<Integer> order = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            if (isPrintable(b)) {
                order.add(b);
            }
        }
        int extra = 0;
        char[] chars = new char[256];
        for (int b = 0; b < 256; b++) {
            chars[b] = isPrintable(b) ? (char) b : (char) (256 + extra++);
            if (!isPrintable(b)) {
                order.add(b);
            }
        }
        for (int b : order) {
            vocab.add(String.valueOf(chars[b]));
        }
        for (int i = 0; i < 256; i++) {
            vocab.add(vocab.get(i) + END_OF_WORD);
        }
        for (String[] m : merges) {
            vocab.add(m[0] + m[1]);
        }
        vocab.add(START_TOKEN);
        vocab.add(END_TOKEN);
        Map<String, Integer> ids = new HashMap<>(2 * vocab.size());
        for (int i = 0; i < vocab.size(); i++) {
            ids.put(vocab.get(i), i);
        }
        return ids;
    }

    /**
     * The tokenizer of a pipeline's {@code tokenizer/} folder, as transformers' {@code CLIPTokenizer}
     * reads it: {@code vocab.json} (piece → id), {@code merges.txt} (one ranked pair per line after a
     * version line), and from {@code tokenizer_config.json} / {@code special_tokens_map.json} the
     * padding and unknown tokens and {@code model_max_length}. Text is cleaned as transformers does
     * without ftfy ({@link Cleaning#TRANSFORMERS}), and the special tokens (start, end, padding, unknown
     * and any other the config adds) are matched in the raw text first and kept whole, as transformers'
     * added tokens are: with SD 2.x's padding token "!", "wow!!!" ends in three "!" tokens.
     */
    public static ClipTokenizer load(Path folder) {
        Path vocabFile = folder.resolve("vocab.json");
        Path mergesFile = folder.resolve("merges.txt");
        for (Path p : List.of(vocabFile, mergesFile)) {
            if (!Files.isRegularFile(p)) {
                throw new DiffusionException(folder + " has no " + p.getFileName() + ": a CLIP tokenizer folder holds vocab.json and merges.txt");
            }
        }
        Map<String, Integer> vocab = new HashMap<>();
        Json.readMap(vocabFile).forEach((piece, id) -> {
            if (!(id instanceof Number n) || n.doubleValue() != n.intValue()) {
                throw new DiffusionException(vocabFile + ": the id of '" + piece + "' is not a whole number: " + id);
            }
            vocab.put(piece, n.intValue());
        });
        List<String[]> merges = new ArrayList<>();
        try {
            List<String> lines = Files.readAllLines(mergesFile, StandardCharsets.UTF_8);
            // transformers skips the first line (the "#version" header) and reads at most CLIP's number of merges
            for (int i = 1; i < lines.size() && merges.size() < MERGE_COUNT; i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty()) {
                    continue;
                }
                String[] pair = line.split(" ");
                if (pair.length != 2) {
                    throw new DiffusionException(mergesFile + ": line " + (i + 1) + " is not a pair of pieces: '" + line + "'");
                }
                merges.add(pair);
            }
        } catch (IOException e) {
            throw new DiffusionException("could not read " + mergesFile + ": " + e.getMessage(), e);
        }
        Map<String, Object> config = new HashMap<>();
        for (String name : List.of("special_tokens_map.json", "tokenizer_config.json")) {
            Path p = folder.resolve(name);
            if (Files.isRegularFile(p)) {
                config.putAll(Json.readMap(p));
            }
        }
        String pad = tokenName(config.getOrDefault("pad_token", END_TOKEN), "pad_token", folder);
        String unknown = tokenName(config.getOrDefault("unk_token", END_TOKEN), "unk_token", folder);
        List<String> specials = new ArrayList<>(List.of(START_TOKEN, END_TOKEN, pad, unknown));
        if (config.get("added_tokens_decoder") instanceof Map<?, ?> added) {
            for (Object token : added.values()) {
                specials.add(tokenName(token, "added_tokens_decoder", folder));
            }
        }
        Object max = config.get("model_max_length");
        int context = max instanceof Number n && n.doubleValue() >= 2 && n.doubleValue() <= 4096 ? n.intValue() : CONTEXT_LENGTH;
        return new ClipTokenizer(vocab, merges, Cleaning.TRANSFORMERS, pad, unknown, specials, context, folder.toString());
    }

    /**
     * Writes this tokenizer as a {@code tokenizer/} folder transformers' {@code CLIPTokenizer} reads:
     * vocab.json, merges.txt and a tokenizer_config.json naming the padding token and the context.
     */
    public void save(Path folder) {
        try {
            Files.createDirectories(folder);
            Map<String, Object> vocab = new java.util.TreeMap<>();
            ids.forEach(vocab::put);
            Json.write(folder.resolve("vocab.json"), vocab);
            List<String> lines = new ArrayList<>(merges.size() + 1);
            lines.add("#version: 0.2");
            merges.forEach(m -> lines.add(m[0] + " " + m[1]));
            Files.write(folder.resolve("merges.txt"), lines, StandardCharsets.UTF_8);
            Map<String, Object> config = new java.util.LinkedHashMap<>();
            config.put("tokenizer_class", "CLIPTokenizer");
            config.put("model_max_length", contextLength);
            config.put("bos_token", START_TOKEN);
            config.put("eos_token", END_TOKEN);
            config.put("unk_token", pieces[unknownId]);
            config.put("pad_token", pieces[padId]);
            Json.write(folder.resolve("tokenizer_config.json"), config);
        } catch (IOException e) {
            throw new DiffusionException("could not write the tokenizer to " + folder + ": " + e.getMessage(), e);
        }
    }

    /** A special token as transformers writes it: a string, or an object with its {@code content}. */
    private static String tokenName(Object v, String key, Path folder) {
        if (v instanceof String t) {
            return t;
        }
        if (v instanceof Map<?, ?> m && m.get("content") instanceof String t) {
            return t;
        }
        throw new DiffusionException(folder + ": " + key + " is neither a token nor {\"content\": token}: " + v);
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
        int from = 0;
        while (from <= text.length()) {
            // the earliest special token, the longest where several start there
            int at = text.length();
            String special = null;
            for (String t : specials) {
                int i = text.indexOf(t, from);
                if (i >= 0 && i < at) {
                    at = i;
                    special = t;
                }
            }
            tokenizeText(text.substring(from, at), out);
            if (special == null) {
                break;
            }
            out.add(ids.get(special));
            from = at + special.length();
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private void tokenizeText(String text, List<Integer> out) {
        Matcher m = WORDS.matcher(cleaning == Cleaning.CLIP ? clean(text) : cleanAsTransformers(text));
        while (m.find()) {
            for (String piece : bpe(toByteChars(m.group()))) {
                out.add(ids.getOrDefault(piece, unknownId));
            }
        }
    }

    /**
     * {@code text} as CLIP's model input: start-of-text, the tokens, end-of-text, padding up to
     * {@code contextLength}. Longer texts are cut to fit, keeping end-of-text last, and flagged.
     */
    public Encoding encode(String text, int contextLength) {
        if (contextLength < 2) {
            throw new DiffusionException("context length must be at least 2 (start and end of text), got " + contextLength);
        }
        int[] tokens = tokenize(text);
        int kept = Math.min(tokens.length, contextLength - 2);
        int[] out = new int[contextLength];
        Arrays.fill(out, padId);
        out[0] = startId;
        System.arraycopy(tokens, 0, out, 1, kept);
        out[kept + 1] = endId;
        return new Encoding(out, kept + 2, kept < tokens.length);
    }

    /** {@link #encode(String, int)} at this tokenizer's context length ({@code model_max_length}, 77 for CLIP). */
    public Encoding encode(String text) {
        return encode(text, contextLength);
    }

    /** Tokens per encoding: the text encoder's context. */
    public int contextLength() {
        return contextLength;
    }

    /** The start-of-text id. */
    public int startId() {
        return startId;
    }

    /** The end-of-text id. */
    public int endId() {
        return endId;
    }

    /** The id padding fills an encoding with. */
    public int padId() {
        return padId;
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
            if (id == startId || id == endId) {
                continue;
            }
            if (id < 0 || id >= pieces.length || pieces[id] == null) {
                throw new DiffusionException("token id " + id + " is not in the vocabulary of " + pieces.length + " ids");
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

    /** Vocabulary size (49,408 for CLIP's): one more than the largest id. */
    public int vocabSize() {
        return pieces.length;
    }

    static String clean(String text) {
        String s = unescape(unescape(text)).strip();
        return WHITESPACE.matcher(s).replaceAll(" ").strip().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * transformers' cleaning without ftfy (its BasicTokenizer, accents and punctuation kept): NUL, U+FFFD
     * and control characters dropped (tab and newlines count as whitespace), spaces around every CJK
     * ideograph, NFC, whitespace runs made one space, lower case.
     */
    static String cleanAsTransformers(String text) {
        StringBuilder b = new StringBuilder(text.length() + 8);
        text.codePoints().forEach(cp -> {
            int type = Character.getType(cp);
            boolean whitespace = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || type == Character.SPACE_SEPARATOR;
            if (whitespace) {
                b.append(' ');
            } else if (cp == 0 || cp == 0xFFFD || isOtherCategory(type)) {
                return;
            } else if (isCjkIdeograph(cp)) {
                b.append(' ').appendCodePoint(cp).append(' ');
            } else {
                b.appendCodePoint(cp);
            }
        });
        String normal = Normalizer.normalize(b.toString(), Normalizer.Form.NFC);
        return WHITESPACE.matcher(normal).replaceAll(" ").strip().toLowerCase(java.util.Locale.ROOT);
    }

    /** Unicode's "C" categories: control, format, surrogate, private use, unassigned. */
    private static boolean isOtherCategory(int type) {
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE || type == Character.PRIVATE_USE
                || type == Character.UNASSIGNED;
    }

    /** The CJK ideograph blocks BERT's basic tokenizer splits apart. */
    private static boolean isCjkIdeograph(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
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
        return "ClipTokenizer[" + pieces.length + " ids, context " + contextLength + "]";
    }
}
