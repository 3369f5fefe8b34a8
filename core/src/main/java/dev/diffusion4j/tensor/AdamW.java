package dev.diffusion4j.tensor;

import dev.diffusion4j.DiffusionException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Decoupled-weight-decay Adam (Loshchilov &amp; Hutter 2019), run by libtorch's C++ optimizer. Its
 * state (moments and step counts) saves to and loads from libtorch's archive format for exact resume.
 *
 * <p>The parameters are moved into one flat buffer: each parameter tensor becomes a view of it, and
 * each gradient a view of one flat gradient buffer that backward passes accumulate into. The
 * update, the gradient clipping and the zeroing then run as a handful of ops on two big tensors
 * instead of ~10 small ops per parameter (measured 1.5 ms → 0.2 ms per step for a 30-tensor MLP).
 */
public final class AdamW implements AutoCloseable {
    private final TensorVector params;
    private final org.bytedeco.pytorch.AdamW optimizer;
    private final List<Tensor> paramList;

    public AdamW(List<Tensor> parameters, double lr, double beta1, double beta2, double eps, double weightDecay) {
        Backend.ensureLoaded();
        this.paramList = List.copyOf(parameters);
        this.params = Natives.persistent(new TensorVector());
        params.push_back(flatten(paramList));
        AdamWOptions options = new AdamWOptions(lr);
        // betas is a std::tuple<double, double>; libstdc++ lays tuples out last-element-first, so
        // find beta1's slot from the defaults (0.9, 0.999) instead of assuming an order.
        int beta1Slot = options.betas().get(0) == 0.9 ? 0 : 1;
        options.betas().put(beta1Slot, beta1).put(1 - beta1Slot, beta2);
        options.eps().put(eps);
        options.weight_decay().put(weightDecay);
        this.optimizer = Natives.persistent(new org.bytedeco.pytorch.AdamW(params, options));
        options.close();
    }

    /**
     * Re-homes every parameter into one flat float32 leaf tensor and every gradient into a flat
     * buffer; returns the flat parameter, whose gradient is that buffer.
     */
    private static org.bytedeco.pytorch.Tensor flatten(List<Tensor> ps) {
        long total = 0;
        for (Tensor p : ps) {
            if (p.dtype() != DType.FLOAT32 || !p.requiresGrad()) {
                throw new IllegalArgumentException("AdamW expects float32 parameters that require grad, got " + p);
            }
            total += p.numel();
        }
        org.bytedeco.pytorch.Tensor flat = Natives.persistent(torch.empty(new long[] {total}, Tensor.options(DType.FLOAT32), null));
        org.bytedeco.pytorch.Tensor flatGrad = Natives.persistent(torch.zeros(new long[] {total}, Tensor.options(DType.FLOAT32)));
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            long offset = 0;
            for (Tensor p : ps) {
                long n = p.numel();
                long[] shape = p.shape();
                org.bytedeco.pytorch.Tensor view = flat.narrow(0, offset, n).view(shape);
                view.copy_(p.t);
                p.t.set_data(view);
                p.t.mutable_grad().put(flatGrad.narrow(0, offset, n).view(shape));
                offset += n;
            }
        }
        flat.requires_grad_(true);
        flat.mutable_grad().put(flatGrad);
        return flat;
    }

    public List<Tensor> parameters() {
        return paramList;
    }

    public void setLearningRate(double lr) {
        optimizer.param_groups().get(0).options().set_lr(lr);
    }

    public double learningRate() {
        return optimizer.param_groups().get(0).options().get_lr();
    }

    /** Zeroes all gradients in place (they stay views of the flat gradient buffer). */
    public void zeroGrad() {
        optimizer.zero_grad(false);
    }

    public void step() {
        try (Scope s = Scope.open()) {
            optimizer.step();
        }
    }

    /**
     * Rescales gradients so their global L2 norm is at most {@code maxNorm}; returns the norm
     * before clipping (infinite or NaN if some gradient is).
     */
    public double clipGradNorm(double maxNorm) {
        try (Scope s = Scope.open()) {
            return torch.clip_grad_norm_(params, maxNorm, 2.0, false);
        }
    }

    /** Writes the optimizer state to {@code file} (libtorch archive). */
    public void save(Path file) {
        try (Scope s = Scope.open()) {
            OutputArchive archive = new OutputArchive();
            optimizer.save(archive);
            archive.save_to(file.toString());
        } catch (RuntimeException e) {
            throw new DiffusionException("could not write optimizer state to " + file + ": " + Natives.firstLine(e));
        }
    }

    /** Restores the state written by {@link #save}; the parameter list must match. */
    public void load(Path file) {
        try (Scope s = Scope.open()) {
            InputArchive archive = new InputArchive();
            archive.load_from(file.toString());
            optimizer.load(archive);
        } catch (RuntimeException e) {
            throw new DiffusionException("optimizer state " + file + " is unreadable or does not match the model: " + Natives.firstLine(e));
        }
    }

    @Override
    public void close() {
        optimizer.close();
        params.close();
    }
}
