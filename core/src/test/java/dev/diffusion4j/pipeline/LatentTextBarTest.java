package dev.diffusion4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.eval.ClipScore;
import dev.diffusion4j.model.ClipConfig;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.model.TextEncoderConfig;
import dev.diffusion4j.model.TextUNet2DConditionConfig;
import dev.diffusion4j.model.UNet2DConfig;
import dev.diffusion4j.models.vae.AutoencoderKLConfig;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.AutoencoderRecipe;
import dev.diffusion4j.train.AutoencoderTrainer;
import dev.diffusion4j.train.ClassCaptionBatches;
import dev.diffusion4j.train.ClassifierTraining;
import dev.diffusion4j.train.ClipTraining;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The latent text-to-image path end to end on Fashion-MNIST: an autoencoder, a CLIP model, Stable
 * Diffusion's U-Net trained on the latents reading prompts through the CLIP model's frozen text
 * tower; its samples for "a photo of a {class}" are matched back to their prompts by the CLIP model
 * well above chance.
 */
@Tag("quality")
class LatentTextBarTest {
    private static final String DATA = "fashion-mnist-test";

    @Test
    void samplesOfALatentTextModelAreMatchedToTheirPromptsByClip(@TempDir Path dir) {
        // 1. an autoencoder 28x28 -> 4x14x14: L1 + KL only (no perceptual network, no critic)
        AutoencoderRecipe vaeRecipe = AutoencoderRecipe.builder(DATA).steps(400).batchSize(32).perceptualWeight(0).discWeight(0)
                .checkpointEvery(400).build();
        AutoencoderTrainer vaeTrainer = AutoencoderTrainer.create(dir.resolve("vae-run"), vaeRecipe,
                AutoencoderKLConfig.of(1, 28, List.of(16, 32), 1, 4, 8), ClassifierTraining.Listener.NONE);
        Path vaeCkpt = vaeTrainer.run(TrainListener.NONE);
        AutoencoderTrainer.exportFolder(vaeCkpt, vaeTrainer.data(), dir.resolve("vae-run/vae"));

        // 2. a CLIP model on the same class-name captions
        ImageDataset images = (ImageDataset) DataSources.open(DATA, new ImageOptions(null, null, false));
        Path clipDir = dir.resolve("clip");
        try (Scope s = Scope.open()) {
            ClipTraining.train(ClipConfig.of(1, 28), ClassCaptionBatches.of(images), ClipTraining.Options.defaults().withSteps(300)
                    .withWarmupSteps(30), TrainListener.NONE).save(clipDir);
        }

        // 3. the latent U-Net with the CLIP text tower, frozen
        TextUNet2DConditionConfig arch = TextUNet2DConditionConfig.of(UNet2DConfig.defaults(4, 14, 32, 64),
                TextEncoderConfig.defaults());
        TrainingRecipe recipe = TrainingRecipe.forImages(DATA).steps(1500).batchSize(64).checkpointEvery(1500).sampleEvery(0)
                .latent(dir.resolve("vae-run").toString()).textEncoder(clipDir.toString()).build();
        Trainer.create(dir.resolve("latent"), recipe, arch, NoiseSchedule.of(BetaSchedule.LINEAR, 1000)).run(TrainListener.NONE);

        // 4. samples for each class's prompt, matched back among the ten prompts
        DiffusionPipeline pipe = DiffusionPipeline.load(dir.resolve("latent"));
        try (Scope s = Scope.open()) {
            ClipModel clip = ClipModel.load(clipDir);
            List<Tensor> samples = new ArrayList<>();
            List<String> prompts = new ArrayList<>();
            List<String> classes = images.classNames();
            for (int k = 0; k < classes.size(); k++) {
                String prompt = "a photo of a " + classes.get(k).toLowerCase(Locale.ROOT);
                GenerationRequest r = GenerationRequest.builder().model(dir.resolve("latent").toString()).prompt(prompt).count(20)
                        .seed(k).sampler("ddim").steps(25).guidance(3).build();
                samples.add(pipe.generate(r).samples());
                for (int i = 0; i < 20; i++) {
                    prompts.add(prompt);
                }
            }
            Tensor all = Tensor.cat(samples, 0);
            double retrieval = ClipScore.retrievalAccuracy(clip, all, prompts);
            ClipScore.Score generated = ClipScore.score(clip, all, prompts);
            ClipScore.Score real = ClipScore.realPairs(clip, ClassCaptionBatches.of(images), 200, 1);
            String figures = String.format(Locale.ROOT, "retrieval %.2f (chance 0.10), CLIP score %.2f vs %.2f for real pairs (%.0f%%)",
                    retrieval, generated.clipScore(), real.clipScore(), 100 * generated.share(real));
            System.out.println("latent text bar: " + figures);
            // measured: retrieval 0.77, CLIP score 92% of real pairs'; a prompt that does not reach the U-Net gives 0.10
            assertTrue(retrieval > 0.5, "samples match their prompts far above chance: " + figures);
            assertTrue(generated.share(real) > 0.8, "the samples' CLIP score is at least 80% of real pairs': " + figures);
        }
    }
}
