package dev.diffusion4j.models.sd;

import static dev.diffusion4j.models.GoldenFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.guidance.ClassifierFreeGuidance;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.DiscreteDenoiser;
import dev.diffusion4j.models.GoldenFixtures;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.SamplingListener;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole runs of diffusers' StableDiffusionPipeline reproduced by the project's samplers on diffusers'
 * grids ({@link DiffusersScheduler}): the reference's timesteps, σ's and starting scale, and its final
 * latents within 1e-4 from the same seed — DDIM to σ(0) handing on VP latents, Euler with a negative
 * prompt, DPM++ 2M with Karras levels and rounded U-Net timesteps, Euler ancestral drawing its fresh
 * noise from the seed's generator in diffusers' order (the sd_pipeline fixture).
 */
class DiffusersSchedulerTest {
    private static Path folder;
    private static StableDiffusionFolder.Loaded sd;
    private static Map<String, Map<String, Object>> cases;

    @BeforeAll
    static void load() {
        folder = GoldenFixtures.folder("sd_pipeline");
        sd = StableDiffusionFolder.load(folder);
        cases = GoldenFixtures.cases(folder);
    }

    @SuppressWarnings("unchecked")
    private static DiffusersScheduler plan(Map<String, Object> c) {
        return DiffusersScheduler.of((String) c.get("scheduler_class"), (Map<String, Object>) c.get("scheduler_config"), sd.spec().schedule(),
                ((Number) c.get("num_inference_steps")).intValue());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a_ddim", "b_euler_negative", "c_dpmpp_2m_karras_clip_skip", "d_euler_ancestral_two_images"})
    void reproducesDiffusersWholeRun(String name) {
        Map<String, Object> c = cases.get(name);
        DiffusersScheduler plan = plan(c);
        int clipSkip = c.get("clip_skip") instanceof Number n ? n.intValue() : 0;
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open();
             SafetensorsFile io = Safetensors.open(folder.resolve("cases").resolve(name + ".safetensors"))) {
            // the grid: diffusers' timesteps, σ's and starting scale
            double[] timesteps = io.read("timesteps").toDoubleArray();
            if (plan.timesteps() != null) {
                assertArrayEquals(timesteps, plan.timesteps(), 1e-9, name + " timesteps");
            }
            if (io.names().contains("sigmas")) {
                assertArrayEquals(io.read("sigmas").toDoubleArray(), plan.sigmas(), 2e-5 * plan.sigmas()[0], name + " sigmas");
            }
            double init = io.read("init_noise_sigma").toDoubleArray()[0];
            double expectedStart = init == 1 ? Math.sqrt(1 + plan.sigmas()[0] * plan.sigmas()[0]) : init;   // VP latents n are VE n·√(1+σ²)
            assertEquals(expectedStart, plan.startScale(), 2e-5 * expectedStart, name + " starting scale");

            StableDiffusionNetwork net = sd.network();
            double[] levels = java.util.Arrays.copyOf(plan.sigmas(), plan.sigmas().length - 1);
            DiscreteDenoiser model = new DiscreteDenoiser(net, sd.spec().schedule(), sd.spec().prediction());
            Denoiser pinned = plan.timesteps() == null ? model : model.withTimesteps(levels, plan.timesteps());
            String negative = c.get("negative_prompt") instanceof String t ? t : "";
            Denoiser guided = new ClassifierFreeGuidance(pinned, new ClassifierFreeGuidance.Options(
                    Condition.ofFeatures(net.promptFeatures((String) c.get("prompt"), clipSkip)),
                    Condition.ofFeatures(net.promptFeatures(negative, 0)),
                    ((Number) c.get("guidance_scale")).doubleValue(), 0, Double.POSITIVE_INFINITY, 0));

            Generator g = new Generator(((Number) c.get("seed")).longValue());
            Tensor expectedStartNoise = io.read("initial_latents");
            Tensor noise = Tensor.randn(g, expectedStartNoise.shape());
            assertEquals(0.0, noise.sub(expectedStartNoise).abs().amax().item(), 0.0, name + " starting noise");
            double sigma0 = plan.sigmas()[0];
            Tensor x = Samplers.create(plan.sampler(), SamplerOptions.DEFAULTS).sample(guided,
                    noise.mul(plan.startScale() / guided.initNoiseScale(sigma0)), plan.sigmas(), g, SamplingListener.NONE);
            double end = plan.sigmas()[plan.sigmas().length - 1];
            Tensor latents = plan.vpOutput() ? x.div(Math.sqrt(1 + end * end)) : x;
            assertClose(io.read("final_latents"), latents, name + " final latents");
        }
    }

    /** What is not reproduced yet says so by name instead of running another grid. */
    @Test
    void unreproducedSchedulersAreNamed() {
        Map<String, Object> config = Map.of("timestep_spacing", "trailing");
        String m = assertThrows(DiffusionException.class, () -> DiffusersScheduler.of("DDIMScheduler", config, sd.spec().schedule(), 3))
                .getMessage();
        assertTrue(m.contains("lands each step on t − 333"), m);
        assertTrue(assertThrows(DiffusionException.class, () -> DiffusersScheduler.of("LMSDiscreteScheduler", Map.of(), sd.spec().schedule(),
                3)).getMessage().contains("LMSDiscreteScheduler"));
        // trailing with a step count dividing T lands on its own grid
        assertEquals(4, DiffusersScheduler.of("DDIMScheduler", Map.of("timestep_spacing", "trailing"), sd.spec().schedule(), 4).timesteps().length);
    }
}
