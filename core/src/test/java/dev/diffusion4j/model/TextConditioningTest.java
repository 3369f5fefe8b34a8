package dev.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.nn.Attention;
import dev.diffusion4j.nn.Transformer2D;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The text path: attention against its formula, the causal encoder, the cross-attention U-Net and its config. */
class TextConditioningTest {
    private static final TextEncoderConfig SMALL_TEXT = new TextEncoderConfig(ClipTokenizer.VOCAB_SIZE, 12, 16, 2, 8);

    private static Tensor ids(String prompt, int contextLength) {
        int[] e = ClipTokenizer.clip().encode(prompt, contextLength).ids();
        return Tensor.of(Arrays.stream(e).asLongStream().toArray(), 1, e.length);
    }

    /** softmax(QKᵀ/√d + mask)·V per head, written out. */
    private static Tensor reference(Map<String, Tensor> p, Tensor h, Tensor c, int heads, boolean causal) {
        Tensor q = h.linear(p.get("to_q.weight"), p.get("to_q.bias"));
        Tensor k = c.linear(p.get("to_k.weight"), p.get("to_k.bias"));
        Tensor v = c.linear(p.get("to_v.weight"), p.get("to_v.bias"));
        long b = h.size(0);
        long n = h.size(1);
        long m = c.size(1);
        long d = q.size(2) / heads;
        q = q.view(b, n, heads, d).transpose(1, 2);
        k = k.view(b, m, heads, d).transpose(1, 2);
        v = v.view(b, m, heads, d).transpose(1, 2);
        Tensor scores = q.matmul(k.transpose(2, 3)).div(Math.sqrt(d));
        if (causal) {
            float[] mask = new float[(int) (n * m)];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    mask[(int) (i * m + j)] = j > i ? Float.NEGATIVE_INFINITY : 0;
                }
            }
            scores = scores.add(Tensor.of(mask, 1, 1, n, m));
        }
        Tensor a = scores.softmax(-1).matmul(v).transpose(1, 2).reshape(b, n, heads * d);
        return a.linear(p.get("to_out.0.weight"), p.get("to_out.0.bias"));
    }

    @Test
    void crossAndCausalAttentionFollowTheirFormula() {
        try (Scope s = Scope.open()) {
            Generator g = new Generator(1);
            Tensor h = Tensor.randn(g, 2, 5, 8);
            Tensor c = Tensor.randn(g, 2, 7, 6);
            Attention cross = Attention.sequence(8, 6, 4, false, g);
            double crossErr = cross.attend(h, c).sub(reference(cross.namedParameters(), h, c, 2, false)).abs().amax().item();
            assertTrue(crossErr < 1e-5, "cross-attention off by " + crossErr);
            Attention causal = Attention.sequence(8, 8, 4, true, g);
            double causalErr = causal.attend(h, null).sub(reference(causal.namedParameters(), h, h, 2, true)).abs().amax().item();
            assertTrue(causalErr < 1e-5, "causal self-attention off by " + causalErr);
            // the mask matters: without it the answer differs
            assertTrue(causal.attend(h, null).sub(reference(causal.namedParameters(), h, h, 2, false)).abs().amax().item() > 1e-3);
        }
    }

    @Test
    void theEncoderReadsLeftToRightSoPaddingChangesNothing() {
        try (Scope s = Scope.open()) {
            TextEncoder enc = new TextEncoder(SMALL_TEXT, new Generator(2));
            Tensor a = ids("a photo of a cat", 12);                 // start, 5 tokens, end, 5 padding
            long[] noisy = a.toLongArray();
            for (int i = 7; i < noisy.length; i++) {
                noisy[i] = 1000 + i;                               // other padding after end-of-text
            }
            TextEncoder.Output x = enc.forward(a);
            TextEncoder.Output y = enc.forward(Tensor.of(noisy, 1, noisy.length));
            assertEquals(0, x.pooled().sub(y.pooled()).abs().amax().item(), 1e-6, "the end-of-text feature ignores padding");
            assertEquals(0, x.hidden().narrow(1, 0, 7).sub(y.hidden().narrow(1, 0, 7)).abs().amax().item(), 1e-6);
            assertTrue(x.hidden().narrow(1, 7, 5).sub(y.hidden().narrow(1, 7, 5)).abs().amax().item() > 1e-3);
            TextEncoder.Output dog = enc.forward(ids("a photo of a dog", 12));
            assertTrue(x.pooled().sub(dog.pooled()).abs().amax().item() > 1e-3, "another word, another summary");
            assertEquals(16, x.pooled().size(1));
            assertThrows(DiffusionException.class, () -> enc.forward(ids("a cat", 10)));
        }
    }

    @Test
    void aSpatialTransformerStartsAsTheIdentity() {
        try (Scope s = Scope.open()) {
            Generator g = new Generator(3);
            Transformer2D t = new Transformer2D(16, 8, 6, 4, 1, g);
            Tensor x = Tensor.randn(g, 2, 16, 3, 3);
            assertEquals(0, t.forward(x, Tensor.randn(g, 2, 5, 6)).sub(x).abs().amax().item(), 1e-7);
        }
    }

    private static TextUNet2DConfig smallConfig() {
        UNet2DConfig unet = UNet2DConfig.defaults(1, 8).withBlockOutChannels(16, 32);
        return new TextUNet2DConfig(unet.withCrossAttention(SMALL_TEXT.hiddenSize()), SMALL_TEXT);
    }

    @Test
    void theUNetFollowsThePromptAndItsNullConditionIsTheEmptyPrompt() {
        try (Scope s = Scope.open()) {
            TextUNet2DModel net = smallConfig().build(new Generator(4));
            Generator g = new Generator(5);
            Tensor x = Tensor.randn(g, 1, 1, 8, 8);
            Tensor t = Tensor.of(new float[] {300}, 1);
            Tensor sneaker = net.predictWithVariance(x, t, ids("a sneaker", 12)).prediction();
            Tensor bag = net.predictWithVariance(x, t, ids("a bag", 12)).prediction();
            assertTrue(sneaker.sub(bag).abs().amax().item() > 1e-4, "the prompt reaches the prediction");
            assertEquals(0, net.predictWithVariance(x, t, ids("a sneaker", 12)).prediction().sub(sneaker).abs().amax().item(), 1e-6);
            assertEquals(0, net.predict(x, t).sub(net.predictWithVariance(x, t, ids("", 12)).prediction()).abs().amax().item(), 1e-6,
                    "unconditional = the empty prompt");
            assertEquals(12, net.contextLength());
            assertEquals(0, net.numClasses());
            assertThrows(DiffusionException.class, () -> net.predictWithVariance(x, t, Tensor.full(DType.INT64, 3, 1)));

            // training reaches the text encoder and the cross-attention blocks
            Tensor loss = net.predictWithVariance(x, t, ids("a dark sneaker", 12)).prediction().square().mean();
            loss.backward();
            Map<String, Tensor> p = net.namedParameters();
            for (String key : new String[] {"text_encoder.embeddings.token_embedding.weight", "text_encoder.encoder.layers.1.attn1.to_q.weight",
                    "add_embedding.weight", "unet.down_blocks.1.attentions.0.proj_out.weight", "unet.mid_block.attentions.0.proj_out.weight"}) {
                assertTrue(p.containsKey(key), key);
                assertTrue(p.get(key).grad() != null && p.get(key).grad().abs().amax().item() > 0, "no gradient reaches " + key);
            }
            assertTrue(p.containsKey("unet.up_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight"));
        }
    }

    @Test
    void theConfigRoundTripsAndRejectsMismatchedWidths() throws Exception {
        TextUNet2DConfig c = smallConfig();
        com.fasterxml.jackson.databind.ObjectMapper json = dev.diffusion4j.io.Json.mapper();
        @SuppressWarnings("unchecked")
        Map<String, Object> parsed = json.convertValue(json.valueToTree(c.toConfig()), Map.class);
        NetworkConfig back = NetworkConfig.fromConfig(parsed);
        assertEquals(c, back);
        assertEquals(UNet2DConfig.CROSS_ATTN_DOWN, c.unet().downBlockTypes().get(1));
        UNet2DConfig unet = UNet2DConfig.defaults(1, 8).withBlockOutChannels(16, 32);
        assertThrows(DiffusionException.class, () -> new TextUNet2DConfig(unet.withCrossAttention(8), SMALL_TEXT));
        assertThrows(DiffusionException.class, () -> new TextUNet2DConfig(unet, SMALL_TEXT));
        assertThrows(DiffusionException.class, () -> new UNet2DConfig(8, 1, 1, false, true, 0,
                java.util.List.of(UNet2DConfig.DOWN, UNet2DConfig.CROSS_ATTN_DOWN), java.util.List.of(UNet2DConfig.UP, UNet2DConfig.UP),
                java.util.List.of(16, 32), 1, 1, 1, "conv", dev.diffusion4j.nn.Activation.SILU, 8, 8, null, 1e-5, "default", true, null, 0,
                VarianceType.FIXED, null), "CrossAttn blocks without cross_attention_dim");
    }
}
