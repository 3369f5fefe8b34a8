package dev.diffusion4j.models.sd;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.model.DenoisingNetwork;
import dev.diffusion4j.model.PromptEncoder;
import dev.diffusion4j.models.clip.CLIPTextConfig;
import dev.diffusion4j.models.clip.CLIPTextModel;
import dev.diffusion4j.models.unet.UNet2DConditionModel;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import dev.diffusion4j.text.PromptWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Stable Diffusion's denoising network as a pipeline runs it: a prompt is tokenized by the
 * pipeline's tokenizer and encoded once by its CLIP text encoder (child {@code text_encoder}), in
 * chunks of 75 tokens with the emphasis users write; the
 * U-Net (child {@code unet}) cross-attends to those features at every step. The unconditional
 * branch of guidance is the empty prompt's features, as in diffusers' pipelines.
 */
public final class StableDiffusionNetwork extends DenoisingNetwork implements PromptEncoder {
    private final StableDiffusionConfig config;
    private final CLIPTextModel textEncoder;
    private final UNet2DConditionModel unet;
    /** SDXL's second text encoder (with projection); null for SD 1.x and 2.x. */
    private final CLIPTextModel textEncoder2;
    /** The comma's token id: a long prompt is cut after a comma near the chunk's end. */
    private final int comma;
    private Tensor emptyPrompt;
    /** How far back from a chunk's end a comma may be for the cut to move there (the web UI's default). */
    private static final int COMMA_BACKTRACK = 20;
    /** Longest prompt read, in chunks of 75 tokens. */
    private static final int MAX_CHUNKS = 16;

    public StableDiffusionNetwork(StableDiffusionConfig config, Generator g) {
        this(config, new CLIPTextModel(config.textEncoder(), g), config.isXL() ? new CLIPTextModel(config.textEncoder2(), g) : null,
                new UNet2DConditionModel(config.unet(), g));
    }

    /** The network of already-loaded parts (a Stable Diffusion 1.x / 2.x one: one text encoder). */
    public StableDiffusionNetwork(StableDiffusionConfig config, CLIPTextModel textEncoder, UNet2DConditionModel unet) {
        this(config, textEncoder, null, unet);
    }

    /** The network of already-loaded parts; {@code textEncoder2} is SDXL's second encoder, or null. */
    public StableDiffusionNetwork(StableDiffusionConfig config, CLIPTextModel textEncoder, CLIPTextModel textEncoder2, UNet2DConditionModel unet) {
        this.config = config;
        this.textEncoder = child("text_encoder", textEncoder);
        this.textEncoder2 = textEncoder2 == null ? null : child("text_encoder_2", textEncoder2);
        this.unet = child("unet", unet);
        this.comma = commaId(config.tokenizer());
        int width = config.textEncoder().hiddenSize() + (config.isXL() ? config.textEncoder2().hiddenSize() : 0);
        if (width != config.unet().crossAttentionDim()) {
            throw new DiffusionException("the text encoders' hidden_size (" + width + " in all) is not the U-Net's cross_attention_dim "
                    + config.unet().crossAttentionDim() + ": these parts come from different pipelines");
        }
        if (config.isXL() != (config.unet().textTime() != null) || (config.isXL() && !config.textEncoder2().hasProjection())) {
            throw new DiffusionException("an SDXL U-Net (addition_embed_type text_time) goes with a second text encoder with projection, "
                    + "and only it");
        }
    }

    private static int commaId(ClipTokenizer tokenizer) {
        int[] ids = tokenizer.tokenize(",");
        return ids.length == 1 ? ids[0] : -1;
    }

    @Override
    public StableDiffusionConfig config() {
        return config;
    }

    public CLIPTextModel textEncoder() {
        return textEncoder;
    }

    public UNet2DConditionModel unet() {
        return unet;
    }

    public ClipTokenizer tokenizer() {
        return config.tokenizer();
    }

