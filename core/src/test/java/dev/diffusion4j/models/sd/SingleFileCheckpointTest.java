package dev.diffusion4j.models.sd;

import static dev.diffusion4j.models.GoldenFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.models.GoldenFixtures;
import dev.diffusion4j.models.clip.CLIPTextConfig;
import dev.diffusion4j.models.clip.CLIPTextModel;
import dev.diffusion4j.models.unet.UNet2DConditionConfig;
import dev.diffusion4j.models.vae.AutoencoderKLConfig;
import dev.diffusion4j.models.vae.DiagonalGaussian;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Original Stable Diffusion single-file checkpoints, made tiny by tools/golden/make_sd_single_file_fixture.py
 * and checked there to convert back exactly through diffusers' own single-file conversion: one SD 1.x
 * file (float32, CLIP with transformers' names, 1×1-convolution projections), one SD 2.x file (float16,
 * OpenCLIP's fused attention and an extra last layer, linear projections). Read by the users' loader
 * with the architecture read off the keys (and the hints the weights cannot carry), the text encoder,
 * U-Net and autoencoder give the outputs of the modules diffusers loaded, within 1e-4.
 */
class SingleFileCheckpointTest {
    /** The tiny fixtures' constants that no weight records (the released models' are Hints.STABLE_DIFFUSION). */
    private static final SingleFileCheckpoint.Hints SD1_TINY = new SingleFileCheckpoint.Hints(4, 4, 64, 8, null);
    private static final SingleFileCheckpoint.Hints SD2_TINY = new SingleFileCheckpoint.Hints(4, 8, 8, 8, null);

    private static StableDiffusionFolder.Loaded load(String name) {
        Path file = GoldenFixtures.folder("sd_single_file").resolve(name + ".safetensors");
        return SingleFileCheckpoint.load(file, name.startsWith("sd1") ? SD1_TINY : SD2_TINY);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sd1_tiny", "sd2_tiny"})
    void readsTheArchitectureOffTheKeysAndMatchesDiffusers(String name) {
        Path dir = GoldenFixtures.folder("sd_single_file").resolve(name);
        StableDiffusionFolder.Loaded sd = load(name);
        // the architecture read off the weights is the one the file was made from
        StableDiffusionConfig config = sd.network().config();
        assertEquals(architecture(UNet2DConditionConfig.fromConfig(Json.readMap(dir.resolve("unet_config.json")))),
                architecture(config.unet()), name + " U-Net");
        Map<String, Object> vae = new LinkedHashMap<>(Json.readMap(dir.resolve("vae_config.json")));
        assertEquals(AutoencoderKLConfig.fromConfig(vae).blockOutChannels(), sd.autoencoder().config().blockOutChannels());
        assertEquals(AutoencoderKLConfig.fromConfig(vae).latentChannels(), sd.autoencoder().config().latentChannels());
        CLIPTextConfig text = CLIPTextConfig.fromConfig(Json.readMap(dir.resolve("text_encoder_config.json")));
        assertEquals(text, config.textEncoder(), name + " text encoder");
        assertEquals(name.startsWith("sd2") ? Prediction.V : Prediction.EPSILON, sd.spec().prediction());

        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open(); SafetensorsFile io = Safetensors.open(dir.resolve("io.safetensors"))) {
            CLIPTextModel.Output out = sd.network().textEncoder().forward(io.read("input_ids"));
            assertClose(io.read("text_last_hidden_state"), out.lastHiddenState(), name + " text encoder");
            assertClose(io.read("text_penultimate_normed"), sd.network().textEncoder().finalLayerNorm(out.fromEnd(1)), name + " clip skip 1");
            assertClose(io.read("unet_output"), sd.network().unet().forward(io.read("unet_sample"), io.read("unet_timestep"),
                    io.read("unet_encoder_hidden_states")), name + " U-Net");
            assertClose(io.read("vae_decoded"), sd.autoencoder().decode(io.read("vae_latent")), name + " decoder");
            DiagonalGaussian posterior = sd.autoencoder().encode(io.read("vae_image"));
            Tensor moments = io.read("vae_moments");
            long z = moments.size(1) / 2;
            assertClose(moments.narrow(1, 0, z), posterior.mean(), name + " encoder mean");
            assertClose(moments.narrow(1, z, z), posterior.logVariance(), name + " encoder log-variance");
        }
        // what no part reads is reported, not silently dropped
        assertTrue(sd.ignored().contains("alphas_cumprod") && sd.ignored().contains("model_ema.decay"), sd.ignored().toString());
        if (name.startsWith("sd2")) {
            assertTrue(sd.ignored().contains("cond_stage_model.model.text_projection"), sd.ignored().toString());
            assertTrue(sd.ignored().stream().anyMatch(k -> k.startsWith("cond_stage_model.model.transformer.resblocks.2.")),
                    "the last OpenCLIP layer, which SD 2.x does not read: " + sd.ignored());
        }
    }

    /** The config less what only travels with it (the training size, SD 2.x's upcast request, which this project's attention always honours). */
    private static Map<String, Object> architecture(UNet2DConditionConfig c) {
        Map<String, Object> m = new LinkedHashMap<>(c.toConfig());
        m.remove("sample_size");
        m.remove("upcast_attention");
        return m;
    }

    /** The original config beside a checkpoint says what its U-Net predicts (SD 2.x's 512-pixel models predict ε, not v). */
    @Test
    void theConfigBesideTheFileGivesThePrediction(@TempDir Path dir) throws IOException {
        Path file = Files.copy(GoldenFixtures.folder("sd_single_file").resolve("sd2_tiny.safetensors"), dir.resolve("base.safetensors"));
        assertEquals(Prediction.V, SingleFileCheckpoint.load(file, SD2_TINY).spec().prediction(), "SD 2.x without a config: v, as diffusers");
        Files.writeString(dir.resolve("base.yaml"), "model:\n  params:\n    linear_start: 0.00085\n");
        assertEquals(Prediction.EPSILON, SingleFileCheckpoint.load(file, SD2_TINY).spec().prediction(), "the original code's default");
        Files.writeString(dir.resolve("base.yaml"), "model:\n  params:\n    parameterization: \"v\"\n");
        assertEquals(Prediction.V, SingleFileCheckpoint.load(file, SD2_TINY).spec().prediction());
        Files.writeString(dir.resolve("base.yaml"), "model:\n  params:\n    parameterization: velocity\n");
        assertTrue(assertThrows(DiffusionException.class, () -> SingleFileCheckpoint.load(file, SD2_TINY)).getMessage().contains("velocity"));
    }

    @Test
    void anUnknownKeyAPickleAndAnSdxlFileAreRefusedByName(@TempDir Path dir) throws IOException {
        Path source = GoldenFixtures.folder("sd_single_file").resolve("sd1_tiny.safetensors");
        Path extra = dir.resolve("extra.safetensors");
        try (Scope s = Scope.open(); SafetensorsFile f = Safetensors.open(source)) {
            Map<String, Tensor> state = new LinkedHashMap<>(f.readAll());
            state.put("lora_unet_down_blocks_0_attentions_0.alpha", Tensor.scalar(1));
            Safetensors.write(extra, state, Map.of());
            state.remove("lora_unet_down_blocks_0_attentions_0.alpha");
            state.put("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", Tensor.zeros(4));
            Safetensors.write(dir.resolve("xl.safetensors"), state, Map.of());
        }
        String unknown = assertThrows(DiffusionException.class, () -> SingleFileCheckpoint.load(extra, SD1_TINY)).getMessage();
        assertTrue(unknown.contains("lora_unet_down_blocks_0_attentions_0.alpha"), unknown);
        assertTrue(assertThrows(DiffusionException.class, () -> SingleFileCheckpoint.load(dir.resolve("xl.safetensors"), SD1_TINY))
                .getMessage().contains("SDXL"));
        Path ckpt = Files.writeString(dir.resolve("model.ckpt"), "PK not read");
        assertTrue(assertThrows(DiffusionException.class, () -> SingleFileCheckpoint.load(ckpt, SD1_TINY)).getMessage().contains("pickle"));
    }
}
