package dev.diffusion4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.MlpConfig;
import dev.diffusion4j.model.MlpNetwork;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NnTest {
    @Test
    void stateDictKeysReadLikePyTorch() {
        MlpNetwork net = new MlpNetwork(new MlpConfig(3, 16, 2, 8, Activation.SILU, 4, 1.0), new Generator(0));
        Map<String, Tensor> sd = net.stateDict();
        assertTrue(sd.containsKey("time_embedding.linear_1.weight"));
        assertTrue(sd.containsKey("time_embedding.linear_2.bias"));
        assertTrue(sd.containsKey("fourier.B"), "buffers are saved with the weights");
        assertTrue(sd.containsKey("blocks.0.norm.weight"));
        assertTrue(sd.containsKey("blocks.1.fc2.bias"));
        assertTrue(sd.containsKey("output_proj.weight"));
        assertFalse(net.namedParameters().containsKey("fourier.B"), "buffers are not trained");
        assertArrayEquals(new long[] {16, 3 + 8}, sd.get("input_proj.weight").shape());
        long expected = 0;
        for (Tensor p : net.parameters()) {
            expected += p.numel();
        }
        assertEquals(expected, net.parameterCount());
    }

    @Test
    void loadStateDictCopiesAndRejectsMismatches() {
        MlpConfig cfg = new MlpConfig(2, 8, 1, 8, Activation.SILU, 0, 1.0);
        MlpNetwork a = new MlpNetwork(cfg, new Generator(1));
        MlpNetwork b = new MlpNetwork(cfg, new Generator(2));
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(new Generator(3), 5, 2);
            Tensor t = Tensor.full(10, 5);
            assertFalse(a.predict(x, t).equal(b.predict(x, t)));
            b.loadStateDict(a.stateDict());
            assertTrue(a.predict(x, t).equal(b.predict(x, t)));
            Map<String, Tensor> missing = new HashMap<>(a.stateDict());
            missing.remove("blocks.0.fc1.weight");
            DiffusionException e1 = assertThrows(DiffusionException.class, () -> b.loadStateDict(missing));
            assertTrue(e1.getMessage().contains("missing [blocks.0.fc1.weight]"), e1.getMessage());
            Map<String, Tensor> wrongShape = new HashMap<>(a.stateDict());
            wrongShape.put("output_proj.bias", Tensor.zeros(3));
            DiffusionException e2 = assertThrows(DiffusionException.class, () -> b.loadStateDict(wrongShape));
            assertTrue(e2.getMessage().contains("output_proj.bias"), e2.getMessage());
        }
    }

    @Test
    void linearUsesPyTorchDefaultInitBounds() {
        Linear l = new Linear(64, 32, new Generator(0));
        Tensor w = l.namedParameters().get("weight");
        double bound = 1 / Math.sqrt(64);
        assertTrue(w.abs().amax().item() <= bound);
        assertTrue(w.abs().amax().item() > 0.9 * bound, "uniform over the whole interval");
    }

    @Test
    void normsMatchTheirDefinitions() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 10, 20, 30, 40}, 2, 4);
            // layer norm of [1,2,3,4]: mean 2.5, population variance 1.25
            float[] ln = new LayerNorm(4).forward(x).toFloatArray();
            assertEquals((1 - 2.5) / Math.sqrt(1.25 + 1e-5), ln[0], 1e-5);
            assertEquals((40 - 25) / Math.sqrt(125 + 1e-5), ln[7], 1e-5);
            // group norm with 2 groups of 2 channels over [N=1, C=4, L=2]
            Tensor y = Tensor.of(new float[] {1, 3, 5, 7, 0, 0, 2, 2}, 1, 4, 2);
            float[] gn = new GroupNorm(2, 4).forward(y).toFloatArray();
            // group 0 = {1,3,5,7}: mean 4, var 5
            assertEquals((1 - 4) / Math.sqrt(5 + 1e-5), gn[0], 1e-5);
            // group 1 = {0,0,2,2}: mean 1, var 1
            assertEquals((2 - 1) / Math.sqrt(1 + 1e-5), gn[7], 1e-5);
            assertThrows(DiffusionException.class, () -> new GroupNorm(3, 4));
        }
    }

    @Test
    void sinusoidalEmbeddingUsesTheSeedsFormula() {
        try (Scope s = Scope.open()) {
            int dim = 8;
            float[] e = new SinusoidalEmbedding(dim).forward(Tensor.of(new float[] {0, 7}, 2)).toFloatArray();
            int half = dim / 2;
            for (int i = 0; i < half; i++) {
                double f = Math.exp(-Math.log(10000) * i / (half - 1));
                assertEquals(0, e[i], 1e-7, "sin(0)");
                assertEquals(1, e[half + i], 1e-7, "cos(0)");
                assertEquals(Math.sin(7 * f), e[dim + i], 1e-5);
                assertEquals(Math.cos(7 * f), e[dim + half + i], 1e-5);
            }
        }
    }

    @Test
    void fourierFeaturesAreSinAndCosOfTwoPiXB() {
        FourierFeatures ff = new FourierFeatures(2, 3, 1.5, new Generator(4));
        try (Scope s = Scope.open()) {
            float[] b = ff.stateDict().get("B").toFloatArray();
            float[] out = ff.forward(Tensor.of(new float[] {0.3f, -0.7f}, 1, 2)).toFloatArray();
            for (int j = 0; j < 3; j++) {
                double arg = 2 * Math.PI * (0.3 * b[j] - 0.7 * b[3 + j]);
                assertEquals(Math.sin(arg), out[j], 1e-5);
                assertEquals(Math.cos(arg), out[3 + j], 1e-5);
            }
        }
    }

    @Test
    void activationsByName() {
        assertEquals(Activation.SILU, Activation.parse("swish"));
        assertEquals(Activation.GELU, Activation.parse("GELU"));
        assertThrows(DiffusionException.class, () -> Activation.parse("softsign"));
        try (Scope s = Scope.open()) {
            float[] g = Activation.GELU.apply(Tensor.of(new float[] {1f}, 1)).toFloatArray();
            assertEquals(0.8413447460685429, g[0], 1e-6, "x·Φ(x) at 1");
        }
    }

    @Test
    void moduleListNamesChildrenByIndex() {
        ModuleList<Linear> list = new ModuleList<>();
        list.add(new Linear(2, 2, new Generator(0)));
        list.add(new Linear(2, 2, false, new Generator(0)));
        assertEquals(List.of("0.weight", "0.bias", "1.weight"), List.copyOf(list.stateDict().keySet()));
    }
}
