package dev.diffusion4j.models.vae;

import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.GroupNorm;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * The PatchGAN critic of latent-diffusion autoencoder training (Isola et al. 2017; Esser et al.
 * 2021): 4×4 convolutions, stride 2 for {@code layers} levels, then stride 1 twice, ending in one
 * logit per overlapping patch, so it judges local texture rather than the whole image. GroupNorm
 * stands where the original has BatchNorm: a critic without running statistics behaves the same at
 * any batch size and resumes exactly from its weights.
 */
public final class PatchDiscriminator extends Module {
    private final ModuleList<Conv2d> convs = child("convs", new ModuleList<>());
    private final ModuleList<GroupNorm> norms = child("norms", new ModuleList<>());

    /**
     * @param channels image channels
     * @param width    channels of the first layer, doubled per level up to 8×
     * @param layers   stride-2 levels after the first (3 in the original: 70×70 patches)
     */
    public PatchDiscriminator(int channels, int width, int layers, Generator g) {
        convs.add(new Conv2d(channels, width, 4, 2, 1, 1, true, g));
        int in = width;
        for (int i = 1; i <= layers; i++) {
            int out = width * Math.min(1 << i, 8);
            boolean last = i == layers;
            convs.add(new Conv2d(in, out, 4, last ? 1 : 2, 1, 1, false, g));
            norms.add(new GroupNorm(Math.min(32, out / 4), out));
            in = out;
        }
        convs.add(new Conv2d(in, 1, 4, 1, 1, 1, true, g));
    }

    /** images [B, C, H, W] → patch logits [B, 1, h, w]; high means "looks real". */
    public Tensor forward(Tensor x) {
        Tensor h = convs.get(0).forward(x).leakyRelu(0.2);
        for (int i = 0; i < norms.size(); i++) {
            h = norms.get(i).forward(convs.get(i + 1).forward(h)).leakyRelu(0.2);
        }
        return convs.get(convs.size() - 1).forward(h);
    }

    /** The critic's hinge loss, ½·(E[max(0, 1 − D(real))] + E[max(0, 1 + D(fake))]) (Lim &amp; Ye 2017). */
    public static Tensor hingeLoss(Tensor realLogits, Tensor fakeLogits) {
        return realLogits.neg().add(1).relu().mean().add(fakeLogits.add(1).relu().mean()).mul(0.5);
    }

    /** The generator's side of the hinge game: −E[D(fake)]. */
    public static Tensor generatorLoss(Tensor fakeLogits) {
        return fakeLogits.mean().neg();
    }
}
