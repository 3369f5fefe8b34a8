package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.nn.Activation;
import dev.diffusion4j.nn.Embedding;
import dev.diffusion4j.nn.FourierFeatures;
import dev.diffusion4j.nn.LayerNorm;
import dev.diffusion4j.nn.Linear;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.ModuleList;
import dev.diffusion4j.nn.SinusoidalEmbedding;
import dev.diffusion4j.nn.TimestepEmbedding;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * A residual MLP noise-prediction network for vectors of any dimension: x and a timestep embedding
 * in, a prediction of the same shape as x out (ε, x₀ or v, depending on how it was trained).
 *
 * <pre>
 * e = linear_2(silu(linear_1(sinusoidal(t)))) [+ class_embedding(y)]   timestep (and class) embedding
 * h = input_proj(x)
 * h = h + fc2(act(fc1(norm(h)) + time_proj(act(e))))          per block
 * out = output_proj(act(norm_out(h)))
 * </pre>
 *
 * With {@link VarianceType#LEARNED_RANGE} the output has 2·dataDim channels, the prediction first and
 * the raw variance values v of {@link LearnedVariance} after it (diffusers' channel order).
 *
 * A class-conditional network (num_classes K &gt; 0) adds a learned embedding of the label y to e, as
 * the U-Net does; row K of the table is the null label that condition dropout trains and that
 * unconditional evaluations use.
 *
 * Pre-norm residual blocks keep the signal scale stable with depth; each block's fc2 starts at
 * zero so the network starts as a shallow one and grows its depth during training.
 */
public final class MlpNetwork extends DenoisingNetwork {
    private final MlpConfig config;
    private final SinusoidalEmbedding sinusoid;
    private final TimestepEmbedding timeEmbedding;
    private final Embedding classEmbedding;
    private final FourierFeatures fourier;
    private final Linear inputProj;
    private final ModuleList<Block> blocks;
    private final LayerNorm normOut;
    private final Linear outputProj;

    private static final class Block extends Module {
        final LayerNorm norm;
        final Linear fc1;
        final Linear timeProj;
        final Linear fc2;

        Block(int hidden, Generator g) {
            norm = child("norm", new LayerNorm(hidden));
            fc1 = child("fc1", new Linear(hidden, hidden, g));
            timeProj = child("time_proj", new Linear(hidden, hidden, g));
            fc2 = child("fc2", new Linear(hidden, hidden, g).zeroInit());
        }

        Tensor forward(Tensor h, Tensor embAct, Activation act) {
            Tensor r = fc1.forward(norm.forward(h)).add(timeProj.forward(embAct));
            return h.add(fc2.forward(act.apply(r)));
        }
    }

    public MlpNetwork(MlpConfig config, Generator g) {
        this.config = config;
        int hid = config.hiddenDim();
        this.sinusoid = new SinusoidalEmbedding(config.timeEmbeddingDim());
        this.timeEmbedding = child("time_embedding", new TimestepEmbedding(config.timeEmbeddingDim(), hid, g));
        this.classEmbedding = config.numClasses() > 0
                ? child("class_embedding", new Embedding(config.numClasses() + 1, hid, g)) : null;
        int inFeatures = config.dataDim();
        if (config.fourierFeatures() > 0) {
            this.fourier = child("fourier", new FourierFeatures(config.dataDim(), config.fourierFeatures(), config.fourierScale(), g));
            inFeatures += 2 * config.fourierFeatures();
        } else {
            this.fourier = null;
        }
        this.inputProj = child("input_proj", new Linear(inFeatures, hid, g));
        this.blocks = child("blocks", new ModuleList<>());
        for (int i = 0; i < config.numBlocks(); i++) {
            blocks.add(new Block(hid, g));
        }
        this.normOut = child("norm_out", new LayerNorm(hid));
        this.outputProj = child("output_proj", new Linear(hid, config.outputDim(), g));
    }

    @Override
    public MlpConfig config() {
        return config;
    }

    /** x: [B, dataDim] (noisy sample at the network's input scale), t: [B] timesteps → [B, dataDim]. */
    @Override
    public Tensor predict(Tensor x, Tensor t) {
        Tensor out = forward(x, t, null);
        return config.varianceType() == VarianceType.LEARNED_RANGE ? out.narrow(1, 0, config.dataDim()) : out;
    }

    @Override
    public Output predictWithVariance(Tensor x, Tensor t) {
        return predictWithVariance(x, t, null);
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public Output predictWithVariance(Tensor x, Tensor t, Tensor labels) {
        Tensor out = forward(x, t, labels);
        if (!learnsVariance()) {
            return new Output(out, null);
        }
        int d = config.dataDim();
        return new Output(out.narrow(1, 0, d), out.narrow(1, d, d));
    }

    /** The raw output [B, outputDim]; null labels are the null label of a conditional network. */
    private Tensor forward(Tensor x, Tensor t, Tensor labels) {
        Activation act = config.activation();
        Tensor e = timeEmbedding.forward(sinusoid.forward(t));
        if (classEmbedding != null) {
            Tensor y = labels != null ? labels : Tensor.full(DType.INT64, config.numClasses(), x.size(0));
            e = e.add(classEmbedding.forward(y));
        } else if (labels != null) {
            throw new DiffusionException(NOT_CONDITIONAL);
        }
        Tensor embAct = act.apply(e);
        Tensor in = fourier == null ? x : Tensor.cat(java.util.List.of(x, fourier.forward(x)), 1);
        Tensor h = inputProj.forward(in);
        for (Block b : blocks.items()) {
            h = b.forward(h, embAct, act);
        }
        return outputProj.forward(act.apply(normOut.forward(h)));
    }
}
