package dev.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.nn.Attention;
import dev.diffusion4j.nn.SinusoidalEmbedding;
import dev.diffusion4j.objective.DiffusionObjective;
import dev.diffusion4j.objective.LossType;
import dev.diffusion4j.objective.Weighting;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.AdamW;
import dev.diffusion4j.tensor.Autocast;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The U-Net's structure against diffusers' naming and parameter arithmetic, and its behaviour as a network. */
class UNet2DModelTest {

    /** A diffusers UNet2DModel config.json as that library writes it (two levels, attention in the second). */
    static final String DIFFUSERS_CONFIG = """
            {"_class_name": "UNet2DModel", "_diffusers_version": "0.30.0", "act_fn": "silu", "add_attention": true,
             "attention_head_dim": 8, "block_out_channels": [32, 64], "center_input_sample": false, "class_embed_type": null,
             "down_block_types": ["DownBlock2D", "AttnDownBlock2D"], "downsample_padding": 1, "downsample_type": "conv",
             "dropout": 0.0, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 3, "layers_per_block": 2,
             "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 8, "num_class_embeds": null,
             "num_train_timesteps": null, "out_channels": 3, "resnet_time_scale_shift": "default", "sample_size": 16,
             "time_embedding_type": "positional", "up_block_types": ["AttnUpBlock2D", "UpBlock2D"], "upsample_type": "conv"}
            """;

