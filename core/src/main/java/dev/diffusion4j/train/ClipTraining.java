package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CaptionedBatches;
import dev.diffusion4j.model.ClipConfig;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.objective.ClipLoss;
import dev.diffusion4j.tensor.AdamW;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains a {@link ClipModel} from scratch on image–caption pairs with CLIP's recipe (Radford et al.
 * 2021): the symmetric InfoNCE loss of {@link ClipLoss} with a learnable temperature, AdamW with
 * β₂ = 0.98 and ε = 1e-6, linear warm-up then cosine decay, weight decay on the weights that are not
 * gains, biases or the temperature (those of two or more dimensions), and the logit scale clipped at
 * 100 after every step.
 */
public final class ClipTraining {
    /** How long and how hard to train. */
    public record Options(int steps, int batchSize, double learningRate, int warmupSteps, double weightDecay, long seed) {
        public Options {
            if (steps < 1 || batchSize < 2) {
                throw new DiffusionException("CLIP training needs at least one step and a batch of at least two pairs (the other pairs "
                        + "are each pair's negatives), got " + steps + " steps of " + batchSize);
            }
            if (!(learningRate > 0) || !(weightDecay >= 0) || warmupSteps < 0) {
                throw new DiffusionException("learning rate must be positive, weight decay and warm-up non-negative");
            }
        }

        /** 3,000 steps of 128 pairs, peak learning rate 1e-3 after 200 warm-up steps, weight decay 0.1. */
        public static Options defaults() {
            return new Options(3000, 128, 1e-3, 200, 0.1, 0);
        }

        public Options withSteps(int s) {
            return new Options(s, batchSize, learningRate, warmupSteps, weightDecay, seed);
        }

        public Options withBatchSize(int b) {
            return new Options(steps, b, learningRate, warmupSteps, weightDecay, seed);
        }

        public Options withWarmupSteps(int w) {
            return new Options(steps, batchSize, learningRate, w, weightDecay, seed);
        }

        public Options withSeed(long s) {
            return new Options(steps, batchSize, learningRate, warmupSteps, weightDecay, s);
        }
    }

    private ClipTraining() {
    }

    /**
     * A model of shape {@code config} trained on {@code data}. The listener hears of the start and
     * of every step (its symmetric loss and learning rate) and may stop the run early.
     */
    public static ClipModel train(ClipConfig config, CaptionedBatches data, Options options, TrainListener listener) {
        // measured for 300 steps of ClipTrainingTest's model on two cores shared with other jobs: 99-140 s with matrix
        // products threaded, 178-183 s with the other ops threaded (the patch stem leaves the convolutions small)
        Backend.useThreadPolicy(Backend.ThreadPolicy.BLAS_PARALLEL);
        ClipModel model = new ClipModel(config, Generator.derived(options.seed(), 0));
        Generator dataGen = Generator.derived(options.seed(), 1);
        List<Tensor> decayed = new ArrayList<>();
        List<Tensor> kept = new ArrayList<>();
        for (Tensor p : model.parameters()) {
            (p.dim() >= 2 ? decayed : kept).add(p);
        }
        LrSchedule schedule = new LrSchedule(options.learningRate(), options.warmupSteps(), options.steps(), 0.01);
        listener.onStart(0, options.steps(), model.parameterCount());
        model.train(true);
        try (AdamW withDecay = clipAdamW(decayed, options.learningRate(), options.weightDecay());
             AdamW withoutDecay = clipAdamW(kept, options.learningRate(), 0)) {
            for (int step = 0; step < options.steps(); step++) {
                double lr = schedule.at(step);
                withDecay.setLearningRate(lr);
                withoutDecay.setLearningRate(lr);
                withDecay.zeroGrad();
                withoutDecay.zeroGrad();
                double value;
                try (Scope s = Scope.open()) {
                    CaptionedBatches.Batch b = data.next(options.batchSize(), dataGen);
                    Tensor logits = model.logitsPerImage(model.imageFeatures(b.images()), model.textFeatures(model.tokenize(b.captions())));
                    Tensor loss = ClipLoss.symmetricInfoNce(logits, b.captions());
                    value = loss.item();
                    if (!Double.isFinite(value)) {
                        throw new DiffusionException("CLIP training diverged at step " + (step + 1) + " (loss " + value
                                + "); lower the learning rate");
                    }
                    loss.backward();
                }
                withDecay.step();
                withoutDecay.step();
                model.clampLogitScale();
                listener.onStep(step + 1, options.steps(), value, lr);
                if (listener.stopRequested()) {
                    break;
                }
            }
        } finally {
            model.train(false);
        }
        return model;
    }

    /** AdamW with β₁ = 0.9 and the β₂ = 0.98, ε = 1e-6 CLIP trained its ViTs with (Radford et al. 2021, table 19). */
    private static AdamW clipAdamW(List<Tensor> parameters, double lr, double weightDecay) {
        return new AdamW(parameters, lr, 0.9, 0.98, 1e-6, weightDecay);
    }
}
