package dev.diffusion4j.sampling;

import dev.diffusion4j.schedule.GridSpec;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What every registered sampler promises, whatever its algorithm: the same noise and seed give
 * bit-identical samples; a sampler registered with order "stochastic" depends on the seed and every
 * other one does not; the listener sees each step in order, the noise level falling, ending at
 * σ = 0 (rk45 at σ_min);
 * cancellation stops it before the next step.
 */
class SamplerContractTest {
    private static final NoiseSchedule LINEAR = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);

    /** Few Langevin steps per level for annealed_langevin. */
    private static SamplerOptions small(String name) {
        return SamplerOptions.DEFAULTS.withLevelSteps(5);
    }

    /** A few steps, or the sampler's own choice where it takes no step count. */
    private static GridSpec grid(String name) {
        return name.equals("dpm_adaptive") || name.equals("rk45") ? GridSpec.DEFAULT : GridSpec.steps(6);
    }

    @Test
    void everySamplerIsSeededReportsItsStepsAndCanBeCancelled() {
        for (Samplers.Entry e : Samplers.entries()) {
            String name = e.name();
            Sampler sampler = Samplers.create(name, small(name));
            GaussianDenoiser d = new GaussianDenoiser(0.5, 0.8, LINEAR);
            try (Scope s = Scope.open()) {
                Tensor noise = Tensor.randn(new Generator(1), 32, 2);
                List<Integer> indices = new ArrayList<>();
                List<Double> sigmas = new ArrayList<>();
                int[] lastTotal = {0};
                Tensor a = Samplers.run(sampler, d, noise, grid(name), new Generator(9), new SamplingListener() {
                    @Override
                    public void onStep(SamplingStep step) {
                        indices.add(step.index());
                        sigmas.add(step.sigma());
                        lastTotal[0] = step.total();
                        assertEquals(step.x().shape()[0], 32);
                        assertNotNull(step.denoised(), name + " reports its denoised estimate");
                    }
                });
                assertTrue(indices.size() >= 2, name + " reports its steps");
                for (int i = 0; i < indices.size(); i++) {
                    assertEquals(i, indices.get(i), name + " step indices count from 0");
                    assertTrue(i == 0 || sigmas.get(i) < sigmas.get(i - 1), name + ": the noise level falls at every step " + sigmas);
                }
                assertEquals(indices.size(), lastTotal[0], name + ": the last step's total is the number of steps");
                // rk45 reports its ODE steps only, the last at σ_min, then returns x̂₀ there
                assertEquals(name.equals("rk45") ? d.sigmaMin() : 0.0, sigmas.get(sigmas.size() - 1), 1e-9, name + "'s last level");
                Tensor b = Samplers.run(sampler, d, noise, grid(name), new Generator(9));
                Tensor c = Samplers.run(sampler, d, noise, grid(name), new Generator(10));
                assertTrue(a.equal(b), name + " must give bit-identical samples for the same seed");
                assertEquals(e.order().equals("stochastic"), !a.equal(c), name + " (order " + e.order() + ") and the seed");

                int[] seen = {0};
                assertThrows(SamplingCancelledException.class, () -> Samplers.run(sampler, d, noise, grid(name), new Generator(9),
                        new SamplingListener() {
                            @Override
                            public void onStep(SamplingStep step) {
                                seen[0]++;
                            }

                            @Override
                            public boolean isCancelled() {
                                return seen[0] >= 1;
                            }
                        }), name + " honours cancellation");
                assertEquals(1, seen[0], name + " stops before its second step");
            }
        }
    }

    /**
     * Without the final denoise every sampler ends on the noisy state at its lowest positive level
     * (annealed Langevin: after its last level's Langevin steps), not on the denoised estimate.
     */
    @Test
    void everySamplerCanSkipTheFinalDenoise() {
        for (Samplers.Entry e : Samplers.entries()) {
            String name = e.name();
            GaussianDenoiser d = new GaussianDenoiser(0.5, 0.8, LINEAR);
            try (Scope s = Scope.open()) {
                Tensor noise = Tensor.randn(new Generator(1), 32, 2);
                double[] last = {-1};
                Tensor denoised = Samplers.run(Samplers.create(name, small(name)), d, noise, grid(name), new Generator(9));
                Tensor noisy = Samplers.run(Samplers.create(name, small(name).withDenoiseFinal(false)), d, noise, grid(name), new Generator(9),
                        new SamplingListener() {
                    @Override
                    public void onStep(SamplingStep step) {
                        last[0] = step.sigma();
                    }
                });
                assertFalse(noisy.equal(denoised), name + " must end on the noisy state without the final denoise");
                assertTrue(Double.isFinite(noisy.sum().item()), name);
                if (!name.equals("annealed_langevin")) {
                    assertTrue(last[0] > 0, name + " must stop at a positive noise level, got " + last[0]);
                }
            }
        }
    }
}