    /** SDXL's second text encoder; null for SD 1.x and 2.x. */
    public CLIPTextModel textEncoder2() {
        return textEncoder2;
    }

    @Override
    public int contextLength() {
        return config.tokenizer().contextLength();
    }

    /**
     * The prompt and the negative prompt as features [1, 77·n, C] of the same n chunks. Each is read
     * with its emphasis ({@link PromptWeights}) and cut into chunks of 75 tokens — at the last comma
     * when one is within 20 tokens of the end, or at BREAK — each framed by start and end of text,
     * padded, and encoded on its own, as Stable Diffusion's users know from the AUTOMATIC1111 web UI.
     * A weighted chunk's features are scaled token by token and then rescaled to their former mean.
     * The shorter of the two is lengthened by chunks of the empty prompt. A prompt of up to 75 tokens
     * without emphasis is diffusers' {@code encode_prompt}: the text encoder's last hidden state, or
     * with clip skip k the final-normalised state k layers before it. SDXL's is both encoders' states
     * one layer before the last (k + 1 with clip skip), side by side, with the second's pooled
     * projection of the first chunk; without a negative prompt its unconditional branch is zeros
     * ({@code force_zeros_for_empty_prompt}).
     */
    @Override
    public Condition[] encodePrompts(String prompt, String negative, int clipSkip, List<String> warnings) {
        if (clipSkip >= config.textEncoder().numHiddenLayers()) {
            throw new DiffusionException("clip_skip " + clipSkip + " skips every layer of the text encoder, which has "
                    + config.textEncoder().numHiddenLayers());
        }
        List<Chunk> p = chunks(prompt, "prompt");
        List<Chunk> n = chunks(negative == null ? "" : negative, "negative");
        int count = Math.max(p.size(), n.size());
        if (!config.isXL()) {
            return new Condition[] {Condition.ofFeatures(encode(p, count, clipSkip)), Condition.ofFeatures(encode(n, count, clipSkip))};
        }
        Tensor[] positive = encodeXL(p, count, clipSkip);
        if (negative == null && config.zeroEmptyNegative()) {
            // SDXL's force_zeros_for_empty_prompt: no negative prompt means zero features and a zero pooled vector
            try (Scope s = Scope.open()) {
                return new Condition[] {Condition.ofFeatures(positive[0], positive[1]),
                    Condition.ofFeatures(Scope.escape(positive[0].mul(0)), Scope.escape(positive[1].mul(0)))};
            }
        }
        Tensor[] neg = encodeXL(n, count, clipSkip);
        return new Condition[] {Condition.ofFeatures(positive[0], positive[1]), Condition.ofFeatures(neg[0], neg[1])};
    }

    /** One prompt's features, as {@link #encodePrompts} reads it. */
    public Tensor promptFeatures(String prompt, int clipSkip) {
        return encodePrompts(prompt, null, clipSkip, new ArrayList<>())[0].features();
    }

    /** A chunk of up to 75 tokens and a weight per token; {@link #frame} makes a tokenizer's input of it. */
    private record Chunk(int[] tokens, float[] tokenWeights) {
        static final Chunk EMPTY = new Chunk(new int[0], new float[0]);

        boolean weighted() {
            for (float w : tokenWeights) {
                if (w != 1f) {
                    return true;
                }
            }
            return false;
        }
    }

