package dev.diffusion4j.bench;

import dev.diffusion4j.models.vae.AutoencoderKL;
import dev.diffusion4j.models.vae.AutoencoderKLConfig;
import dev.diffusion4j.models.vae.DiagonalGaussian;
import dev.diffusion4j.tensor.AdamW;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.AutoencoderTrainer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throughput of an {@link AutoencoderKL}: its reconstruction training step and its no-grad encode and
 * decode. The step is the autoencoder's share of a {@code train-vae} step — encode, draw from the
 * posterior, decode, L1 + 10⁻⁶·KL, backward, AdamW (β = 0.5, 0.9) — without the perceptual network
 * and the critic, so that it can be written the same way in another framework and compared.
 */
public final class AutoencoderBenchmark {
    /** The KL weight of the latent-diffusion recipe. */
    private static final double KL_WEIGHT = 1e-6;

    private AutoencoderBenchmark() {
    }

    /**
     * Training images/s at {@code batch}, and encode and decode images/s (no gradients, the same batch),
     * each a median over {@code iters} timed iterations after two of warm-up.
     */
    public static Map<String, Object> measure(AutoencoderKLConfig config, Precision precision, int batch, int iters) {
        Backend.useThreadPolicy(Backend.ThreadPolicy.OP_PARALLEL);   // a conv net
        Map<String, Object> r = new LinkedHashMap<>();
        Generator g = new Generator(1);
        AutoencoderKL vae = new AutoencoderKL(config, g);
        r.put("parameters", vae.parameterCount());
        r.put("precision", precision.configName());
        r.put("batch", batch);
        long[] image = {batch, config.inChannels(), config.sampleSize(), config.sampleSize()};
        List<Double> steps = new ArrayList<>();
        try (AdamW opt = new AdamW(vae.parameters(), 2e-4, 0.5, 0.9, 1e-8, 0)) {
            for (int i = 0; i < iters + 2; i++) {
                try (Scope s = Scope.open()) {
                    Tensor x = Tensor.rand(g, image).mul(2).sub(1);
                    long t0 = System.nanoTime();
                    opt.zeroGrad();
                    Tensor loss;
                    try (Precision.Region region = precision.open()) {
                        DiagonalGaussian posterior = vae.encode(x);
                        Tensor reconstruction = vae.decode(posterior.sample(g)).to(DType.FLOAT32);
                        loss = x.sub(reconstruction).abs().mean().add(AutoencoderTrainer.klPerPixel(posterior, x).mul(KL_WEIGHT));
                    }
                    loss.backward();
                    opt.step();
                    loss.item();
                    if (i >= 2) {
                        steps.add((System.nanoTime() - t0) / 1e9);
                    }
                }
            }
        }
        r.put("train_images_per_s", batch / Stats.median(steps));
        vae.train(false);
        List<Double> encodes = new ArrayList<>();
        List<Double> decodes = new ArrayList<>();
        try (NoGrad ng = NoGrad.inference()) {
            for (int i = 0; i < iters + 1; i++) {
                try (Scope s = Scope.open(); Precision.Region region = precision.open()) {
                    Tensor x = Tensor.rand(g, image).mul(2).sub(1);
                    long t0 = System.nanoTime();
                    Tensor z = vae.encode(x).mode();
                    z.sum().item();
                    long t1 = System.nanoTime();
                    vae.decode(z).sum().item();
                    if (i >= 1) {
                        encodes.add((t1 - t0) / 1e9);
                        decodes.add((System.nanoTime() - t1) / 1e9);
                    }
                }
            }
        }
        r.put("encode_images_per_s", batch / Stats.median(encodes));
        r.put("decode_images_per_s", batch / Stats.median(decodes));
        return r;
    }
}
