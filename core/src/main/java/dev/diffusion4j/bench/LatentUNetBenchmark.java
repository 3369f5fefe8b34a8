package dev.diffusion4j.bench;

import dev.diffusion4j.model.NoisePredictor;
import dev.diffusion4j.models.unet.UNet2DConditionConfig;
import dev.diffusion4j.models.unet.UNet2DConditionModel;
import dev.diffusion4j.objective.DiffusionObjective;
import dev.diffusion4j.objective.LossType;
import dev.diffusion4j.objective.Weighting;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.AdamW;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throughput of the latent text-to-image U-Net ({@link UNet2DConditionModel}, diffusers' names): its
 * training step — the trainer's own ε-prediction objective (t and ε drawn, x_t, L2 against ε),
 * backward, AdamW — and its no-grad forward, on latents with a fixed prompt context
 * [B, tokens, cross_attention_dim]. The text encoder, frozen during latent training, is left out so that
 * the step can be written the same way in another framework (bench/pytorch/bench_latent_unet.py).
 */
public final class LatentUNetBenchmark {
    private LatentUNetBenchmark() {
    }

    /**
     * Training images/s at {@code batch} and sampling image·NFE/s at {@code sampleBatch}, each a median
     * over {@code iters} timed iterations after warm-up; {@code tokens} is the prompt length the
     * cross-attention reads.
     */
    public static Map<String, Object> measure(UNet2DConditionConfig config, Precision precision, int batch, int sampleBatch,
            int tokens, int iters) {
        Map<String, Object> r = new LinkedHashMap<>();
        Generator g = new Generator(1);
        UNet2DConditionModel unet = new UNet2DConditionModel(config, g);
        r.put("parameters", unet.parameterCount());
        r.put("precision", precision.configName());
        r.put("batch", batch);
        long side = config.sampleSize();
        NoisePredictor network = new NoisePredictor() {
            @Override
            public Tensor predict(Tensor xt, Tensor t) {
                throw new IllegalStateException("the benchmark always passes a prompt context");
            }

            @Override
            public Output predictWithVariance(Tensor xt, Tensor t, Tensor context) {
                return new Output(unet.forward(xt, t, context), null);
            }
        };
        DiffusionObjective objective = new DiffusionObjective(NoiseSchedule.of(BetaSchedule.LINEAR, 1000), Prediction.EPSILON,
                LossType.L2, Weighting.NONE);
        List<Double> steps = new ArrayList<>();
        try (AdamW opt = new AdamW(unet.parameters(), 1e-4, 0.9, 0.999, 1e-8, 0)) {
            for (int i = 0; i < iters + 2; i++) {
                try (Scope s = Scope.open()) {
                    Tensor z0 = Tensor.randn(g, batch, config.inChannels(), side, side);
                    Tensor context = Tensor.randn(g, batch, tokens, config.crossAttentionDim());
                    long t0 = System.nanoTime();
                    opt.zeroGrad();
                    Tensor loss;
                    try (Precision.Region region = precision.open()) {
                        loss = objective.loss(network, z0, context, g);
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
        unet.train(false);
        List<Double> forwards = new ArrayList<>();
        try (NoGrad ng = NoGrad.inference()) {
            for (int i = 0; i < iters + 1; i++) {
                try (Scope s = Scope.open(); Precision.Region region = precision.open()) {
                    Tensor x = Tensor.randn(g, sampleBatch, config.inChannels(), side, side);
                    Tensor context = Tensor.randn(g, sampleBatch, tokens, config.crossAttentionDim());
                    Tensor t = Tensor.full(500, sampleBatch);
                    long t0 = System.nanoTime();
                    unet.forward(x, t, context).sum().item();
                    if (i >= 1) {
                        forwards.add((System.nanoTime() - t0) / 1e9);
                    }
                }
            }
        }
        r.put("sample_image_nfe_per_s", sampleBatch / Stats.median(forwards));
        return r;
    }
}