    private List<Chunk> chunks(String text, String field) {
        ClipTokenizer tokenizer = config.tokenizer();
        int body = tokenizer.contextLength() - 2;
        List<Chunk> chunks = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        List<Float> weights = new ArrayList<>();
        int lastComma = -1;
        for (PromptWeights.Segment segment : PromptWeights.parse(text)) {
            if (segment.breakBefore()) {
                chunks.add(chunk(ids, weights));
                lastComma = -1;
            }
            for (int id : tokenizer.tokenize(segment.text())) {
                if (id == comma) {
                    lastComma = ids.size();
                } else if (ids.size() == body && lastComma >= 0 && ids.size() - lastComma <= COMMA_BACKTRACK) {
                    // move the words after the last comma to the next chunk rather than cut one in two
                    List<Integer> movedIds = new ArrayList<>(ids.subList(lastComma + 1, ids.size()));
                    List<Float> movedWeights = new ArrayList<>(weights.subList(lastComma + 1, weights.size()));
                    chunks.add(chunk(ids.subList(0, lastComma + 1), weights.subList(0, lastComma + 1)));
                    ids = movedIds;
                    weights = movedWeights;
                    lastComma = -1;
                }
                if (ids.size() == body) {
                    chunks.add(chunk(ids, weights));
                    ids = new ArrayList<>();
                    weights = new ArrayList<>();
                    lastComma = -1;
                }
                ids.add(id);
                weights.add((float) segment.weight());
            }
        }
        if (!ids.isEmpty() || chunks.isEmpty()) {
            chunks.add(chunk(ids, weights));
        }
        if (chunks.size() > MAX_CHUNKS) {
            throw new DiffusionException("the " + field + " is " + chunks.size() + " chunks of " + body + " tokens long; up to " + MAX_CHUNKS
                    + " are read");
        }
        return chunks;
    }

    private static Chunk chunk(List<Integer> tokens, List<Float> weights) {
        int[] t = new int[tokens.size()];
        float[] w = new float[weights.size()];
        for (int i = 0; i < t.length; i++) {
            t[i] = tokens.get(i);
            w[i] = weights.get(i);
        }
        return new Chunk(t, w);
    }

    /** Start of text, the chunk's tokens, end of text, then {@code tokenizer}'s padding to the context. */
    private static long[] frame(Chunk chunk, ClipTokenizer tokenizer) {
        long[] ids = new long[tokenizer.contextLength()];
        Arrays.fill(ids, tokenizer.padId());
        ids[0] = tokenizer.startId();
        for (int i = 0; i < chunk.tokens().length; i++) {
            ids[i + 1] = chunk.tokens()[i];
        }
        ids[chunk.tokens().length + 1] = tokenizer.endId();
        return ids;
    }

    /** The chunks framed by {@code tokenizer}, lengthened to {@code count} with the empty prompt, as ids [count, L]. */
    private Tensor ids(List<Chunk> chunks, int count, ClipTokenizer tokenizer, CLIPTextConfig encoder) {
        int length = tokenizer.contextLength();
        long[] ids = new long[count * length];
        for (int i = 0; i < count; i++) {
            long[] row = frame(i < chunks.size() ? chunks.get(i) : Chunk.EMPTY, tokenizer);
            for (int j = 0; j < length; j++) {
                if (row[j] >= encoder.vocabSize()) {
                    throw new DiffusionException("token id " + row[j] + " is beyond the text encoder's " + encoder.vocabSize()
                            + " token embeddings: the tokenizer and the text encoder do not belong together");
                }
            }
            System.arraycopy(row, 0, ids, i * length, length);
        }
        return Tensor.of(ids, count, length);
    }

