package dev.diffusion4j.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.Version;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.SamplingStep;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.schedule.SigmaSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineTest {
    private static final NoiseSchedule SCHEDULE = NoiseSchedule.of(BetaSchedule.LINEAR, 200);

    @TempDir
    static Path dir;

    @BeforeAll
    static void train() {
        Trainer.create(dir, TrainingRecipe.forVectors("circles").steps(300).checkpointEvery(300).build(),
                new MlpConfig(2, 32, 1, 16, Activation.SILU, 8, 1.0), SCHEDULE).run(TrainListener.NONE);
    }

    private static GenerationRequest.Builder request() {
        return GenerationRequest.builder().model(dir.toString()).count(500).sampler("ddim").steps(20);
    }

    @Test
    void samplesAreSeededAndInDataUnits() {
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        assertTrue(pipe.usesEmaWeights());
        try (Scope s = Scope.open()) {
            GenerationResult a = pipe.generate(request().seed(1).build());
            Tensor b = pipe.generate(request().seed(1).build()).samples();
            Tensor c = pipe.generate(request().seed(2).build()).samples();
            assertArrayEquals(new long[] {500, 2}, a.samples().shape());
            assertTrue(a.samples().equal(b));
            assertFalse(a.samples().equal(c));
            assertEquals(20, a.metadata().evaluations(), "one evaluation per DDIM step");
            // circles has radii 1 and 2: the mean radius of samples is near 1.5, not the normalised ~1
            double meanRadius = a.samples().norm(1, false).mean().item();
            assertEquals(1.5, meanRadius, 0.35);
        }
    }

    /** The metadata says what really ran: the sampler's own step count when none was asked for, never 0. */
    @Test
    void metadataIsCompleteAndResolved() {
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        Checkpoint ckpt = Checkpoint.open(dir);
        try (Scope s = Scope.open()) {
            GenerationResult r = pipe.generate(GenerationRequest.builder().model(dir.toString()).count(8).sampler("ddim").seed(5).build());
            Map<String, Object> m = r.metadata().asMap();
            assertEquals("diffusion4j " + Version.VERSION, m.get("software"));
            assertEquals(dir.getFileName().toString(), m.get("model"));
            assertEquals(ckpt.sha256(Checkpoint.EMA_FILE).substring(0, 16), m.get("model_hash"));
            assertEquals("ema", m.get("weights"));
            assertEquals(300L, m.get("checkpoint_step"));
            assertEquals(50, r.metadata().steps(), "DDIM's default of 50 steps, capped at the 200 training steps");
            assertEquals(50L, r.metadata().evaluations());
            assertEquals(5L, m.get("seed"));
            assertEquals(8, m.get("num"));
            assertEquals("default", m.get("sigma_schedule"));
            assertEquals(SCHEDULE.sigmasForSampling()[199], (double) m.get("sigma_max"), 1e-12);
            // trailing spacing of 50 of 200 steps ends on timestep 3
            assertEquals(SCHEDULE.sigmasForSampling()[3], (double) m.get("sigma_min"), 1e-12);
            assertEquals("static", m.get("threshold"));
            assertFalse(m.containsKey("eta"), "options left at their defaults are not listed");
            r.metadata().asText().forEach((k, v) -> assertEquals(String.valueOf(m.get(k)), v, k));

            GenerationResult karras = pipe.generate(request().count(4).sampler("heun").steps(7).grid(
                    request().build().grid().withSteps(7).withSchedule(SigmaSchedule.KARRAS).withRho(5)).samplerOptions(
                    SamplerOptions.DEFAULTS.withSNoise(1.5)).build());
            Map<String, Object> k = karras.metadata().asMap();
            assertEquals(7, karras.metadata().steps());
            assertEquals(13L, karras.metadata().evaluations(), "Heun: two evaluations per step but the last");
            assertEquals("karras", k.get("sigma_schedule"));
            assertEquals(5.0, k.get("rho"));
            assertEquals(1.5, k.get("s_noise"));
        }
    }

    /** The metadata is complete: the request it describes, rebuilt from its text, gives the same samples. */
    @Test
    void metadataReproducesItsGeneration() {
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        List<GenerationRequest> requests = List.of(
                GenerationRequest.builder().count(40).seed(7).build(),
                GenerationRequest.builder().count(40).seed(8).sampler("ddim").steps(12).samplerOptions(SamplerOptions.DEFAULTS.withEta(0.5))
                        .threshold(GenerationRequest.Threshold.NONE).build(),
                GenerationRequest.builder().count(40).seed(9).sampler("heun").grid(GridSpec.steps(6).withSchedule(SigmaSchedule.KARRAS)
                        .withRho(5)).samplerOptions(SamplerOptions.DEFAULTS.withChurn(new SamplerOptions.Churn(3, 0.1, 50)).withSNoise(1.01))
                        .build(),
                GenerationRequest.builder().count(40).seed(10).sampler("dpm_fast").steps(11).build(),
                GenerationRequest.builder().count(40).seed(11).sampler("rk45").samplerOptions(SamplerOptions.DEFAULTS.withRtol(1e-3)
                        .withAtol(1e-3).withDenoiseFinal(false)).build(),
                GenerationRequest.builder().count(40).seed(12).sampler("pc").steps(5).samplerOptions(SamplerOptions.DEFAULTS
                        .withSde(dev.diffusion4j.process.Sde.SUB_VP).withSnr(0.2).withCorrectorSteps(2)).build());
        try (Scope s = Scope.open()) {
            for (GenerationRequest r : requests) {
                GenerationResult first = pipe.generate(r);
                GenerationRequest again = GenerationRequest.fromMetadata(first.metadata().asText(), dir.toString());
                GenerationResult second = pipe.generate(again);
                assertTrue(first.samples().equal(second.samples()), r.sampler() + ": the metadata's request reproduces the samples");
                assertEquals(first.metadata().asMap(), second.metadata().asMap(), r.sampler());
            }
        }
        assertEquals(11, (int) pipe.generate(requests.get(3)).metadata().asMap().get("requested_steps"), "dpm_fast's budget");
        assertMessage(() -> GenerationRequest.builder().set("temperature", "2"), "unknown request field 'temperature'");
        assertMessage(() -> GenerationRequest.builder().set("steps", "many"), "steps must be a whole number");
        assertMessage(() -> GenerationRequest.builder().set("final_denoise", "maybe"), "final_denoise must be true or false");
    }

    @Test
    void largeRequestsAreSplitIntoBatchesAndReportedPerBatch() {
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        List<int[]> seen = new ArrayList<>();
        try (Scope s = Scope.open()) {
            GenerationResult r = pipe.generate(request().count(DiffusionPipeline.MAX_BATCH + 10).steps(2).seed(3).build(),
                    (int batch, int batches, SamplingStep step) -> seen.add(new int[] {batch, batches, step.index(), step.total()}));
            assertEquals(DiffusionPipeline.MAX_BATCH + 10, r.samples().size(0));
            assertTrue(r.samples().allFinite());
            assertEquals(2, r.metadata().steps(), "the steps of one run, not of all batches");
        }
        assertEquals(4, seen.size());
        assertArrayEquals(new int[] {0, 2, 0, 2}, seen.get(0));
        assertArrayEquals(new int[] {1, 2, 1, 2}, seen.get(3));
    }

    @Test
    void clippingKeepsEstimatesInsideTheTrainingRangeUnlessTurnedOff() {
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        double[] max = pipe.spec().sampleRange().max();
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.full(1e4, 4, 2);
            float[] clipped = pipe.denoiser().denoise(x, Tensor.full(1.0, 1)).toFloatArray();
            float[] raw = pipe.denoiser(request().threshold(GenerationRequest.Threshold.NONE).build()).denoise(x, Tensor.full(1.0, 1))
                    .toFloatArray();
            boolean beyond = false;
            for (int i = 0; i < clipped.length; i++) {
                assertTrue(clipped[i] <= max[i % 2] + 1e-6, "clipped to the range");
                beyond |= raw[i] > max[i % 2] + 1e-3;
            }
            assertTrue(beyond, "without thresholding an estimate far outside the data leaves the range");
        }
    }

    @Test
    void rawWeightsAreTheLastStepsAndDifferFromTheEma() {
        DiffusionPipeline ema = DiffusionPipeline.load(dir);
        DiffusionPipeline raw = DiffusionPipeline.open(request().weights(GenerationRequest.Weights.RAW).build());
        assertFalse(raw.usesEmaWeights());
        try (Scope s = Scope.open()) {
            GenerationResult r = raw.generate(request().weights(GenerationRequest.Weights.RAW).seed(1).build());
            assertEquals("raw", r.metadata().get("weights"));
            assertFalse(r.samples().equal(ema.generate(request().seed(1).build()).samples()));
        }
        DiffusionException mismatch = assertThrows(DiffusionException.class,
                () -> ema.generate(request().weights(GenerationRequest.Weights.RAW).build()));
        assertTrue(mismatch.getMessage().contains("raw weights"), mismatch.getMessage());
    }

    /** bf16 evaluations: recorded in the metadata and reproduced from it; near the float32 samples, not the same arithmetic. */
    @Test
    void bf16EvaluationsAreRecordedAndNearFloat32() {
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        try (Scope s = Scope.open()) {
            GenerationResult fp32 = pipe.generate(request().seed(3).build());
            GenerationResult bf16 = pipe.generate(request().seed(3).precision(Precision.BF16).build());
            assertFalse(fp32.metadata().asMap().containsKey("precision"), "fp32 is the default and goes unsaid");
            assertEquals("bf16", bf16.metadata().asMap().get("precision"));
            assertEquals(DType.FLOAT32, bf16.samples().dtype(), "the sampler's state stays float32");
            // bf16 keeps 8 significant bits (relative rounding 2^-9): the samples move by about 1e-2 of
            // the data's scale (radii 1 and 2), far less than a seed changes them (~1)
            double moved = bf16.samples().sub(fp32.samples()).abs().mean().item();
            assertTrue(moved > 1e-4 && moved < 0.05, "mean move " + moved);
            GenerationRequest again = GenerationRequest.fromMetadata(bf16.metadata().asText(), dir.toString());
            assertEquals(Precision.BF16, again.precision());
            assertTrue(bf16.samples().equal(pipe.generate(again).samples()));
        }
        assertMessage(() -> DiffusionPipeline.open("oracle:8gaussians").generate(GenerationRequest.builder().precision(Precision.BF16)
                .build()), "exact denoiser");
        assertMessage(() -> GenerationRequest.builder().set("precision", "fp8"), "unknown precision 'fp8'");
    }

    /** Every mistake is caught before any work, and the message names the request's field. */
    @Test
    void badRequestsNameTheField() {
        DiffusionPipeline pipe = DiffusionPipeline.load(dir);
        assertMessage(() -> GenerationRequest.builder().count(0).build(), "num must be at least 1");
        assertMessage(() -> GenerationRequest.builder().guidance(3).build(), "give a class or a prompt");
        assertMessage(() -> GenerationRequest.builder().label("1").prompt("a cat").build(), "not both");
        assertMessage(() -> GenerationRequest.builder().label("1").guidance(-1).build(), "guidance must be");
        assertMessage(() -> GenerationRequest.builder().label("1").cfgRescale(2).build(), "cfg_rescale");
        assertMessage(() -> GenerationRequest.builder().label("1").classifierScale(1).guidance(2).build(), "choose one");
        assertMessage(() -> GenerationRequest.builder().size(32, 0).build(), "size needs both");
        assertMessage(() -> pipe.generate(request().label("0").build()), "not class-conditional");
        assertMessage(() -> pipe.generate(request().prompt("a ring").build()), "not text-conditioned");
        assertMessage(() -> pipe.generate(request().sampler("nope").build()), "unknown sampler 'nope'");
        assertMessage(() -> pipe.generate(request().steps(201).build()), "training timesteps");
        assertMessage(() -> pipe.generate(request().size(32, 32).build()), "size is for image models");
        assertMessage(() -> pipe.generate(request().threshold(GenerationRequest.Threshold.DYNAMIC).build()), "threshold dynamic");
        assertMessage(() -> pipe.generate(request().sampler("rk45").build()), "steps");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String part) {
        DiffusionException x = assertThrows(DiffusionException.class, e);
        assertTrue(x.getMessage().contains(part), "'" + x.getMessage() + "' should mention '" + part + "'");
        assertFalse(x.getMessage().contains("--"), "core messages name fields, not command-line flags: " + x.getMessage());
    }
}
