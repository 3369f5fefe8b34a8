package dev.diffusion4j.train;

import dev.diffusion4j.io.Checkpoint;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TrainerTest {
    static final MlpConfig SMALL = new MlpConfig(2, 32, 1, 16, Activation.SILU, 0, 1.0);
    static final NoiseSchedule SCHEDULE = NoiseSchedule.of(BetaSchedule.LINEAR, 100);

    static TrainingRecipe small(String data, int steps, int every) {
        return TrainingRecipe.forVectors(data).seed(7).steps(steps).batchSize(128).lr(2e-3).warmupSteps(20).emaDecay(0.99)
                .snrGamma(5.0).checkpointEvery(every).build();
    }

    @Test
    void lossDecreasesAndCheckpointHoldsEverything(@TempDir Path dir) throws Exception {
        Trainer t = Trainer.create(dir, small("8gaussians", 400, 200), SMALL, SCHEDULE);
        Path ckpt = t.run(TrainListener.NONE);
        List<double[]> log = t.lossLog();
        double early = log.subList(0, 20).stream().mapToDouble(e -> e[1]).average().orElseThrow();
        double late = log.subList(log.size() - 20, log.size()).stream().mapToDouble(e -> e[1]).average().orElseThrow();
        assertTrue(late < 0.75 * early, "loss must fall by a quarter: " + early + " -> " + late);
        assertEquals(CheckpointStore.dirName(400), ckpt.getFileName().toString());
        for (String f : new String[] {Checkpoint.CONFIG_FILE, Checkpoint.MODEL_FILE, Checkpoint.EMA_FILE, Checkpoint.OPTIMIZER_FILE, Checkpoint.STATE_FILE}) {
            assertTrue(Files.size(ckpt.resolve(f)) > 0, f);
        }
        CheckpointStore.verify(ckpt);
        Map<String, Object> cfg = Checkpoint.readConfig(ckpt);
        assertEquals(Checkpoint.FORMAT_VERSION, cfg.get("format_version"));
        assertEquals("8gaussians", ((Map<?, ?>) cfg.get("data")).get("source"));
        assertEquals(2, CheckpointStore.list(dir).size(), "keeps the newest two");
    }

    /**
     * An interrupted run resumed from its last checkpoint ends bit-identical to an uninterrupted one;
     * a class-conditional run also restores its condition-dropout stream.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void resumeReproducesTheUninterruptedRunExactly(boolean conditional, @TempDir Path dir) throws Exception {
        Path straight = dir.resolve("straight");
        Path broken = dir.resolve("broken");
        String data = conditional ? "8gaussians" : "moons";
        MlpConfig arch = conditional ? SMALL.withNumClasses(8) : SMALL;
        Trainer.create(straight, small(data, 240, 80), arch, SCHEDULE).run(TrainListener.NONE);
        Trainer first = Trainer.create(broken, small(data, 240, 80), arch, SCHEDULE);
        RuntimeException crash = assertThrows(RuntimeException.class, () -> first.run(new TrainListener() {
            @Override
            public void onStep(long step, long total, double loss, double lr) {
                if (step == 200) {
                    throw new IllegalStateException("simulated crash");
                }
            }
        }));
        assertEquals("simulated crash", crash.getMessage());
        assertEquals(160, CheckpointStore.step(CheckpointStore.latest(broken).orElseThrow()));
        Trainer resumed = Trainer.resume(broken, 0);
        assertEquals(160, resumed.step());
        resumed.run(TrainListener.NONE);
        assertSameWeights(straight, broken, Checkpoint.MODEL_FILE);
        assertSameWeights(straight, broken, Checkpoint.EMA_FILE);
        assertEquals(Trainer.resume(straight, 0).lossLog().size(), Trainer.resume(broken, 0).lossLog().size());
    }

    /** A listener can ask for a checkpoint at any step and stop the run early; the stopped run resumes exactly. */
    @Test
    void requestedCheckpointsAndAStopResumeExactly(@TempDir Path dir) throws Exception {
        Path straight = dir.resolve("straight");
        Path stopped = dir.resolve("stopped");
        Trainer.create(straight, small("moons", 200, 80), SMALL, SCHEDULE).run(TrainListener.NONE);
        java.util.List<Long> saved = new java.util.ArrayList<>();
        Path last = Trainer.create(stopped, small("moons", 200, 80), SMALL, SCHEDULE).run(new TrainListener() {
            private long step;

            @Override
            public void onStep(long s, long total, double loss, double lr) {
                step = s;
            }

            @Override
            public boolean checkpointRequested() {
                return step == 50;
            }

            @Override
            public boolean stopRequested() {
                return step == 123;
            }

            @Override
            public void onCheckpoint(Path checkpoint) {
                saved.add(CheckpointStore.step(checkpoint));
            }
        });
        assertEquals(List.of(50L, 80L, 123L), saved);
        assertEquals(CheckpointStore.dirName(123), last.getFileName().toString());
        Trainer.resume(stopped, 0).run(TrainListener.NONE);
        assertSameWeights(straight, stopped, Checkpoint.MODEL_FILE);
    }

    /**
     * A text-conditioned model on a folder of captioned images learns from those captions (the folder
     * has no class sub-folders, so there is nothing else to build captions from), and a stopped run
     * resumes exactly, condition dropout included.
     */
    @Test
    void textModelsTrainOnTheImagesOwnCaptionsAndResumeExactly(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("squares");
        Files.createDirectories(folder);
        StringBuilder metadata = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
            java.awt.Graphics2D g = img.createGraphics();
            g.setColor(i % 2 == 0 ? java.awt.Color.RED : java.awt.Color.BLUE);
            g.fillRect(2 + i % 4, 3, 8, 8);
            g.dispose();
            javax.imageio.ImageIO.write(img, "png", folder.resolve("s" + i + ".png").toFile());
            metadata.append("{\"file_name\": \"s").append(i).append(".png\", \"text\": \"a ").append(i % 2 == 0 ? "red" : "blue")
                    .append(" square\"}\n");
        }
        Files.writeString(folder.resolve("metadata.jsonl"), metadata);
        dev.diffusion4j.model.TextUNet2DConfig net = new dev.diffusion4j.model.TextUNet2DConfig(
                dev.diffusion4j.model.UNet2DConfig.defaults(3, 16).withBlockOutChannels(16, 32).withCrossAttention(16),
                new dev.diffusion4j.model.TextEncoderConfig(dev.diffusion4j.text.ClipTokenizer.VOCAB_SIZE, 8, 16, 1, 4));
        TrainingRecipe recipe = TrainingRecipe.forImages(folder.toString()).seed(3).steps(6).batchSize(4).warmupSteps(1)
                .checkpointEvery(3).sampleEvery(0).condDropout(0.5).precision(dev.diffusion4j.tensor.Precision.FP32).build();
        Trainer.create(dir.resolve("straight"), recipe, net, SCHEDULE).run(TrainListener.NONE);
        Trainer first = Trainer.create(dir.resolve("stopped"), recipe, net, SCHEDULE);
        first.run(new TrainListener() {
            @Override
            public boolean stopRequested() {
                return first.step() == 3;
            }
        });
        Trainer.resume(dir.resolve("stopped"), 0).run(TrainListener.NONE);
        assertSameWeights(dir.resolve("straight"), dir.resolve("stopped"), Checkpoint.MODEL_FILE);
        Map<String, Object> data = (Map<String, Object>) Checkpoint.readConfig(CheckpointStore.latest(dir.resolve("stopped"))
                .orElseThrow()).get("data");
        assertFalse(data.containsKey("class_names"), "prompts are free text, not class names: " + data);
    }

    /** The newest checkpoints of two runs hold bit-identical tensors in {@code file}. */
    static void assertSameWeights(Path runA, Path runB, String file) throws Exception {
        try (Scope s = Scope.open();
             SafetensorsFile a = Safetensors.open(CheckpointStore.latest(runA).orElseThrow().resolve(file));
             SafetensorsFile b = Safetensors.open(CheckpointStore.latest(runB).orElseThrow().resolve(file))) {
            Map<String, Tensor> wa = a.readAll();
            Map<String, Tensor> wb = b.readAll();
            assertEquals(wa.keySet(), wb.keySet());
            for (String k : wa.keySet()) {
                assertTrue(wa.get(k).equal(wb.get(k)), file + " " + k + " differs after resume");
            }
        }
    }

    @Test
    void divergenceStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) {
        TrainingRecipe wild = TrainingRecipe.forVectors("8gaussians").seed(1).steps(500).batchSize(64).lr(1e9).warmupSteps(0)
                .gradClip(0).emaDecay(0).snrGamma(5.0).checkpointEvery(2).build();
        Trainer t = Trainer.create(dir, wild, SMALL, SCHEDULE);
        DiffusionException e = assertThrows(DiffusionException.class, () -> t.run(TrainListener.NONE));
        assertTrue(e.getMessage().startsWith("training diverged at step "), e.getMessage());
        assertTrue(e.getMessage().contains("learning_rate"), e.getMessage());
        long lastGood = CheckpointStore.latest(dir).map(CheckpointStore::step).orElse(0L);
        assertTrue(lastGood < t.step() + 1, "no checkpoint is written at or after the diverged step");
    }

    @Test
    void runDirectoryRules(@TempDir Path dir) {
        Trainer.create(dir, small("moons", 10, 10), SMALL, SCHEDULE).run(TrainListener.NONE);
        DiffusionException again = assertThrows(DiffusionException.class, () -> Trainer.create(dir, small("moons", 10, 10), SMALL, SCHEDULE));
        assertTrue(again.getMessage().contains("resume it"), again.getMessage());
        DiffusionException nothing = assertThrows(DiffusionException.class, () -> Trainer.resume(dir.resolve("empty"), 0));
        assertTrue(nothing.getMessage().contains("nothing to resume"), nothing.getMessage());
        DiffusionException dims = assertThrows(DiffusionException.class,
                () -> Trainer.create(dir.resolve("x"), small("moons", 10, 10), new MlpConfig(3, 8, 1, 8, Activation.SILU, 0, 1), SCHEDULE));
        assertTrue(dims.getMessage().contains("2 dimensions"), dims.getMessage());
    }
}
