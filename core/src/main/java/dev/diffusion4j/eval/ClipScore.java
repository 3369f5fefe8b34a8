package dev.diffusion4j.eval;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.CaptionedBatches;
import dev.diffusion4j.model.ClipModel;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How well images match their prompts under a {@link ClipModel}. The CLIP score is the one commonly
 * reported for text-to-image models (torchmetrics' {@code CLIPScore}; Hessel et al. 2021 weigh the
 * same clipped cosine by 2.5 instead of 100): the mean over pairs of 100·max(cos(image, prompt), 0).
 * The raw mean cosine comes with it, since the clipping hides how negative mismatched pairs are.
 * Both depend on the CLIP model, so a generated set's figure means something beside that of real
 * pairs under the same model ({@link #realPairs}): {@link Score#share}.
 */
public final class ClipScore {
    /** The figures of one set of image–prompt pairs. */
    public record Score(int pairs, double meanCosine, double clipScore) {
        /** This CLIP score as a share of {@code reference}'s (real pairs'): about 1 when images match prompts as well as real ones. */
        public double share(Score reference) {
            return clipScore / reference.clipScore;
        }
    }

    private ClipScore() {
    }

    /** The score of {@code images} [n, C, H, W] in [−1, 1] against their {@code prompts} (n of them). */
    public static Score score(ClipModel model, Tensor images, List<String> prompts) {
        check(images, prompts);
        try (Scope s = Scope.open()) {
            Tensor cos = model.embedImages(images).mul(model.embedTexts(prompts)).sum(1, false).to(DType.FLOAT64);
            return new Score(prompts.size(), cos.mean().item(), cos.clampMin(0).mean().item() * 100);
        }
    }

    /** The reference figure: the score of {@code count} real pairs drawn from {@code data} with generator seed {@code seed}. */
    public static Score realPairs(ClipModel model, CaptionedBatches data, int count, long seed) {
        try (Scope s = Scope.open()) {
            CaptionedBatches.Batch b = data.next(count, new Generator(seed));
            return score(model, b.images(), b.captions());
        }
    }

    /**
     * The share of {@code images} whose own caption is the most similar among the distinct
     * {@code captions} (top-1 retrieval; chance is one over their number): a sanity check that the
     * embeddings tell captions apart, which a mean cosine alone does not show.
     */
    public static double retrievalAccuracy(ClipModel model, Tensor images, List<String> captions) {
        check(images, captions);
        List<String> candidates = captions.stream().distinct().toList();
        Map<String, Integer> index = new HashMap<>();
        candidates.forEach(c -> index.put(c, index.size()));
        long[] truth = captions.stream().mapToLong(index::get).toArray();
        try (Scope s = Scope.open()) {
            Tensor best = model.embedImages(images).matmul(model.embedTexts(candidates).t()).argmax(1);
            return best.eq(Tensor.of(truth, truth.length)).to(DType.FLOAT64).mean().item();
        }
    }

    private static void check(Tensor images, List<String> prompts) {
        if (images.dim() != 4 || images.size(0) != prompts.size() || prompts.isEmpty()) {
            throw new DiffusionException("a CLIP score needs images [n, C, H, W] and one prompt per image, got "
                    + Arrays.toString(images.shape()) + " and " + prompts.size() + " prompts");
        }
    }
}
