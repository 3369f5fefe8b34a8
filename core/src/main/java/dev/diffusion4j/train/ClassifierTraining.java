package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSource;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.tensor.AdamW;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;

/**
 * Trains an {@link ImageClassifier} on a labelled image data set: AdamW, linear warm-up then
 * cosine decay, cross-entropy, random horizontal flips when the data set flips.
 */
public final class ClassifierTraining {
    /** How long and how hard to train. */
    public record Options(int steps, int batchSize, double learningRate, double weightDecay, long seed, boolean noisy) {
        public Options {
            if (steps < 1 || batchSize < 1) {
                throw new DiffusionException("classifier training needs at least one step and a batch of at least one, got "
                        + steps + " steps of " + batchSize);
            }
            if (!(learningRate > 0) || !(weightDecay >= 0)) {
                throw new DiffusionException("learning rate must be positive and weight decay non-negative");
            }
        }

        /** 5,000 steps of 128 (10.7 epochs of the 60k Fashion-MNIST train split), peak learning rate 2e-3. */
        public static Options defaults() {
            return new Options(5000, 128, 2e-3, 1e-4, 0, false);
        }

        public Options withSteps(int s) {
            return new Options(s, batchSize, learningRate, weightDecay, seed, noisy);
        }

        public Options withBatchSize(int b) {
            return new Options(steps, b, learningRate, weightDecay, seed, noisy);
        }

        public Options withSeed(long s) {
            return new Options(steps, batchSize, learningRate, weightDecay, s, noisy);
        }

        /**
         * Train on noisy images x₀ + σ·n, σ log-uniform in [{@link ImageClassifier#SIGMA_MIN},
         * {@link ImageClassifier#SIGMA_MAX}], for classifier guidance.
         */
        public Options withNoisy(boolean n) {
            return new Options(steps, batchSize, learningRate, weightDecay, seed, n);
        }
    }

    /** Called after every step. */
    public interface Listener {
        /** Hears nothing. */
        Listener NONE = (step, total, loss) -> { };

        void onStep(int step, int total, double loss);
    }

    private ClassifierTraining() {
    }

    /** A classifier for {@code data}'s images and classes, trained from scratch. */
    public static ImageClassifier train(ImageDataset data, Options options, Listener listener) {
        if (!data.hasLabels()) {
            throw new DiffusionException(data.name() + " has no class labels; a classifier needs them (an image folder needs one "
                    + "sub-folder per class)");
        }
        if (data.height() != data.width()) {
            throw new DiffusionException("a classifier reads square images; set an image size N (image_size) to resize and crop " + data.name() + " ("
                    + data.width() + "x" + data.height() + ")");
        }
        ImageClassifier.Config config = ImageClassifier.Config.of(data.channels(), data.height(), data.classNames(), data.name())
                .withNoisy(options.noisy());
        Backend.useThreadPolicy(Backend.ThreadPolicy.OP_PARALLEL);
        ImageClassifier model = new ImageClassifier(config, Generator.derived(options.seed(), 0));
        Generator dataGen = Generator.derived(options.seed(), 1);
        Generator noiseGen = Generator.derived(options.seed(), 2);
        Generator dropoutGen = Generator.derived(options.seed(), 3);
        LrSchedule schedule = new LrSchedule(options.learningRate(), Math.min(200, options.steps() / 10), options.steps(), 0.01);
        model.train(true);
        try (AdamW opt = new AdamW(model.parameters(), options.learningRate(), 0.9, 0.999, 1e-8, options.weightDecay())) {
            for (int step = 1; step <= options.steps(); step++) {
                opt.setLearningRate(schedule.at(step));
                opt.zeroGrad();
                double value;
                try (Scope s = Scope.open()) {
                    DataSource.Labeled b = data.sampleLabeled(dataGen, options.batchSize());
                    Tensor features = options.noisy() ? noisyFeatures(model, b.items(), noiseGen) : model.features(b.items());
                    Tensor loss = model.trainingLogits(features, dropoutGen).crossEntropy(b.labels());
                    value = loss.item();
                    if (!Double.isFinite(value)) {
                        throw new DiffusionException("classifier training diverged at step " + step + " (loss " + value
                                + "); lower the learning rate");
                    }
                    loss.backward();
                }
                opt.step();
                listener.onStep(step, options.steps(), value);
            }
        } finally {
            model.train(false);
        }
        return model;
    }

    /** Features of x₀ + σ·n at random log-uniform σ, one per image, as the noisy classifier reads them. */
    private static Tensor noisyFeatures(ImageClassifier model, Tensor x0, Generator g) {
        long n = x0.size(0);
        double lo = Math.log(ImageClassifier.SIGMA_MIN);
        double hi = Math.log(ImageClassifier.SIGMA_MAX);
        Tensor sigma = Tensor.rand(g, n).mul(hi - lo).add(lo).exp();
        Tensor s = sigma.view(n, 1, 1, 1);
        Tensor x = x0.add(Tensor.randn(g, x0.shape()).mul(s)).mul(s.square().add(1.0).rsqrt());
        return model.features(x, sigma);
    }
}