    /** The chunks (lengthened to {@code count} with the empty prompt's) encoded and joined: [1, 77·count, C], outliving any scope. */
    private Tensor encode(List<Chunk> chunks, int count, int clipSkip) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            CLIPTextModel.Output out = textEncoder.forward(ids(chunks, count, config.tokenizer(), config.textEncoder()));
            Tensor z = clipSkip == 0 ? out.lastHiddenState() : textEncoder.finalLayerNorm(out.fromEnd(clipSkip));   // [n, L, C]
            return Scope.escape(joined(z, chunks, count));
        }
    }

    /** Each chunk's features weighted, joined along the tokens: [1, L·count, C]. */
    private static Tensor joined(Tensor z, List<Chunk> chunks, int count) {
        List<Tensor> parts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            parts.add(weighted(z.narrow(0, i, 1), i < chunks.size() ? chunks.get(i) : Chunk.EMPTY));
        }
        return parts.size() == 1 ? parts.get(0) : Tensor.cat(parts, 1);
    }

    /**
     * SDXL's reading of chunks: each encoder's state one layer before its last (clip skip k: k + 1 before), not
     * final-normalised, the two concatenated channel-wise, [1, 77·count, C₁ + C₂]; and the pooled vector, the
     * second encoder's projected end-of-text feature of the first chunk, [1, P]. Both outlive any scope.
     */
    private Tensor[] encodeXL(List<Chunk> chunks, int count, int clipSkip) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            CLIPTextModel.Output a = textEncoder.forward(ids(chunks, count, config.tokenizer(), config.textEncoder()));
            CLIPTextModel.Output b = textEncoder2.forward(ids(chunks, count, config.tokenizer2(), config.textEncoder2()));
            Tensor z = Tensor.cat(List.of(a.fromEnd(clipSkip + 1), b.fromEnd(clipSkip + 1)), 2);
            return new Tensor[] {Scope.escape(joined(z, chunks, count)), Scope.escape(b.textEmbeds().narrow(0, 0, 1))};
        }
    }

    /** A chunk's features [1, L, C] with its tokens' weights applied and brought back to their mean; as they are when unweighted. */
    private static Tensor weighted(Tensor z, Chunk chunk) {
        if (!chunk.weighted()) {
            return z;
        }
        float[] w = new float[(int) z.size(1)];
        Arrays.fill(w, 1f);
        System.arraycopy(chunk.tokenWeights(), 0, w, 1, chunk.tokenWeights().length);
        Tensor mean = z.mean();
        Tensor scaled = z.mul(Tensor.of(w, 1, w.length, 1).to(z.dtype()));
        return scaled.mul(mean.div(scaled.mean()));
    }

    @Override
    public Tensor nullCondition(long batch) {
        if (emptyPrompt == null) {
            emptyPrompt = encode(List.of(Chunk.EMPTY), 1, 0);
        }
        return emptyPrompt.expand(batch, emptyPrompt.size(1), emptyPrompt.size(2));
    }

    @Override
    public Tensor predict(Tensor x, Tensor t) {
        return predictWithVariance(x, t, null).prediction();
    }

    /** {@code condition}: encoded prompts [B, L, C] (or int64 token ids [B, L], encoded here); null for the empty prompt. */
    @Override
    public Output predictWithVariance(Tensor x, Tensor t, Tensor condition) {
        if (config.isXL()) {
            if (condition == null || condition.dim() != 2) {
                throw new DiffusionException("SDXL's U-Net takes prompts encoded with their pooled vector; give a prompt");
            }
            // the batch packs each sample's features [L, C] flattened, then its pooled vector [P]
            long b = condition.size(0);
            long c = config.unet().crossAttentionDim();
            long pooled = config.textEncoder2().projectionDim();
            long tokens = (condition.size(1) - pooled) / c;
            Tensor context = condition.narrow(1, 0, tokens * c).reshape(b, tokens, c);
            Tensor textEmbeds = condition.narrow(1, tokens * c, pooled);
            double h = (double) x.size(2) * config.latentFactor();
            double w = (double) x.size(3) * config.latentFactor();
            // original size, crop top-left, target size: the image as generated, uncropped (diffusers' defaults)
            Tensor timeIds = Tensor.of(new double[] {h, w, 0, 0, h, w}, 1, 6).to(x.dtype());
            return new Output(unet.forward(x, t, context, textEmbeds.to(x.dtype()), timeIds), null);
        }
        Tensor context = condition == null ? nullCondition(x.size(0))
                : condition.dtype() == DType.INT64 ? textEncoder.forward(condition).lastHiddenState() : condition;
        return new Output(unet.forward(x, t, context), null);
    }

    @Override
    public Output predictWithVariance(Tensor x, Tensor t) {
        return predictWithVariance(x, t, null);
    }
}
