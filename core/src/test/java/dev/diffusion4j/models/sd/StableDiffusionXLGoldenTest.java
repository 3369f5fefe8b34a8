package dev.diffusion4j.models.sd;

import static dev.diffusion4j.models.GoldenFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.models.GoldenFixtures;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.pipeline.GenerationResult;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity with diffusers' StableDiffusionXLPipeline on a tiny random SDXL folder it saved and ran
 * (tools/golden/make_sdxl_fixture.py): the U-Net with its added text-time embedding alone; the two
 * text encoders' penultimate states side by side and the pooled projection; the U-Net's guided
 * evaluation at every step of two runs (one with its own size and crop conditioning); the zeros of
 * force_zeros_for_empty_prompt; and a whole run from the seed through DiffusionPipeline.generate.
 */
class StableDiffusionXLGoldenTest {
    private static Path folder;
    private static StableDiffusionFolder.Loaded sd;
    private static Map<String, Map<String, Object>> cases;

    @BeforeAll
    static void load() {
        folder = GoldenFixtures.folder("sdxl_pipeline");
        sd = StableDiffusionFolder.load(folder);
        cases = GoldenFixtures.cases(folder);
    }

    @Test
    void theUNetAndTheTextEncodersAloneMatch() {
        StableDiffusionNetwork net = sd.network();
        assertTrue(net.config().isXL() && net.config().zeroEmptyNegative());
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open(); SafetensorsFile io = Safetensors.open(folder.resolve("modules.safetensors"))) {
            assertClose(io.read("unet_expected"), net.unet().forward(io.read("unet_sample"), io.read("unet_timestep"),
                    io.read("unet_encoder_hidden_states"), io.read("unet_text_embeds"), io.read("unet_time_ids")), "SDXL U-Net");
            assertClose(io.read("text_encoder_penultimate"), net.textEncoder().forward(io.read("text_encoder_input_ids")).fromEnd(1),
                    "first encoder, penultimate");
            var second = net.textEncoder2().forward(io.read("text_encoder_2_input_ids"));
            assertClose(io.read("text_encoder_2_penultimate"), second.fromEnd(1), "second encoder, penultimate");
            assertClose(io.read("text_encoder_2_text_embeds"), second.textEmbeds(), "second encoder, pooled projection");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a_euler_negative_sizes", "b_dpmpp_2m_karras_no_negative"})
    void promptsAndEveryGuidedStepMatch(String name) {
        Map<String, Object> c = cases.get(name);
        StableDiffusionNetwork net = sd.network();
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open();
             SafetensorsFile io = Safetensors.open(folder.resolve("cases").resolve(name + ".safetensors"))) {
            Condition[] both = net.encodePrompts((String) c.get("prompt"), (String) c.get("negative_prompt"), 0, new ArrayList<>());
            assertClose(io.read("prompt_embeds"), both[0].features(), name + " prompt_embeds");
            assertClose(io.read("pooled_prompt_embeds"), both[0].pooled(), name + " pooled");
            assertClose(io.read("negative_prompt_embeds"), both[1].features(), name + " negative_prompt_embeds");
            assertClose(io.read("negative_pooled_prompt_embeds"), both[1].pooled(), name + " negative pooled");
            if (c.get("negative_prompt") == null) {
                assertEquals(0, both[1].features().abs().amax().item(), 0, "force_zeros_for_empty_prompt");
            }
            Tensor context = Tensor.cat(List.of(io.read("negative_prompt_embeds"), io.read("prompt_embeds")), 0);
            Tensor pooled = Tensor.cat(List.of(io.read("negative_pooled_prompt_embeds"), io.read("pooled_prompt_embeds")), 0);
            Tensor ids = Tensor.cat(List.of(io.read("negative_add_time_ids"), io.read("add_time_ids")), 0);
            double[] t = io.read("timesteps").toDoubleArray();
            for (int i = 0; i < t.length; i++) {
                Tensor step = Tensor.of(new double[] {t[i]}, 1).to(dev.diffusion4j.tensor.DType.FLOAT32);
                assertClose(io.read("unet_outputs").select(0, i), net.unet().forward(io.read("unet_inputs").select(0, i), step, context, pooled, ids),
                        name + " U-Net at step " + i);
            }
        }
    }

    /** The user's path: the folder, a prompt and a seed give diffusers' image (default size conditioning, no negative: zeros). */
    @Test
    void generatesDiffusersImageFromTheSameSeed() {
        Map<String, Object> c = cases.get("b_dpmpp_2m_karras_no_negative");
        DiffusionPipeline pipeline = DiffusionPipeline.load(folder);
        GenerationRequest request = GenerationRequest.builder().prompt((String) c.get("prompt")).seed(((Number) c.get("seed")).longValue())
                .guidance(((Number) c.get("guidance_scale")).doubleValue()).size(32, 32).sampler("dpmpp_2m")
                .grid(dev.diffusion4j.schedule.GridSpec.steps(((Number) c.get("num_inference_steps")).intValue()).withSchedule(SigmaSchedule.KARRAS))
                .build();
        try (Scope s = Scope.open(); SafetensorsFile io = Safetensors.open(folder.resolve("cases").resolve("b_dpmpp_2m_karras_no_negative.safetensors"))) {
            GenerationResult result = pipeline.generate(request);
            assertTrue(result.warnings().isEmpty(), result.warnings().toString());
            assertEquals("DPMSolverMultistepScheduler", result.metadata().get("scheduler"));
            assertClose(io.read("image"), result.samples().add(1).div(2), "SDXL image");
        }
    }
}
