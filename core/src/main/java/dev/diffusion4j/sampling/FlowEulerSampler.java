package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * Euler's method on the flow-matching ODE (see {@link FlowSampler}), the rectified-flow sampler of
 * Liu et al. 2023: x_{t+h} = x_t + h·v(x_t, t). First order, one evaluation per step, 50 steps by default.
 */
public final class FlowEulerSampler extends FlowSampler {
    public FlowEulerSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "flow_euler";
    }

    @Override
    protected int stages() {
        return 1;
    }

    @Override
    protected Tensor advance(Step s, Tensor x, Tensor v, double t, double h) {
        return x.add(v.mul(h));
    }
}
