package dev.diffusion4j.models.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ModelFolder;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.model.DiscreteDenoiser;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UNet2DConditionModelTest {
    private static final String CA_DOWN = UNet2DConditionConfig.CROSS_ATTN_DOWN;
    private static final String DOWN = UNet2DConditionConfig.DOWN;
    private static final String CA_UP = UNet2DConditionConfig.CROSS_ATTN_UP;
    private static final String UP = UNet2DConditionConfig.UP;

    static UNet2DConditionConfig tiny() {
        return new UNet2DConditionConfig(8, 4, 4, false, true, 0, List.of(CA_DOWN, DOWN), List.of(UP, CA_UP), List.of(8, 16), 1, 1, 1, 4,
                1e-5, 12, 1, List.of(2, 2), false, false);
    }

    /** Stable Diffusion 1.5's unet/config.json as published (diffusers 0.6.0 wrote it, before most keys existed). */
    static Map<String, Object> stableDiffusion15Json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "UNet2DConditionModel");
        m.put("_diffusers_version", "0.6.0");
        m.put("act_fn", "silu");
        m.put("attention_head_dim", 8);
        m.put("block_out_channels", List.of(320, 640, 1280, 1280));
        m.put("center_input_sample", false);
        m.put("cross_attention_dim", 768);
        m.put("down_block_types", List.of(CA_DOWN, CA_DOWN, CA_DOWN, DOWN));
        m.put("downsample_padding", 1);
        m.put("flip_sin_to_cos", true);
        m.put("freq_shift", 0);
        m.put("in_channels", 4);
        m.put("layers_per_block", 2);
        m.put("mid_block_scale_factor", 1);
        m.put("norm_eps", 1e-05);
        m.put("norm_num_groups", 32);
        m.put("out_channels", 4);
        m.put("sample_size", 64);
        m.put("up_block_types", List.of(UP, CA_UP, CA_UP, CA_UP));
        return m;
    }

    @Test
    void readsStableDiffusionConfigs() {
        assertEquals(UNet2DConditionConfig.stableDiffusion15(), UNet2DConditionConfig.fromConfig(stableDiffusion15Json()));
        // SD 2.1's differs in these keys: a head count per level (heads of 64 channels), linear projections, OpenCLIP's 1024
        Map<String, Object> sd21 = new LinkedHashMap<>(stableDiffusion15Json());
        sd21.put("_diffusers_version", "0.10.0.dev0");
        sd21.put("attention_head_dim", List.of(5, 10, 20, 20));
        sd21.put("cross_attention_dim", 1024);
        sd21.put("dual_cross_attention", false);
        sd21.put("num_class_embeds", null);
        sd21.put("only_cross_attention", false);
        sd21.put("sample_size", 96);
        sd21.put("use_linear_projection", true);
        sd21.put("upcast_attention", true);
        UNet2DConditionConfig c = UNet2DConditionConfig.fromConfig(sd21);
        assertEquals(List.of(5, 10, 20, 20), c.attentionHeads());
        assertTrue(c.useLinearProjection() && c.upcastAttention());
        assertEquals(1024, c.crossAttentionDim());
        for (UNet2DConditionConfig config : List.of(c, UNet2DConditionConfig.stableDiffusion15(), tiny())) {
            assertEquals(config, UNet2DConditionConfig.fromConfig(config.toConfig()));
        }
        assertEquals(8, UNet2DConditionConfig.stableDiffusion15().toConfig().get("attention_head_dim"));
    }

    @Test
    void refusesWhatTheStableDiffusionUNetDoesNotHave() {
        assertRefused("addition_embed_type", "image", "'addition_embed_type' = image is not supported");
        assertRefused("transformer_layers_per_block", List.of(List.of(1, 1), List.of(2, 2)), "'transformer_layers_per_block' = [[1, 1], [2, 2]]");
        assertRefused("class_embed_type", "timestep", "'class_embed_type' = timestep is not supported");
        assertRefused("num_attention_heads", 8, "'num_attention_heads' = 8 is not supported");
        assertRefused("use_magic_attention", true, "unknown keys [use_magic_attention]");
        assertRefused("layers_per_block", List.of(2, 2, 2, 2), "'layers_per_block' = [2, 2, 2, 2] is not supported");
        assertRefused("mid_block_type", null, "'mid_block_type' = null is not supported");
        assertRefused("_class_name", "UNet2DModel", "_class_name is 'UNet2DModel'");
        assertRefused("down_block_types", List.of(CA_DOWN, CA_DOWN, "SimpleCrossAttnDownBlock2D", DOWN),
                "down block type 'SimpleCrossAttnDownBlock2D' is not supported");
        assertRefused("attention_head_dim", 7, "level 0 has 320 channels, which do not split into attention_head_dim = 7 heads");
        // keys diffusers reads only for blocks these U-Nets lack are accepted whatever their value
        Map<String, Object> inert = stableDiffusion15Json();
        inert.put("resnet_skip_time_act", true);
        inert.put("addition_embed_type_num_heads", 12);
        assertEquals(UNet2DConditionConfig.stableDiffusion15(), UNet2DConditionConfig.fromConfig(inert));
    }

    private static void assertRefused(String key, Object value, String message) {
        Map<String, Object> m = stableDiffusion15Json();
        m.put(key, value);
        DiffusionException e = assertThrows(DiffusionException.class, () -> UNet2DConditionConfig.fromConfig(m));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /**
     * Stable Diffusion 1.5's published U-Net has 859,520,964 parameters; the same config builds exactly
     * that many. Tagged quality: building the real 3.4 GB network takes about 30 s here (page faults,
     * not arithmetic), with a resident peak of 3.7 GB.
     */
    @Test
    @Tag("quality")
    void stableDiffusion15ConfigHasTheReferenceParameterCount() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            UNet2DConditionModel unet = new UNet2DConditionModel(UNet2DConditionConfig.fromConfig(stableDiffusion15Json()), new Generator(0));
            assertEquals(859_520_964L, unet.parameterCount());
            unet.stateDict().values().forEach(Tensor::close);
        }
    }

    @Test
    void savesAndLoadsDiffusersFolders(@TempDir Path dir) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            UNet2DConditionModel unet = new UNet2DConditionModel(tiny(), new Generator(1));
            Path folder = dir.resolve("unet");
            unet.save(folder);
            Tensor x = Tensor.randn(new Generator(2), 2, 4, 8, 8);
            Tensor t = Tensor.of(new float[] {999, 10.5f}, 2);
            Tensor context = Tensor.randn(new Generator(3), 2, 5, 12);
            Tensor out = unet.forward(x, t, context);
            UNet2DConditionModel back = UNet2DConditionModel.load(folder);
            assertEquals(unet.config(), back.config());
            assertTrue(out.equal(back.forward(x, t, context)));
            // half-precision weights, as Stable Diffusion folders often ship them, load as float32
            Map<String, Tensor> half = new LinkedHashMap<>();
            unet.stateDict().forEach((k, v) -> half.put(k, v.to(DType.FLOAT16)));
            Path weights = folder.resolve(ModelFolder.DIFFUSERS_WEIGHTS);
            Safetensors.write(weights, half, Map.of());
            assertEquals(0, UNet2DConditionModel.load(folder).forward(x, t, context).sub(out).abs().amax().item(), 0.05);
            // a misshapen weight and one too many are named
            Map<String, Tensor> misshapen = new LinkedHashMap<>(half);
            misshapen.put("conv_in.weight", Tensor.zeros(8, 4, 1, 1));
            Safetensors.write(weights, misshapen, Map.of());
            assertTrue(assertThrows(DiffusionException.class, () -> UNet2DConditionModel.load(folder)).getMessage()
                    .contains("weight 'conv_in.weight' has shape [8, 4, 1, 1]"));
            half.put("add_embedding.linear_1.weight", Tensor.zeros(1));
            Safetensors.write(weights, half, Map.of());
            assertTrue(assertThrows(DiffusionException.class, () -> UNet2DConditionModel.load(folder)).getMessage()
                    .contains("add_embedding.linear_1.weight"));
            Files.delete(weights);
            assertTrue(assertThrows(DiffusionException.class, () -> UNet2DConditionModel.load(folder)).getMessage()
                    .contains("has no diffusion_pytorch_model.safetensors"));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void sharesOneTimestepAndOneContextAcrossTheBatchAndNamesBadInputs() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            UNet2DConditionModel unet = new UNet2DConditionModel(tiny(), new Generator(4));
            Tensor x = Tensor.randn(new Generator(5), 3, 4, 6, 10);
            Tensor context = Tensor.randn(new Generator(6), 1, 5, 12);
            Tensor shared = unet.forward(x, Tensor.of(new float[] {250}, 1), context);
            Tensor each = unet.forward(x, Tensor.full(250, 3), context.expand(3, 5, 12));
            assertArrayEquals(new long[] {3, 4, 6, 10}, shared.shape());
            assertEquals(0, shared.sub(each).abs().amax().item(), 1e-6);
            assertTrue(assertThrows(DiffusionException.class, () -> unet.forward(x, Tensor.full(250, 2), context)).getMessage()
                    .contains("timestep"));
            assertTrue(assertThrows(DiffusionException.class, () -> unet.forward(x, Tensor.full(250, 3), Tensor.zeros(3, 5, 8)))
                    .getMessage().contains("encoder_hidden_states must be [3 or 1, tokens, 12]"));
            assertTrue(assertThrows(DiffusionException.class, () -> unet.forward(Tensor.zeros(3, 3, 8, 8), Tensor.full(250, 3), context))
                    .getMessage().contains("sample must be [batch, 4, H, W]"));
        }
    }

    /** Under fixed context tokens the U-Net is a noise predictor, which a DiscreteDenoiser hands to any sampler. */
    @Test
    void samplesThroughADiscreteDenoiser() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            UNet2DConditionModel unet = new UNet2DConditionModel(tiny(), new Generator(7));
            Tensor context = Tensor.randn(new Generator(8), 1, 5, 12);
            DiscreteDenoiser denoiser = new DiscreteDenoiser((x, t) -> unet.forward(x, t, context),
                    NoiseSchedule.of(BetaSchedule.SCALED_LINEAR, 1000), Prediction.EPSILON);
            Tensor noise = Tensor.randn(new Generator(9), 2, 4, 8, 8);
            Tensor latents = Samplers.run(Samplers.create("euler", SamplerOptions.DEFAULTS), denoiser, noise, GridSpec.steps(3), new Generator(10));
            assertArrayEquals(noise.shape(), latents.shape());
            assertTrue(latents.allFinite());
        }
    }
}
