package dev.diffusion4j.eval;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How close generated images are to a data set under a feature network, next to the floor: the
 * same metrics for two disjoint random sets of real images of the sample count. FID and KID are
 * biased by the set size, so a figure means something only beside its floor at the same size.
 * Samples are compared with the first real set; the floor compares the first with the second.
 */
public final class ImageQuality {
    /** Splits of the Inception-Score-style score. */
    public static final int IS_SPLITS = 10;
    private static final int BATCH = 500;

    /** The figures of one evaluation. */
    public record Report(int samples, String data, String classifier,
                         double fid, double fidFloor,
                         double kid, double kidStd, double kidFloor,
                         double precision, double recall, double precisionFloor, double recallFloor,
                         double density, double coverage, double densityFloor, double coverageFloor,
                         double inceptionScore, double inceptionScoreStd, double inceptionScoreReal) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("samples", samples);
            m.put("data", data);
            m.put("classifier", classifier);
            m.put("fid", fid);
            m.put("fid_floor", fidFloor);
            m.put("kid", kid);
            if (Double.isFinite(kidStd)) { // unknown when the KID subset is every image of both sets
                m.put("kid_std", kidStd);
            }
            m.put("kid_floor", kidFloor);
            m.put("precision", precision);
            m.put("recall", recall);
            m.put("precision_floor", precisionFloor);
            m.put("recall_floor", recallFloor);
            m.put("density", density);
            m.put("coverage", coverage);
            m.put("density_floor", densityFloor);
            m.put("coverage_floor", coverageFloor);
            m.put("inception_score", inceptionScore);
            m.put("inception_score_std", inceptionScoreStd);
            m.put("inception_score_real", inceptionScoreReal);
            return m;
        }
    }

    private ImageQuality() {
    }

    /**
     * Evaluates {@code samples} [n, c, h, w] in [−1, 1] against {@code data}. The samples are taken
     * in a random order (from {@code seed}), so that samples sorted by class — a conditional model's
     * output — neither fill one Inception-score split each nor lose whole classes when the data set
     * has fewer than 2n images and only size/2 samples are used.
     */
    public static Report evaluate(Tensor samples, ImageDataset data, ImageClassifier classifier, long seed) {
        long[] shape = samples.shape();
        ImageClassifier.Config cfg = classifier.config();
        if (shape.length != 4 || shape[1] != cfg.channels() || shape[2] != cfg.imageSize() || shape[3] != cfg.imageSize()) {
            throw new DiffusionException("the samples are " + describe(shape) + " but the classifier reads " + cfg.inputShape()
                    + " images; pass a classifier trained on images like the samples");
        }
        if (data.channels() != shape[1] || data.height() != shape[2] || data.width() != shape[3]) {
            throw new DiffusionException("the samples are " + describe(shape) + " but " + data.name() + " holds " + data.channels()
                    + "x" + data.height() + "x" + data.width() + " images");
        }
        int n = (int) Math.min(shape[0], data.size() / 2);
        if (n < 10) {
            throw new DiffusionException("image metrics need at least 10 samples and 20 real images, got " + shape[0] + " samples and "
                    + data.size() + " real images");
        }
        Generator g = new Generator(seed);
        try (Scope s = Scope.open()) {
            Tensor order = Tensor.randperm(g, data.size());
            Tensor all = data.all().orElseThrow();
            Tensor realA = all.indexSelect(0, order.narrow(0, 0, n));
            Tensor realB = all.indexSelect(0, order.narrow(0, n, n));
            Tensor picked = samples.indexSelect(0, Tensor.randperm(Generator.derived(seed, 3), shape[0]).narrow(0, 0, n));
            ImageClassifier.Outputs fake = classifier.evaluate(picked, BATCH);
            ImageClassifier.Outputs a = classifier.evaluate(realA, BATCH);
            ImageClassifier.Outputs b = classifier.evaluate(realB, BATCH);
            int splits = Math.min(IS_SPLITS, n / 5);
            ImageMetrics.Estimate kid = ImageMetrics.kid(a.features(), fake.features(), ImageMetrics.KID_SUBSETS,
                    ImageMetrics.KID_SUBSET, Generator.derived(seed, 1));
            ImageMetrics.Estimate kidFloor = ImageMetrics.kid(a.features(), b.features(), ImageMetrics.KID_SUBSETS,
                    ImageMetrics.KID_SUBSET, Generator.derived(seed, 2));
            ImageMetrics.PrecisionRecall pr = ImageMetrics.precisionRecall(a.features(), fake.features(), ImageMetrics.PR_K);
            ImageMetrics.PrecisionRecall prFloor = ImageMetrics.precisionRecall(a.features(), b.features(), ImageMetrics.PR_K);
            ImageMetrics.DensityCoverage dc = ImageMetrics.densityCoverage(a.features(), fake.features(), ImageMetrics.DC_K);
            ImageMetrics.DensityCoverage dcFloor = ImageMetrics.densityCoverage(a.features(), b.features(), ImageMetrics.DC_K);
            ImageMetrics.Estimate is = ImageMetrics.inceptionScore(fake.probabilities(), splits);
            ImageMetrics.Estimate isReal = ImageMetrics.inceptionScore(a.probabilities(), splits);
            return new Report(n, data.name(), cfg.data() + " classifier (" + cfg.featureDim() + "-d features)",
                    ImageMetrics.fid(a.features(), fake.features()), ImageMetrics.fid(a.features(), b.features()),
                    kid.mean(), kid.std(), kidFloor.mean(),
                    pr.precision(), pr.recall(), prFloor.precision(), prFloor.recall(),
                    dc.density(), dc.coverage(), dcFloor.density(), dcFloor.coverage(),
                    is.mean(), is.std(), isReal.mean());
        }
    }

    private static String describe(long[] shape) {
        return shape.length == 4 ? shape[1] + "x" + shape[2] + "x" + shape[3] : Arrays.toString(shape);
    }
}
