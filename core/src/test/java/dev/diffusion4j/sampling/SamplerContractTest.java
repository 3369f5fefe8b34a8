package dev.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.model.MixtureDenoiser;
import dev.diffusion4j.model.Oracles;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * What every registered sampler promises, whatever its algorithm, on the 8gaussians oracle bound to
 * DDPM's linear schedule: a seed reproduces bit-identical samples (and a stochastic sampler's
 * output depends on it), progress is reported step by step with the index rising and the noise
 * level falling, and a cancelled run stops with {@link SamplingCancelledException}.
 */
class SamplerContractTest {
    private static final MixtureDenoiser ORACLE = Oracles.open("8gaussians").withSchedule(NoiseSchedule.of(BetaSchedule.LINEAR, 1000));
    private static final SamplerOptions FEW_STEPS = SamplerOptions.DEFAULTS.withSteps(10);

    @Test
    void seedsReproduceBitIdenticalSamples() {
        for (String name : Samplers.names()) {
            try (Scope s = Scope.open()) {
                Tensor noise = Tensor.randn(new Generator(1), 128, 2);
                Sampler sampler = Samplers.create(name, FEW_STEPS);
                Tensor a = sampler.sample(ORACLE, noise, new Generator(7));
                Tensor b = Samplers.create(name, FEW_STEPS).sample(ORACLE, noise.clone(), new Generator(7));
                assertTrue(a.equal(b), name + " must give bit-identical samples for the same noise and seed");
                assertTrue(Double.isFinite(a.sum().item()), name + " produced non-finite samples");
                Tensor c = sampler.sample(ORACLE, noise, new Generator(8));
                boolean stochastic = Samplers.entries().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow()
                        .order().equals("stochastic");
                if (stochastic) {
                    assertFalse(a.equal(c), name + " is stochastic: another seed must give other samples");
                } else {
                    assertTrue(a.equal(c), name + " is deterministic: the seed must not matter");
                }
            }
        }
    }

    @Test
    void progressIsReportedInOrderAndCancellationStops() {
        for (String name : Samplers.names()) {
            int[] seen = {0};
            double[] lastSigma = {Double.POSITIVE_INFINITY};
            try (Scope s = Scope.open()) {
                Samplers.create(name, FEW_STEPS).sample(ORACLE, Tensor.randn(new Generator(1), 16, 2), new Generator(2), new SamplingListener() {
                    @Override
                    public void onStep(SamplingStep step) {
                        assertEquals(seen[0], step.index(), name + " step index");
                        assertTrue(step.total() > step.index(), name + " total " + step.total() + " at step " + step.index());
                        assertTrue(step.sigma() < lastSigma[0], name + " noise level must fall: " + step.sigma() + " after " + lastSigma[0]);
                        assertEquals(16, step.x().size(0), name + " reports the state");
                        seen[0]++;
                        lastSigma[0] = step.sigma();
                    }
                });
            }
            assertTrue(seen[0] >= 2, name + " reported " + seen[0] + " steps");
            SamplingListener cancelAfterTwo = new SamplingListener() {
                int steps;

                @Override
                public void onStep(SamplingStep step) {
                    steps++;
                }

                @Override
                public boolean isCancelled() {
                    return steps >= 2;
                }
            };
            try (Scope s = Scope.open()) {
                assertThrows(SamplingCancelledException.class, () -> Samplers.create(name, FEW_STEPS)
                        .sample(ORACLE, Tensor.randn(new Generator(1), 16, 2), new Generator(2), cancelAfterTwo), name + " must stop when cancelled");
            }
        }
    }
}
