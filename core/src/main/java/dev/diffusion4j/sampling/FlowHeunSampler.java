package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * Heun's method (the explicit trapezoidal rule) on the flow-matching ODE (see {@link FlowSampler}):
 * <pre>
 * x' = x_t + h·v(x_t, t),   x_{t+h} = x_t + (h/2)·(v(x_t, t) + v(x', t + h))
 * </pre>
 * Second order, two evaluations per step (one on the last), 25 steps by default.
 */
public final class FlowHeunSampler extends FlowSampler {
    public FlowHeunSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "flow_heun";
    }

    @Override
    protected int stages() {
        return 2;
    }

    @Override
    protected Tensor advance(Step s, Tensor x, Tensor v, double t, double h) {
        Tensor euler = x.add(v.mul(h));
        return x.add(v.add(velocity(s, euler, t + h)).mul(h / 2));
    }
}
