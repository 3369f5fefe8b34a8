package dev.diffusion4j.studio;

import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.train.TrainListener;
import dev.diffusion4j.train.Trainer;
import dev.diffusion4j.train.TrainingRecipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Training a 2D MLP as a job: the loss of every logged step and, every few hundred steps, samples
 * of the current network as events. A checkpoint can be asked for at any step; cancelling stops at the
 * next step with a checkpoint, from which a {@code resume} job continues exactly (the trainer restores
 * weights, optimizer, EMA and generators).
 */
final class LiveTraining {
    static final int MAX_STEPS = 200_000;
    /** Points per snapshot and the sampler that draws them (fixed noise, so snapshots show the model change). */
    static final int SNAPSHOT_POINTS = 1000;
    static final int SNAPSHOT_STEPS = 25;
    static final int MAX_SNAPSHOTS = 200;
    /** Loss events per run at most (one per logged step). */
    static final int LOSS_EVENTS = 1000;

    private final Models models;

    LiveTraining(Models models) {
        this.models = models;
    }

    Job.Work prepare(Params p, JobQueue queue) {
        if (queue.busyWith("train")) {
            throw new ApiException(409, "a training run is already queued or running; stop it first");
        }
        int snapshotEvery = p.integer("snapshotEvery", 250, 1, MAX_STEPS);
        if (p.has("resume")) {
            String name = p.required("resume");
            Path dir = models.dir(name);
            if (models.info(name).image()) {
                throw ApiException.badRequest(name + " is an image model; the studio trains 2D models (train images with 'diffuse train')");
            }
            int steps = p.integer("steps", 0, 0, MAX_STEPS);
            return job -> run(Trainer.resume(dir, steps), name, snapshotEvery, job);
        }
        Toy2D data = Explorer.dataset(p);
        int steps = p.integer("steps", 3000, 1, MAX_STEPS);
        int batch = p.integer("batchSize", 256, 1, 8192);
        double lr = p.number("lr", 1e-3, 0, 1, true, false);
        long seed = p.integer("seed", 0L, 0L, Long.MAX_VALUE);
        String name = p.string("name", "studio-" + data.name(), 64);
        Path dir = models.dir(name);
        if (Files.isDirectory(dir) && CheckpointStore.latest(dir).isPresent()) {
            throw new ApiException(409, "model '" + name + "' already exists; resume it or choose another name");
        }
        TrainingRecipe.Builder defaults = TrainingRecipe.forVectors(data.name());
        TrainingRecipe config = defaults.lr(lr).batchSize(batch).steps(steps).seed(seed)
                .checkpointEvery(Math.max(1, Math.min(defaults.build().checkpointEvery(), steps))).build();
        return job -> run(Trainer.create(dir, config, MlpConfig.defaults(data.dim()), NoiseSchedule.of(BetaSchedule.LINEAR, 1000)),
                name, snapshotEvery, job);
    }

    private static Map<String, Object> run(Trainer trainer, String name, int requestedSnapshotEvery, Job job) {
        long total = trainer.config().steps();
        int lossEvery = (int) Math.max(1, total / LOSS_EVENTS);
        // each snapshot samples the network, so there are at most MAX_SNAPSHOTS of them
        long snapshotEvery = Math.max(requestedSnapshotEvery, (total + MAX_SNAPSHOTS - 1) / MAX_SNAPSHOTS);
        Path last = trainer.run(new TrainListener() {
            @Override
            public void onStep(long step, long totalSteps, double loss, double lr) {
                job.at(step, totalSteps);
                if (step % lossEvery == 0 || step == totalSteps) {
                    job.progress(step, totalSteps, Map.of("loss", loss, "lr", lr));
                }
                if (step % snapshotEvery == 0 || step == totalSteps) {
                    job.emit("snapshot", Map.of("step", step, "points", snapshot(trainer)));
                }
            }

            @Override
            public boolean stopRequested() {
                return job.cancelRequested();
            }

            @Override
            public boolean checkpointRequested() {
                return job.takeCheckpointRequest();
            }

            @Override
            public void onCheckpoint(Path checkpoint) {
                job.emit("checkpoint", Map.of("step", trainer.step(), "checkpoint", checkpoint.getFileName().toString()));
            }
        });
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", name);
        m.put("step", trainer.step());
        m.put("total", total);
        m.put("checkpoint", last.getFileName().toString());
        return m;
    }

    /** Samples of the network as it is now (not its EMA), with the same noise every time. */
    static float[] snapshot(Trainer trainer) {
        try (Scope s = Scope.open()) {
            DiffusionPipeline now = DiffusionPipeline.of("training", trainer.spec(), trainer.network().stateDict());
            return Points.of(now.generate(Explorer.request("ddim", SNAPSHOT_STEPS, SNAPSHOT_POINTS, 20_240_601)).samples());
        }
    }
}