    static Map<String, Object> parse(String json) {
        try {
            return Json.mapper().readValue(json, new TypeReference<Map<String, Object>>() { });
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    static UNet2DConfig diffusersConfig() {
        Map<String, Object> m = parse(DIFFUSERS_CONFIG);
        return (UNet2DConfig) NetworkConfig.fromConfig(m);
    }

    @Test
    void stateDictKeysAndShapesReadLikeDiffusers() {
        Map<String, Tensor> sd = diffusersConfig().build(new Generator(0)).stateDict();
        String[] keys = {"conv_in.weight", "time_embedding.linear_1.weight", "time_embedding.linear_2.bias",
                "down_blocks.0.resnets.1.norm1.weight", "down_blocks.0.resnets.0.time_emb_proj.weight",
                "down_blocks.0.downsamplers.0.conv.weight", "down_blocks.1.resnets.0.conv_shortcut.weight",
                "down_blocks.1.attentions.1.group_norm.weight", "down_blocks.1.attentions.0.to_q.weight",
                "down_blocks.1.attentions.0.to_out.0.bias", "mid_block.resnets.1.conv2.weight", "mid_block.attentions.0.to_k.bias",
                "mid_block.attentions.0.group_norm.bias", "up_blocks.0.resnets.2.conv_shortcut.weight", "up_blocks.0.attentions.2.to_v.weight",
                "up_blocks.0.upsamplers.0.conv.weight", "up_blocks.1.resnets.0.conv1.weight", "conv_norm_out.weight", "conv_out.bias"};
        for (String k : keys) {
            assertTrue(sd.containsKey(k), "missing " + k + " in " + sd.keySet());
        }
        assertFalse(sd.containsKey("down_blocks.1.downsamplers.0.conv.weight"), "the last level does not downsample");
        assertFalse(sd.containsKey("up_blocks.1.upsamplers.0.conv.weight"), "the last up level does not upsample");
        assertFalse(sd.containsKey("down_blocks.0.attentions.0.to_q.weight"), "DownBlock2D has no attention");
        // up block 0: resnet 0 sees h (64) + the skip of down level 1 (64); resnet 2 sees 64 + the skip from conv level 0 (32)
        assertArrayEquals(new long[] {64, 128, 3, 3}, sd.get("up_blocks.0.resnets.0.conv1.weight").shape());
        assertArrayEquals(new long[] {64, 96, 3, 3}, sd.get("up_blocks.0.resnets.2.conv1.weight").shape());
        assertArrayEquals(new long[] {32, 96, 3, 3}, sd.get("up_blocks.1.resnets.0.conv1.weight").shape());
        assertArrayEquals(new long[] {32, 64, 3, 3}, sd.get("up_blocks.1.resnets.2.conv1.weight").shape());
        assertArrayEquals(new long[] {128, 32}, sd.get("time_embedding.linear_1.weight").shape());
        assertArrayEquals(new long[] {64, 128}, sd.get("down_blocks.1.resnets.0.time_emb_proj.weight").shape());
    }

    /** Parameters of diffusers' blocks, counted from their layer lists. */
    static long conv(long in, long out, long k) {
        return in * out * k * k + out;
    }

    static long norm(long c) {
        return 2 * c;
    }

    static long resnet(long in, long out, long temb) {
        return norm(in) + conv(in, out, 3) + temb * out + out + norm(out) + conv(out, out, 3) + (in != out ? conv(in, out, 1) : 0);
    }

    static long attention(long c, boolean groupNorm) {
        return (groupNorm ? norm(c) : 0) + 4 * (c * c + c);
    }

    @Test
    void parameterCountMatchesTheLayerArithmetic() {
        long temb = 128;
        long expected = 32 * temb + temb + temb * temb + temb          // time_embedding
                + conv(3, 32, 3)                                        // conv_in
                + 2 * resnet(32, 32, temb) + conv(32, 32, 3)            // down 0 + downsampler
                + resnet(32, 64, temb) + resnet(64, 64, temb) + 2 * attention(64, true)   // down 1
                + 2 * resnet(64, 64, temb) + attention(64, true)        // mid
                + resnet(128, 64, temb) + resnet(128, 64, temb) + resnet(96, 64, temb) + 3 * attention(64, true) + conv(64, 64, 3)
                + resnet(96, 32, temb) + resnet(64, 32, temb) + resnet(64, 32, temb)      // up 1
                + norm(32) + conv(32, 3, 3);                            // conv_norm_out, conv_out
        assertEquals(expected, diffusersConfig().build(new Generator(0)).parameterCount());
    }

    @Test
    void defaultsKeepTheShapeAndLearnedRangeDoublesTheChannels() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            UNet2DConfig cfg = UNet2DConfig.defaults(1, 28);
            Generator g = new Generator(1);
            UNet2DModel net = cfg.build(g);
            Tensor x = Tensor.randn(g, 3, 1, 28, 28);
            Tensor t = Tensor.of(new float[] {0, 500, 999}, 3);
            assertArrayEquals(new long[] {3, 1, 28, 28}, net.predict(x, t).shape());
            UNet2DModel learned = cfg.withVarianceType(VarianceType.LEARNED_RANGE).build(new Generator(1));
            assertEquals(2, learned.config().outChannels());
            NoisePredictor.Output o = learned.predictWithVariance(x, t);
            assertArrayEquals(new long[] {3, 1, 28, 28}, o.prediction().shape());
            assertArrayEquals(new long[] {3, 1, 28, 28}, o.varianceValues().shape());
            assertTrue(cfg.build(new Generator(0)).parameterCount() < 4_000_000);
        }
    }

    @Test
    void classEmbeddingConditionsTheOutput() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            UNet2DModel net = UNet2DConfig.defaults(1, 28).withClassEmbeddings(10).build(new Generator(2));
            assertArrayEquals(new long[] {10, 64}, net.stateDict().get("class_embedding.weight").shape());
            Tensor x = Tensor.randn(new Generator(3), 2, 1, 28, 28);
            Tensor t = Tensor.full(300, 2);
            Tensor a = net.forward(x, t, Tensor.of(new long[] {1, 1}, 2));
            Tensor b = net.forward(x, t, Tensor.of(new long[] {1, 7}, 2));
            assertEquals(0, a.select(0, 0).sub(b.select(0, 0)).abs().amax().item(), 0, "same label, same output");
            assertTrue(a.select(0, 1).sub(b.select(0, 1)).abs().amax().item() > 1e-4, "another label changes the output");
            DiffusionException e = assertThrows(DiffusionException.class,
                    () -> UNet2DConfig.defaults(1, 28).build(new Generator(0)).forward(x, t, Tensor.of(new long[] {0, 0}, 2)));
            assertTrue(e.getMessage().contains("num_class_embeds"), e.getMessage());

