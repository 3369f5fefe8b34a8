package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * The explicit midpoint method on the flow-matching ODE (see {@link FlowSampler}; Hairer, Nørsett
 * &amp; Wanner, "Solving ODEs I", II.1, eq. 1.9):
 * <pre>
 * x_{t+h} = x_t + h·v(x_t + (h/2)·v(x_t, t), t + h/2)
 * </pre>
 * Second order, two evaluations per step (one on the last), 25 steps by default.
 */
public final class FlowMidpointSampler extends FlowSampler {
    public FlowMidpointSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "flow_midpoint";
    }

    @Override
    protected int stages() {
        return 2;
    }

    @Override
    protected Tensor advance(Step s, Tensor x, Tensor v, double t, double h) {
        Tensor half = x.add(v.mul(h / 2));
        return x.add(velocity(s, half, t + h / 2).mul(h));
    }
}
