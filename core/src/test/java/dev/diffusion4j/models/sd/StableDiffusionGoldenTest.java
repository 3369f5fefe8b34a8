package dev.diffusion4j.models.sd;

import static dev.diffusion4j.models.GoldenFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.models.GoldenFixtures;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.pipeline.GenerationListener;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.pipeline.GenerationResult;
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
 * Parity with diffusers' StableDiffusionPipeline on a tiny random pipeline it saved itself
 * (tools/golden/make_sd_pipeline_fixture.py: transformers' CLIPTextModel and CLIPTokenizer on a small
 * BPE vocabulary, diffusers' U-Net and AutoencoderKL), read through the same loader a user's folder
 * goes through. For five runs of the reference (DDIM, Euler with a negative prompt, DPM++ 2M Karras
 * with clip skip, Euler ancestral with two images, DDIM with v-prediction) the prompt features, the
 * U-Net's guided evaluation at every step the reference took, the decoded image and the starting noise
 * drawn from the seed must match.
 */
class StableDiffusionGoldenTest {
    private static Path folder;
    private static StableDiffusionFolder.Loaded sd;
    private static Map<String, Map<String, Object>> cases;

    @BeforeAll
    static void load() {
        folder = GoldenFixtures.folder("sd_pipeline");
        sd = StableDiffusionFolder.load(folder);
        cases = GoldenFixtures.cases(folder);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a_ddim", "b_euler_negative", "c_dpmpp_2m_karras_clip_skip", "d_euler_ancestral_two_images",
            "e_ddim_v_prediction_trailing"})
    void promptFeaturesUNetAndDecoderMatchDiffusers(String name) {
        Map<String, Object> c = cases.get(name);
        int clipSkip = c.get("clip_skip") instanceof Number n ? n.intValue() : 0;
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open();
             SafetensorsFile io = Safetensors.open(folder.resolve("cases").resolve(name + ".safetensors"))) {
            StableDiffusionNetwork net = sd.network();
            Tensor positive = net.promptFeatures((String) c.get("prompt"), clipSkip);
            // diffusers reads the negative prompt at the last layer whatever clip_skip says (this project reads both at the same one)
            String negativeText = c.get("negative_prompt") instanceof String t ? t : "";
            Tensor negative = net.promptFeatures(negativeText, 0);
            Tensor expectedPositive = io.read("prompt_embeds");
            long b = expectedPositive.size(0);
            assertClose(expectedPositive, positive.expand(b, positive.size(1), positive.size(2)), name + " prompt_embeds");
            assertClose(io.read("negative_prompt_embeds"), negative.expand(b, negative.size(1), negative.size(2)),
                    name + " negative_prompt_embeds");
            if (c.get("negative_prompt") == null && clipSkip == 0) {
                assertClose(io.read("negative_prompt_embeds"), net.nullCondition(b), name + " the empty prompt as the null condition");
            }

            // the guided batch diffusers runs at each step: [negative ‖ positive] latents, one timestep
            Tensor context = Tensor.cat(List.of(io.read("negative_prompt_embeds"), io.read("prompt_embeds")), 0);
            Tensor inputs = io.read("unet_inputs");
            Tensor outputs = io.read("unet_outputs");
            double[] timesteps = io.read("timesteps").toDoubleArray();
            for (int i = 0; i < timesteps.length; i++) {
                Tensor t = Tensor.of(new double[] {timesteps[i]}, 1).to(dev.diffusion4j.tensor.DType.FLOAT32);
                assertClose(outputs.select(0, i), net.unet().forward(inputs.select(0, i), t, context), name + " U-Net at step " + i);
            }

            // decoding: latents / scaling_factor through the decoder, shown as (x + 1) / 2 in [0, 1]
            Tensor decoded = sd.autoencoder().decode(sd.autoencoder().fromDiffusionLatent(io.read("final_latents")));
            assertClose(io.read("image"), decoded.add(1).div(2).clamp(0, 1), name + " image");
        }
    }

    /** The seed draws the same starting latents as diffusers' torch.Generator("cpu").manual_seed(seed) does, for one image or two. */
    @ParameterizedTest
    @ValueSource(strings = {"a_ddim", "d_euler_ancestral_two_images"})
    void theSeedDrawsDiffusersStartingNoise(String name) {
        Map<String, Object> c = cases.get(name);
        DiffusionPipeline pipeline = DiffusionPipeline.load(folder);
        int count = ((Number) c.get("num_images_per_prompt")).intValue();
        GenerationRequest request = GenerationRequest.builder().prompt((String) c.get("prompt")).seed(((Number) c.get("seed")).longValue())
                .size(16, 16).count(count).sampler("euler").steps(1).build();
        try (Scope s = Scope.open(); SafetensorsFile io = Safetensors.open(folder.resolve("cases").resolve(name + ".safetensors"))) {
            Tensor[] noise = new Tensor[1];
            GenerationResult result = pipeline.generate(request, new GenerationListener() {
                @Override
                public void onStep(int batch, int batches, dev.diffusion4j.sampling.SamplingStep step) {
                }

                @Override
                public void onNoise(int batch, int batches, Tensor n) {
                    noise[0] = Scope.escape(n.clone());
                }
            });
            Tensor expected = io.read("initial_latents");
            assertArrayEquals(expected.shape(), noise[0].shape());
            assertEquals(0.0, noise[0].sub(expected).abs().amax().item(), 0.0, name + ": the same numbers, bit for bit");
            assertArrayEquals(new long[] {count, 3, 16, 16}, result.samples().shape());
        }
    }

    /**
     * The whole path a user takes — {@code DiffusionPipeline.load(folder).generate(request)} with the
     * sampler named as the project names it — gives diffusers' image from the same seed: the pipeline
     * walks the grid of the diffusers scheduler that steps as that sampler does, with the folder's
     * spacing and offset. (The Karras case reads its negative prompt at the last layer in diffusers and
     * at the clip-skip layer here, so it is checked in DiffusersSchedulerTest instead.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"a_ddim:ddim", "b_euler_negative:euler", "d_euler_ancestral_two_images:euler_ancestral"})
    void generatesDiffusersImageFromTheSameSeed(String caseAndSampler) {
        String name = caseAndSampler.split(":")[0];
        Map<String, Object> c = cases.get(name);
        DiffusionPipeline pipeline = DiffusionPipeline.load(folder);
        GenerationRequest.Builder b = GenerationRequest.builder().prompt((String) c.get("prompt"))
                .guidance(((Number) c.get("guidance_scale")).doubleValue()).seed(((Number) c.get("seed")).longValue()).size(16, 16)
                .count(((Number) c.get("num_images_per_prompt")).intValue()).sampler(caseAndSampler.split(":")[1])
                .steps(((Number) c.get("num_inference_steps")).intValue());
        if (c.get("negative_prompt") instanceof String negative) {
            b.negative(negative);
        }
        try (Scope s = Scope.open(); SafetensorsFile io = Safetensors.open(folder.resolve("cases").resolve(name + ".safetensors"))) {
            GenerationResult result = pipeline.generate(b.build());
            assertTrue(result.warnings().isEmpty(), result.warnings().toString());
            assertClose(io.read("image"), result.samples().add(1).div(2), name + " image");
            assertEquals(c.get("scheduler_class"), result.metadata().get("scheduler"));
            assertEquals("leading", result.metadata().get("spacing"));
        }
    }

    /**
     * Live previews of another tool's latents: the linear map fitted to its decoder (on noise, once)
     * gives RGB in [−1, 1] at the latents' size, and on fresh latents of the same distribution it
     * explains the colour of what the decoder makes of them better than any constant colour does.
     */
    @Test
    void previewsAreFittedToTheDecoder() {
        DiffusionPipeline pipeline = DiffusionPipeline.load(folder);
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor latents = Tensor.randn(new dev.diffusion4j.tensor.Generator(7), 2, 4, 16, 16);
            Tensor preview = pipeline.preview(latents);
            assertArrayEquals(new long[] {2, 3, 16, 16}, preview.shape());
            assertTrue(preview.abs().amax().item() <= 1);
            Tensor target = sd.autoencoder().decode(sd.autoencoder().fromDiffusionLatent(latents)).clamp(-1, 1).avgPool2d(2, 2);
            double residual = preview.sub(target).square().sum().item();
            double total = target.sub(target.mean(new long[] {0, 2, 3}, true)).square().sum().item();
            double explained = 1 - residual / total;
            // the tiny random decoder is far from linear (0.04 here); a real SD decoder is nearly so, and a wrong map goes below 0
            assertTrue(explained > 0, "the preview explains " + explained + " of the colour variance");
        }
    }

    /** The folder's scheduler gives the training schedule and what the U-Net predicts; the pipeline names the U-Net's weights by hash. */
    @Test
    void theFolderIsReadAsAPipeline() {
        assertEquals(dev.diffusion4j.process.Prediction.EPSILON, sd.spec().prediction());
        assertEquals(1000, sd.spec().schedule().numTimesteps());
        assertArrayEquals(new long[] {3, 16, 16}, sd.spec().outputShape());
        assertTrue(sd.unetWeights().endsWith(Path.of("unet", "diffusion_pytorch_model.safetensors")));
        DiffusionPipeline pipeline = DiffusionPipeline.load(folder);
        assertEquals(77, pipeline.contextLength());
        assertTrue(pipeline.isLatent());
    }
}
