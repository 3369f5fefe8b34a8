package dev.diffusion4j.objective;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CLIP's symmetric InfoNCE loss (Radford et al. 2021, fig. 3; van den Oord et al. 2018): over a batch
 * of B image–caption pairs with logits Lᵢⱼ = (1/τ)·cos(imageᵢ, textⱼ), the mean of the image→text
 * and the text→image cross-entropies,
 * <pre>
 * loss = ½ [ (1/B) Σᵢ −Σⱼ Tᵢⱼ log softmaxⱼ(Lᵢ·)  +  (1/B) Σⱼ −Σᵢ Tᵢⱼ log softmaxᵢ(L·ⱼ) ]
 * </pre>
 * with targets T the identity when all captions differ, as in CLIP.
 *
 * <p>A caption that occurs k times in the batch is one text for k images: with the identity as
 * target, that text would be told to prefer image i over image j although both are its images, and
 * pushed away from each of them in turn (false negatives, common when captions come from a few class
 * names). The targets are therefore uniform over the pairs with identical captions,
 * Tᵢⱼ = [cᵢ = cⱼ] / #{m : cₘ = cᵢ}, each row summing to 1. Masking those pairs out of the negatives
 * instead would drop the other images from the text's row rather than count them as matches.
 */
public final class ClipLoss {
    private ClipLoss() {
    }

    /** The loss of {@code logitsPerImage} [B, B] (row: image, column: its caption's text) for these B captions. */
    public static Tensor symmetricInfoNce(Tensor logitsPerImage, List<String> captions) {
        int b = captions.size();
        if (logitsPerImage.dim() != 2 || logitsPerImage.size(0) != b || logitsPerImage.size(1) != b) {
            throw new DiffusionException("the contrastive loss takes logits [B, B] of B image-caption pairs, got "
                    + Arrays.toString(logitsPerImage.shape()) + " for " + b + " captions");
        }
        Tensor t = targets(captions);
        Tensor imageToText = logitsPerImage.logSoftmax(1).mul(t).sum().neg().div(b);
        Tensor textToImage = logitsPerImage.t().logSoftmax(1).mul(t).sum().neg().div(b);
        return imageToText.add(textToImage).mul(0.5);
    }

    /** T [B, B]: Tᵢⱼ = 1/k when captions i and j are the same caption, which occurs k times, else 0; symmetric. */
    public static Tensor targets(List<String> captions) {
        int b = captions.size();
        Map<String, Integer> counts = new HashMap<>();
        captions.forEach(c -> counts.merge(c, 1, Integer::sum));
        float[] t = new float[b * b];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                if (captions.get(i).equals(captions.get(j))) {
                    t[i * b + j] = 1f / counts.get(captions.get(i));
                }
            }
        }
        return Tensor.of(t, b, b);
    }
}
