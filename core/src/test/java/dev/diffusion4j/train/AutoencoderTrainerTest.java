package dev.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.eval.Reconstruction;
import dev.diffusion4j.io.Checkpoint;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.models.vae.AutoencoderKLConfig;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutoencoderTrainerTest {
    private static final String D = AutoencoderKLConfig.DOWN;
    private static final String U = AutoencoderKLConfig.UP;

    /** Grey 28×28 images to 7×7×{@code latent} latents (factor 4). */
    private static AutoencoderKLConfig small(int width, int latent) {
        return new AutoencoderKLConfig(1, 1, List.of(D, D, D), List.of(U, U, U), List.of(width, 2 * width, 2 * width), 1,
                Activation.SILU, latent, 4, 28, 1.0, null, true, true, false);
    }

    private static AutoencoderRecipe.Builder tinyRecipe() {
        return AutoencoderRecipe.builder("fashion-mnist-test").steps(6).batchSize(4).warmupSteps(1).emaDecay(0.9).discStart(3)
                .criticWarmup(1).perceptualSteps(8).checkpointEvery(3).precision(Precision.FP32).seed(7);
    }

    /** The tiny recipe's run in {@code dir}, stopped after step 3 (its checkpoint written) as if interrupted. */
    private static AutoencoderTrainer runUntilStep3(Path dir) {
        AutoencoderTrainer first = AutoencoderTrainer.create(dir, tinyRecipe().build(), small(4, 2), ClassifierTraining.Listener.NONE);
        first.run(new TrainListener() {
            @Override
            public boolean stopRequested() {
                return first.step() == 3;
            }
        });
        return first;
    }

    /**
     * An interrupted and resumed run ends with the same autoencoder, EMA and critic as an
     * uninterrupted one, bit for bit — across the critic's start (it learns alone at step 2, its
     * term enters at step 3, where the run is cut) and with the perceptual network read back from
     * the checkpoint.
     */
    @Test
    void resumesExactly(@TempDir Path tmp) {
        try (Scope s = Scope.open()) {
            Path whole = tmp.resolve("whole");
            AutoencoderTrainer.create(whole, tinyRecipe().build(), small(4, 2), ClassifierTraining.Listener.NONE).run(TrainListener.NONE);
            Path parts = tmp.resolve("parts");
            assertEquals(3, runUntilStep3(parts).step());
            AutoencoderTrainer resumed = AutoencoderTrainer.resume(parts, 0);
            assertEquals(3, resumed.step());
            resumed.run(TrainListener.NONE);

            Checkpoint a = Checkpoint.open(whole);
            Checkpoint b = Checkpoint.open(parts);
            assertEquals(6, a.step());
            for (String file : List.of(Checkpoint.MODEL_FILE, Checkpoint.EMA_FILE, Checkpoint.DISCRIMINATOR_FILE, Checkpoint.PERCEPTUAL_FILE)) {
                Map<String, Tensor> wa = a.weights(file);
                Map<String, Tensor> wb = b.weights(file);
                assertEquals(wa.keySet(), wb.keySet(), file);
                wa.forEach((k, v) -> assertTrue(v.equal(wb.get(k)), file + " " + k + " differs after resume"));
            }
            assertTrue(resumed.log().stream().anyMatch(e -> e.adaptiveWeight() > 0 && e.critic() > 0),
                    "the critic's term is on from step 3: " + resumed.log());
            assertTrue(resumed.log().stream().filter(e -> e.step() <= 2).allMatch(e -> e.adaptiveWeight() == 0 && e.critic() == 0));
            assertTrue(resumed.log().stream().filter(e -> e.step() == 3).allMatch(e -> e.adaptiveWeight() == 0 && e.critic() > 0),
                    "the critic learns alone at step 2 (logged as 3): " + resumed.log());
            assertEquals(1, resumed.log().stream().filter(e -> e.step() == 3).count());
            AutoencoderKL ema = AutoencoderTrainer.load(parts, true);
            ema.stateDict().forEach((k, v) -> assertTrue(v.equal(b.weights(Checkpoint.EMA_FILE).get(k)), k));
        }
    }

    /**
     * A resumed run applies changed settings from its next step: cut at step 3 and resumed with the
     * critic's weight at 0, it ends with the autoencoder of a run that never had the critic's term
     * (which would have entered at step 3), says what changed, records it in its checkpoint, and
     * refuses to change what the checkpoint fixes.
     */
    @Test
    void resumeAppliesChangedSettingsFromTheNextStep(@TempDir Path tmp) {
        try (Scope s = Scope.open()) {
            Path without = tmp.resolve("without");
            AutoencoderTrainer.create(without, tinyRecipe().discWeight(0).build(), small(4, 2), ClassifierTraining.Listener.NONE)
                    .run(TrainListener.NONE);
            Path parts = tmp.resolve("parts");
            runUntilStep3(parts);
            AutoencoderTrainer resumed = AutoencoderTrainer.resume(parts, b -> b.discWeight(0));
            assertEquals(List.of("disc_weight 0.05 → 0.0"), resumed.changedOnResume());
            resumed.run(TrainListener.NONE);
            assertTrue(resumed.log().stream().filter(e -> e.step() > 3).allMatch(e -> e.adaptiveWeight() == 0 && e.critic() == 0),
                    "no critic after the change: " + resumed.log());
            Map<String, Tensor> a = Checkpoint.open(without).weights(Checkpoint.MODEL_FILE);
            Map<String, Tensor> b = Checkpoint.open(parts).weights(Checkpoint.MODEL_FILE);
            a.forEach((k, v) -> assertTrue(v.equal(b.get(k)), k + " differs from the run without the critic's term"));
            assertEquals(0.0, AutoencoderTrainer.resume(parts, 0).recipe().discWeight(), "the checkpoint records the change");
            assertTrue(AutoencoderTrainer.resume(parts, 0).changedOnResume().isEmpty());

            String fixed = assertThrows(DiffusionException.class, () -> AutoencoderTrainer.resume(parts, r -> r.seed(8).discWidth(8)))
                    .getMessage();
            assertTrue(fixed.contains("seed 7 → 8") && fixed.contains("disc_width 32 → 8"), fixed);
            String ema = assertThrows(DiffusionException.class, () -> AutoencoderTrainer.resume(parts, r -> r.emaDecay(0))).getMessage();
            assertTrue(ema.contains("ema_decay"), ema);
        }
    }

    /**
     * A short run already reconstructs held-out images better than the baseline with as many numbers
     * per image: 7×7×1 latents against 7×7 area averages upsampled bilinearly — in PSNR, SSIM and
     * reconstruction FID under the shipped Fashion-MNIST classifier.
     */
    @Test
    void beatsAreaDownBilinearUpOnHeldOutImages(@TempDir Path tmp) {
        try (Scope s = Scope.open()) {
            AutoencoderRecipe recipe = AutoencoderRecipe.builder("fashion-mnist").steps(300).batchSize(32).lr(3e-3).warmupSteps(20)
                    .emaDecay(0).perceptualWeight(0).discWeight(0).checkpointEvery(1000).precision(Precision.FP32).build();
            AutoencoderTrainer trainer = AutoencoderTrainer.create(tmp, recipe, small(8, 1), ClassifierTraining.Listener.NONE);
            trainer.run(TrainListener.NONE);
            Reconstruction.Report r = Reconstruction.evaluate(AutoencoderTrainer.load(tmp, false), ImageDatasets.fashionMnistTest(), 1000,
                    ImageClassifier.fashionMnist());
            assertTrue(r.psnr() > r.baselinePsnr() + 1, r.toMap().toString());
            assertTrue(r.ssim() > r.baselineSsim(), r.toMap().toString());
            assertTrue(r.rfid() < r.baselineRfid(), r.toMap().toString());
        }
    }

    @Test
    void badInputIsRefusedBeforeAnythingIsWritten(@TempDir Path tmp) {
        AutoencoderKLConfig rgb = new AutoencoderKLConfig(3, 3, List.of(D, D, D), List.of(U, U, U), List.of(4, 8, 8), 1,
                Activation.SILU, 2, 4, 28, 1.0, null, true, true, false);
        String channels = assertThrows(DiffusionException.class, () -> AutoencoderTrainer.create(tmp.resolve("a"), tinyRecipe().build(),
                rgb, ClassifierTraining.Listener.NONE)).getMessage();
        assertTrue(channels.contains("1-channel") && channels.contains("reads 3"), channels);
        String factor = assertThrows(DiffusionException.class, () -> AutoencoderTrainer.create(tmp.resolve("b"),
                tinyRecipe().imageSize(30).build(), small(4, 2), ClassifierTraining.Listener.NONE)).getMessage();
        assertTrue(factor.contains("30x30") && factor.contains("factor 4"), factor);
        String vectors = assertThrows(DiffusionException.class, () -> AutoencoderTrainer.create(tmp.resolve("c"),
                AutoencoderRecipe.builder("moons").build(), small(4, 2), ClassifierTraining.Listener.NONE)).getMessage();
        assertTrue(vectors.contains("vector data"), vectors);
        assertThrows(DiffusionException.class, () -> AutoencoderTrainer.resume(tmp.resolve("d"), 0));
        String unknown = assertThrows(DiffusionException.class, () -> AutoencoderRecipe.fromConfig(Map.of("data", "x", "beta", 1)))
                .getMessage();
        assertTrue(unknown.contains("'beta'"), unknown);
        for (String dir : List.of("a", "b", "c")) {
            assertFalse(Files.exists(tmp.resolve(dir).resolve("checkpoint-00000000")), dir);
        }
    }

    @Test
    void recipeRoundTripsThroughItsConfig() {
        AutoencoderRecipe r = tinyRecipe().perceptualNetwork("net.safetensors").klWeight(2e-6).build();
        assertEquals(r, AutoencoderRecipe.fromConfig(r.toConfig()));
    }
}