            // 10 rows = 9 classes + the null label, which unconditional calls use
            assertEquals(9, net.numClasses());
            Tensor nullLabel = net.forward(x, t, Tensor.of(new long[] {9, 9}, 2));
            assertEquals(0, net.predict(x, t).sub(nullLabel).abs().amax().item(), 0, "no labels = the null label");
            assertEquals(0, net.predictWithVariance(x, t, Tensor.of(new long[] {1, 7}, 2)).prediction().sub(b).abs().amax().item(), 1e-6);
            assertEquals(0, UNet2DConfig.defaults(1, 28).build(new Generator(0)).numClasses());
        }
    }

    @Test
    void timestepProjectionIsDiffusersSinusoid() {
        // diffusers' get_timestep_embedding: exponent_i = −ln(10000)·i/(half − shift); [sin, cos], flipped → [cos, sin]
        try (Scope s = Scope.open()) {
            int dim = 8;
            double t = 37;
            for (double shift : new double[] {0, 1}) {
                float[] e = new SinusoidalEmbedding(dim, true, shift).forward(Tensor.of(new float[] {(float) t}, 1)).toFloatArray();
                for (int i = 0; i < 4; i++) {
                    double arg = t * Math.exp(-Math.log(10000) * i / (4 - shift));
                    assertEquals(Math.cos(arg), e[i], 1e-4);
                    assertEquals(Math.sin(arg), e[4 + i], 1e-4);
                }
            }
        }
    }

    @Test
    void attentionBlockIsResidualSoftmaxAttention() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Generator g = new Generator(4);
            Attention attn = new Attention(16, 8, 4, 1e-5, 1.0, g);
            Tensor x = Tensor.randn(g, 2, 16, 3, 3);
            Map<String, Tensor> w = attn.stateDict();
            Tensor h = x.groupNorm(4, w.get("group_norm.weight"), w.get("group_norm.bias"), 1e-5).view(2, 16, 9).transpose(1, 2);
            Tensor q = h.linear(w.get("to_q.weight"), w.get("to_q.bias"));
            Tensor k = h.linear(w.get("to_k.weight"), w.get("to_k.bias"));
            Tensor v = h.linear(w.get("to_v.weight"), w.get("to_v.bias"));
            Tensor[] heads = new Tensor[2];
            for (int i = 0; i < 2; i++) {
                Tensor qi = q.narrow(2, 8L * i, 8);
                Tensor ki = k.narrow(2, 8L * i, 8);
                Tensor vi = v.narrow(2, 8L * i, 8);
                heads[i] = qi.matmul(ki.transpose(1, 2)).div(Math.sqrt(8)).softmax(-1).matmul(vi);
            }
            Tensor a = Tensor.cat(List.of(heads), 2).linear(w.get("to_out.0.weight"), w.get("to_out.0.bias"));
            Tensor expected = a.transpose(1, 2).reshape(2, 16, 3, 3).add(x);
            assertEquals(0, attn.forward(x).sub(expected).abs().amax().item(), 1e-5);
        }
    }

    @Test
    void configRoundTripsAndBadConfigsAreRefused() {
        UNet2DConfig cfg = UNet2DConfig.defaults(3, 32).withClassEmbeddings(5).withVarianceType(VarianceType.LEARNED_RANGE);
        Map<String, Object> json;
        try {
            json = parse(Json.mapper().writeValueAsString(cfg.toConfig()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
        assertEquals(cfg, NetworkConfig.fromConfig(json));
        assertEquals("UNet2DModel", json.get("_class_name"));
        assertArrayEquals(new long[] {3, 32, 32}, cfg.sampleShape());
        Map<String, Object> bad = new LinkedHashMap<>(cfg.toConfig());
        bad.put("block_out_channels", List.of(30, 60, 120));
        assertTrue(assertThrows(DiffusionException.class, () -> UNet2DConfig.fromConfig(bad)).getMessage().contains("norm_num_groups"));
        Map<String, Object> odd = new LinkedHashMap<>(cfg.toConfig());
        odd.put("sample_size", 30);
        assertTrue(assertThrows(DiffusionException.class, () -> UNet2DConfig.fromConfig(odd)).getMessage().contains("divisible"));
        Map<String, Object> fourier = new LinkedHashMap<>(cfg.toConfig());
        fourier.put("time_embedding_type", "fourier");
        assertTrue(assertThrows(DiffusionException.class, () -> UNet2DConfig.fromConfig(fourier)).getMessage().contains("fourier"));
        Map<String, Object> block = new LinkedHashMap<>(cfg.toConfig());
        block.put("down_block_types", List.of("DownBlock2D", "CrossAttnDownBlock2D", "AttnDownBlock2D"));
        assertTrue(assertThrows(DiffusionException.class, () -> UNet2DConfig.fromConfig(block)).getMessage().contains("CrossAttnDownBlock2D"));
        assertEquals(List.of(32, 64), UNet2DConfig.defaults(1, 28).withBlockOutChannels(32, 64).blockOutChannels());
    }

    @Test
    void gradientsReachEveryParameterAndTrainingFitsABatch() {
        UNet2DConfig cfg = diffusersConfig();
        Generator g = new Generator(5);
        assertGradientsReachEveryParameterAndLossHalves(cfg.build(g), new DiffusionObjective(NoiseSchedule.of(BetaSchedule.LINEAR, 1000),
                Prediction.EPSILON, LossType.L2, Weighting.NONE), 1000, 30, g);
    }

    /**
     * Fits a fixed batch of 8 random images: the first step's gradients reach every parameter, and
     * the loss halves within {@code steps} AdamW steps.
     */
    static void assertGradientsReachEveryParameterAndLossHalves(DenoisingNetwork net, DiffusionObjective objective, int timesteps,
            int steps, Generator g) {
        long[] item = net.config().sampleShape();
        try (Scope s = Scope.open()) {
            Tensor x0 = Tensor.rand(g, 8, item[0], item[1], item[2]).mul(2).sub(1);
            Tensor tIndex = Tensor.randint(g, timesteps, 8);
            Tensor noise = Tensor.randn(g, 8, item[0], item[1], item[2]);
            double first = Double.NaN;
            double last = Double.NaN;
            try (AdamW opt = new AdamW(net.parameters(), 2e-3, 0.9, 0.999, 1e-8, 0)) {
                for (int i = 0; i < steps; i++) {
                    try (Scope step = Scope.open()) {
                        opt.zeroGrad();
                        Tensor loss = objective.loss(net, x0, tIndex, noise);
                        loss.backward();
                        if (i == 0) {
                            for (Map.Entry<String, Tensor> p : net.namedParameters().entrySet()) {
                                Tensor grad = p.getValue().grad();
                                assertNotNull(grad, p.getKey());
                                assertTrue(grad.abs().sum().item() > 0, "no gradient reaches " + p.getKey());
                            }
                            first = loss.item();
                        }
                        last = loss.item();
                        opt.step();
                    }
                }
            }
            assertTrue(last < 0.5 * first, "loss on a fixed batch should halve in " + steps + " steps: " + first + " -> " + last);
        }
    }

    @Test
    void bf16AutocastAgreesWithFp32() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Generator g = new Generator(6);
            UNet2DModel net = UNet2DConfig.defaults(1, 28).build(g);
            Tensor x = Tensor.randn(g, 2, 1, 28, 28);
            Tensor t = Tensor.full(250, 2);
            Tensor fp32 = net.predict(x, t);
            Tensor bf16;
            try (Autocast a = Autocast.open(DType.BFLOAT16)) {
                bf16 = net.predict(x, t).to(DType.FLOAT32);
            }
            double rel = fp32.sub(bf16).norm().item() / fp32.norm().item();
            assertTrue(rel < 0.05, "bf16 output differs from fp32 by " + rel);
        }
    }
}
