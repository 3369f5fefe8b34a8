package dev.diffusion4j.models.sd;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.model.DenoisingNetwork;
import dev.diffusion4j.model.PromptEncoder;
import dev.diffusion4j.models.clip.CLIPTextModel;
import dev.diffusion4j.models.unet.UNet2DConditionModel;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.tensor.Generator;
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
    /** The comma's token id: a long prompt is cut after a comma near the chunk's end. */
    private final int comma;
    private Tensor emptyPrompt;
    /** How far back from a chunk's end a comma may be for the cut to move there (the web UI's default). */
    private static final int COMMA_BACKTRACK = 20;
    /** Longest prompt read, in chunks of 75 tokens. */
    private static final int MAX_CHUNKS = 16;

    public StableDiffusionNetwork(StableDiffusionConfig config, Generator g) {
        this.config = config;
        this.textEncoder = child("text_encoder", new CLIPTextModel(config.textEncoder(), g));
        this.unet = child("unet", new UNet2DConditionModel(config.unet(), g));
        this.comma = commaId(config.tokenizer());
        if (config.textEncoder().hiddenSize() != config.unet().crossAttentionDim()) {
            throw new DiffusionException("the text encoder's hidden_size " + config.textEncoder().hiddenSize() + " is not the U-Net's "
                    + "cross_attention_dim " + config.unet().crossAttentionDim() + ": these parts come from different pipelines");
        }
    }

    /** The network of already-loaded parts. */
    public StableDiffusionNetwork(StableDiffusionConfig config, CLIPTextModel textEncoder, UNet2DConditionModel unet) {
        this.config = config;
        this.textEncoder = child("text_encoder", textEncoder);
        this.unet = child("unet", unet);
        this.comma = commaId(config.tokenizer());
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
     * with clip skip k the final-normalised state k layers before it.
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
        return new Condition[] {Condition.ofFeatures(encode(p, count, clipSkip)), Condition.ofFeatures(encode(n, count, clipSkip))};
    }

    /** One prompt's features, as {@link #encodePrompts} reads it. */
    public Tensor promptFeatures(String prompt, int clipSkip) {
        return encodePrompts(prompt, null, clipSkip, new ArrayList<>())[0].features();
    }

    /** A chunk as the text encoder reads it: start, tokens, end, padding; and a weight per position. */
    private record Chunk(int[] ids, float[] weights) {
        boolean weighted() {
            for (float w : weights) {
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
                chunks.add(frame(ids, weights));
                lastComma = -1;
            }
            for (int id : tokenizer.tokenize(segment.text())) {
                if (id == comma) {
                    lastComma = ids.size();
                } else if (ids.size() == body && lastComma >= 0 && ids.size() - lastComma <= COMMA_BACKTRACK) {
                    // move the words after the last comma to the next chunk rather than cut one in two
                    List<Integer> movedIds = new ArrayList<>(ids.subList(lastComma + 1, ids.size()));
                    List<Float> movedWeights = new ArrayList<>(weights.subList(lastComma + 1, weights.size()));
                    chunks.add(frame(ids.subList(0, lastComma + 1), weights.subList(0, lastComma + 1)));
                    ids = movedIds;
                    weights = movedWeights;
                    lastComma = -1;
                }
                if (ids.size() == body) {
                    chunks.add(frame(ids, weights));
                    ids = new ArrayList<>();
                    weights = new ArrayList<>();
                    lastComma = -1;
                }
                ids.add(id);
                weights.add((float) segment.weight());
            }
        }
        if (!ids.isEmpty() || chunks.isEmpty()) {
            chunks.add(frame(ids, weights));
        }
        if (chunks.size() > MAX_CHUNKS) {
            throw new DiffusionException("the " + field + " is " + chunks.size() + " chunks of " + body + " tokens long; up to " + MAX_CHUNKS
                    + " are read");
        }
        return chunks;
    }

    /** Start of text, the tokens, end of text, padding to the context; weight 1 on the markers and padding. */
    private Chunk frame(List<Integer> tokens, List<Float> tokenWeights) {
        ClipTokenizer tokenizer = config.tokenizer();
        int[] ids = new int[tokenizer.contextLength()];
        float[] w = new float[ids.length];
        Arrays.fill(ids, tokenizer.padId());
        Arrays.fill(w, 1f);
        ids[0] = tokenizer.startId();
        for (int i = 0; i < tokens.size(); i++) {
            ids[i + 1] = tokens.get(i);
            w[i + 1] = tokenWeights.get(i);
        }
        ids[tokens.size() + 1] = tokenizer.endId();
        return new Chunk(ids, w);
    }

    /** The chunks (padded to {@code count} with the empty prompt's) encoded and joined: [1, 77·count, C], outliving any scope. */
    private Tensor encode(List<Chunk> chunks, int count, int clipSkip) {
        List<Chunk> all = new ArrayList<>(chunks);
        while (all.size() < count) {
            all.add(frame(List.of(), List.of()));
        }
        int length = config.tokenizer().contextLength();
        long[] ids = new long[count * length];
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < length; j++) {
                ids[i * length + j] = all.get(i).ids()[j];
                if (ids[i * length + j] >= config.textEncoder().vocabSize()) {
                    throw new DiffusionException("token id " + ids[i * length + j] + " is beyond the text encoder's "
                            + config.textEncoder().vocabSize() + " token embeddings: the tokenizer and the text encoder do not belong together");
                }
            }
        }
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            CLIPTextModel.Output out = textEncoder.forward(Tensor.of(ids, count, length));
            Tensor z = clipSkip == 0 ? out.lastHiddenState() : textEncoder.finalLayerNorm(out.fromEnd(clipSkip));   // [n, L, C]
            List<Tensor> parts = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Tensor zi = z.narrow(0, i, 1);
                if (all.get(i).weighted()) {
                    Tensor mean = zi.mean();
                    zi = zi.mul(Tensor.of(all.get(i).weights(), 1, length, 1).to(zi.dtype()));
                    zi = zi.mul(mean.div(zi.mean()));
                }
                parts.add(zi);
            }
            return Scope.escape(parts.size() == 1 ? parts.get(0) : Tensor.cat(parts, 1));
        }
    }

    @Override
    public Tensor nullCondition(long batch) {
        if (emptyPrompt == null) {
            emptyPrompt = encode(List.of(frame(List.of(), List.of())), 1, 0);
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
        Tensor context = condition == null ? nullCondition(x.size(0))
                : condition.dtype() == DType.INT64 ? textEncoder.forward(condition).lastHiddenState() : condition;
        return new Output(unet.forward(x, t, context), null);
    }

    @Override
    public Output predictWithVariance(Tensor x, Tensor t) {
        return predictWithVariance(x, t, null);
    }
}
