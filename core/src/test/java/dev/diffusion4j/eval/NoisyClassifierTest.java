package dev.diffusion4j.eval;

import dev.diffusion4j.schedule.GridSpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.guidance.ClassifierGuidance;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.model.NoisyClassifier;
import dev.diffusion4j.oracle.MixtureDenoiser;
import dev.diffusion4j.sampling.SamplerOptions;
import dev.diffusion4j.sampling.Samplers;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.ClassifierTraining;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The noise-aware classifier of classifier guidance: trained on x₀ + σ·n and told σ, it is sure at
 * low noise and guesses at high noise; its gradient steers samples towards the class asked for.
 */
@Tag("quality")
class NoisyClassifierTest {
    private static ImageClassifier classifier;
    private static ImageDataset held;

    @BeforeAll
    static void train() {
        // 16 px keeps the training short
        ImageDataset all = (ImageDataset) DataSources.open("fashion-mnist-test", new ImageOptions(16, 1, false));
        ImageDataset part = all.subset(IntStream.range(0, 8000).toArray(), " (train part)");
        held = all.subset(IntStream.range(8000, 9000).toArray(), " (held out)");
        classifier = ClassifierTraining.train(part, ClassifierTraining.Options.defaults().withSteps(200).withBatchSize(64).withNoisy(true),
                (step, total, loss) -> assertTrue(Double.isFinite(loss)));
    }

    @Test
    void accuracyFallsFromSureToChanceAsTheNoiseGrows() {
        try (Scope s = Scope.open()) {
            Tensor x = held.all().orElseThrow();
            double low = classifier.noisyAccuracy(x, held.labels(), 0.1, new Generator(1));
            double mid = classifier.noisyAccuracy(x, held.labels(), 1.0, new Generator(1));
            double high = classifier.noisyAccuracy(x, held.labels(), 20, new Generator(1));
            System.out.printf(Locale.ROOT, "noisy classifier accuracy: sigma 0.1 %.3f, 1 %.3f, 20 %.3f%n", low, mid, high);
            assertTrue(low > 0.6, "200 steps classify lightly noised images well above chance: " + low);
            assertTrue(mid > 0.25 && mid < low, "at sigma = 1 less sure: " + mid);
            assertTrue(high < 0.25, "at sigma = 20 the image is gone and so is the class: " + high);
            Tensor logp = classifier.logProbabilities(x.narrow(0, 0, 8), Tensor.full(0.5, 8));
            assertEquals(0, logp.exp().sum(1, false).sub(1.0).abs().amax().item(), 1e-5, "log-probabilities normalise");
        }
    }

    @Test
    void itsGradientSteersSamplesTowardsTheClass(@TempDir Path dir) {
        classifier.save(dir.resolve("c.safetensors"));
        ImageClassifier loaded = ImageClassifier.load(dir.resolve("c.safetensors"));
        assertTrue(loaded.config().noisy());
        // The exact denoiser of 300 held-out images of all classes: unguided, it returns one of them at random.
        int n = 300;
        double[][] points = new double[n][];
        try (Scope s = Scope.open()) {
            float[] px = held.all().orElseThrow().narrow(0, 0, n).contiguous().toFloatArray();
            for (int i = 0; i < n; i++) {
                final int row = i;
                points[i] = IntStream.range(0, 256).mapToDouble(p -> px[row * 256 + p]).toArray();
            }
        }
        MixtureDenoiser images = MixtureDenoiser.points(points);
        // the classifier reads the oracle's flat vectors as 1x16x16 images
        NoisyClassifier onVectors = (x, sigma) -> loaded.logProbabilities(x.view(x.size(0), 1, 16, 16), sigma);
        int k = 1;   // trouser
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {   // as the pipeline samples: guidance re-enables gradients
            var sampler = Samplers.create("euler", SamplerOptions.DEFAULTS);
            GridSpec grid = GridSpec.steps(30);
            Tensor noise = Tensor.randn(new Generator(3), 100, 256).to(dev.diffusion4j.tensor.DType.FLOAT64);
            Tensor plain = Samplers.run(sampler, images, noise, grid, new Generator(4));
            double before = share(loaded, plain.view(100, 1, 16, 16), k);
            double weak = share(loaded, Samplers.run(sampler, new ClassifierGuidance(images, onVectors, k, 2.0), noise, grid, new Generator(4))
                    .view(100, 1, 16, 16), k);
            double strong = share(loaded, Samplers.run(sampler, new ClassifierGuidance(images, onVectors, k, 10.0), noise, grid, new Generator(4))
                    .view(100, 1, 16, 16), k);
            System.out.printf(Locale.ROOT, "classifier guidance towards class %d: %.3f unguided, %.3f at s = 2, %.3f at s = 10%n",
                    k, before, weak, strong);
            assertTrue(before < 0.3, "unguided, the oracle returns images of every class: " + before);
            assertTrue(weak > before + 0.1 && strong > weak && strong >= 0.6, "guided samples are read as class " + k + ": "
                    + before + " -> " + weak + " -> " + strong);
        }
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.inference()) {   // inference tensors are copied into the gradient's graph
            Tensor x = Tensor.randn(new Generator(6), 2, 256).to(dev.diffusion4j.tensor.DType.FLOAT64);
            Tensor sigma = Tensor.full(1.0, 1).to(dev.diffusion4j.tensor.DType.FLOAT64);
            assertTrue(new ClassifierGuidance(images, onVectors, k, 1.0).denoise(x, sigma).sub(images.denoise(x, sigma)).abs().amax()
                    .item() > 1e-3, "classifier guidance works in inference mode too");
        }
        DiffusionException clean = assertThrows(DiffusionException.class,
                () -> ImageClassifier.fashionMnist().logProbabilities(Tensor.zeros(1, 1, 28, 28), Tensor.full(1.0, 1)));
        assertTrue(clean.getMessage().contains("trained on noisy images"), clean.getMessage());
    }

    private static double share(ImageClassifier c, Tensor x, int k) {
        Tensor predicted = c.logProbabilities(x, Tensor.full(ImageClassifier.SIGMA_MIN, 1)).argmax(1);
        return predicted.eq(Tensor.full(dev.diffusion4j.tensor.DType.INT64, k, x.size(0))).to(dev.diffusion4j.tensor.DType.FLOAT32)
                .mean().item();
    }
}
