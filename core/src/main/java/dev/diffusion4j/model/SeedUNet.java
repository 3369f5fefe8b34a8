package dev.diffusion4j.model;

import dev.diffusion4j.nn.Conv2d;
import dev.diffusion4j.nn.ConvAttention;
import dev.diffusion4j.nn.ConvNextBlock;
import dev.diffusion4j.nn.ConvTranspose2d;
import dev.diffusion4j.nn.GroupNorm;
import dev.diffusion4j.nn.Linear;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.nn.Named;
import dev.diffusion4j.nn.SinusoidalEmbedding;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The seed tutorial's U-Net ({@link SeedUNetConfig}), with its state-dict names: {@code init_conv},
 * {@code time_mlp.1/3}, {@code downs.i.0–3}, {@code mid_block1}, {@code mid_attn.fn.fn},
 * {@code mid_block2}, {@code ups.i.0–3}, {@code final_conv.0/1}. As in the seed, the skip saved at
 * the finest level is not used on the way up (there is one up level fewer than down levels).
 */
public final class SeedUNet extends DenoisingNetwork {
    private final SeedUNetConfig config;
    private final SinusoidalEmbedding timeFeatures;
    private final Linear time1;
    private final Linear time2;
    private final Conv2d initConv;
    private final ModuleList<Level> downs;
    private final ConvNextBlock mid1;
    private final PreNormResidual midAttn;
    private final ConvNextBlock mid2;
    private final ModuleList<Level> ups;
    private final ConvNextBlock finalBlock;
    private final Conv2d finalConv;

    /** Two ConvNeXt blocks, linear attention, and a resampling layer (none at the end of the path). */
    private static final class Level extends Module {
        final ConvNextBlock block1;
        final ConvNextBlock block2;
        final PreNormResidual attn;
        final Module resample;

        Level(int in, int out, SeedUNetConfig c, Module resample, Generator g) {
            block1 = child("0", new ConvNextBlock(in, out, c.timeDim(), c.convnextMult(), g));
            block2 = child("1", new ConvNextBlock(out, out, c.timeDim(), c.convnextMult(), g));
            attn = child("2", new PreNormResidual(out, new ConvAttention(out, c.attentionHeads(), c.attentionHeadDim(), true, g)));
            this.resample = resample == null ? null : child("3", resample);
        }

        Tensor blocks(Tensor x, Tensor emb) {
            return attn.forward(block2.forward(block1.forward(x, emb), emb));
        }

        Tensor resample(Tensor x) {
            if (resample instanceof Conv2d down) {
                return down.forward(x);
            }
            return resample instanceof ConvTranspose2d up ? up.forward(x) : x;
        }
    }

    /** x + attention(GroupNorm(1)(x)), named {@code fn.fn} (attention) and {@code fn.norm} as in the seed. */
    private static final class PreNormResidual extends Module {
        private final GroupNorm norm;
        private final ConvAttention attention;

        PreNormResidual(int dim, ConvAttention attention) {
            Named fn = child("fn", new Named());
            this.attention = fn.add("fn", attention);
            this.norm = fn.add("norm", new GroupNorm(1, dim));
        }

        Tensor forward(Tensor x) {
            return attention.forward(norm.forward(x)).add(x);
        }
    }

    public SeedUNet(SeedUNetConfig config, Generator g) {
        this.config = config;
        int dim = config.dim();
        int timeDim = config.timeDim();
        List<Integer> dims = config.dims();
        int levels = dims.size() - 1;
        this.initConv = child("init_conv", new Conv2d(config.channels(), config.initDim(), 7, g));
        this.timeFeatures = new SinusoidalEmbedding(dim, false, 1);
        Named timeMlp = child("time_mlp", new Named());
        this.time1 = timeMlp.add("1", new Linear(dim, timeDim, g));
        this.time2 = timeMlp.add("3", new Linear(timeDim, timeDim, g));

        this.downs = child("downs", new ModuleList<>());
        for (int i = 0; i < levels; i++) {
            int in = dims.get(i);
            int out = dims.get(i + 1);
            boolean last = i == levels - 1;
            downs.add(new Level(in, out, config, last ? null : new Conv2d(out, out, 4, 2, 1, 1, true, g), g));
        }
        int mid = dims.get(levels);
        this.mid1 = child("mid_block1", new ConvNextBlock(mid, mid, timeDim, config.convnextMult(), g));
        this.midAttn = child("mid_attn", new PreNormResidual(mid,
                new ConvAttention(mid, config.attentionHeads(), config.attentionHeadDim(), false, g)));
        this.mid2 = child("mid_block2", new ConvNextBlock(mid, mid, timeDim, config.convnextMult(), g));

        this.ups = child("ups", new ModuleList<>());
        for (int i = levels - 1; i >= 1; i--) {
            int in = dims.get(i);
            int out = dims.get(i + 1);
            ups.add(new Level(2 * out, in, config, new ConvTranspose2d(in, in, 4, 2, 1, g), g));
        }
        Named fin = child("final_conv", new Named());
        this.finalBlock = fin.add("0", new ConvNextBlock(dim, dim, null, config.convnextMult(), g));
        this.finalConv = fin.add("1", new Conv2d(dim, config.channels(), 1, g));
    }

    @Override
    public SeedUNetConfig config() {
        return config;
    }

    @Override
    public Tensor predict(Tensor x, Tensor t) {
        Tensor emb = time2.forward(time1.forward(timeFeatures.forward(t.numel() == 1 && x.size(0) > 1 ? t.expand(x.size(0)) : t))
                .gelu());
        Tensor h = initConv.forward(x);
        Deque<Tensor> skips = new ArrayDeque<>();
        for (Level level : downs.items()) {
            h = level.blocks(h, emb);
            skips.push(h);
            h = level.resample(h);
        }
        h = mid2.forward(midAttn.forward(mid1.forward(h, emb)), emb);
        for (Level level : ups.items()) {
            h = level.resample(level.blocks(Tensor.cat(List.of(h, skips.pop()), 1), emb));
        }
        return finalConv.forward(finalBlock.forward(h, null));
    }

    @Override
    public Output predictWithVariance(Tensor x, Tensor t) {
        return new Output(predict(x, t), null);
    }
}
