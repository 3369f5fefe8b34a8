package dev.diffusion4j.objective;

import dev.diffusion4j.model.ImageClassifier;
import dev.diffusion4j.tensor.Tensor;
import java.util.List;

/**
 * A perceptual distance between image batches in the manner of LPIPS (Zhang et al. 2018, its
 * unweighted variant): each block's activations of a frozen feature network are unit-normalised
 * along channels at every position, and the squared differences are averaged over positions and
 * summed over blocks. The feature network is one the project trains itself ({@link ImageClassifier}),
 * so nothing is downloaded. Differentiable in both inputs; the network's weights get no gradient
 * through it when they are frozen by the caller.
 */
public final class PerceptualLoss {
    private static final double EPS = 1e-10;
    private final ImageClassifier features;

    public PerceptualLoss(ImageClassifier features) {
        this.features = features;
    }

    /** Distance per item [B] of images a, b [B, C, H, W] in [−1, 1]. */
    public Tensor distance(Tensor a, Tensor b) {
        List<Tensor> fa = maps(a);
        List<Tensor> fb = maps(b);
        Tensor total = null;
        for (int i = 0; i < fa.size(); i++) {
            Tensor d = unit(fa.get(i)).sub(unit(fb.get(i))).square().sum(1, false).mean(new long[] {1, 2}, false);
            total = total == null ? d : total.add(d);
        }
        return total;
    }

    private List<Tensor> maps(Tensor x) {
        return features.featureMaps(x, features.config().noisy() ? Tensor.full(ImageClassifier.SIGMA_MIN, x.size(0)) : null);
    }

    /** f / ‖f‖ along channels, per position. */
    private static Tensor unit(Tensor f) {
        return f.div(f.square().sum(1, true).add(EPS).sqrt());
    }
}
