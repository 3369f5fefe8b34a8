package dev.diffusion4j.models.clip;

import static dev.diffusion4j.models.GoldenFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.models.GoldenFixtures;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity with transformers' own CLIPTextModel and CLIPTextModelWithProjection: folders written by the
 * reference implementation on tiny random configurations (tools/golden/make_clip_text_fixture.py),
 * loaded as a pipeline's {@code text_encoder/} folder is. One is like SD 1.x's encoder (quick_gelu, the
 * legacy end-of-text rule that pools at the largest id), one like SDXL's second (gelu, a projection,
 * pooling at the first end-of-text id, rows padded with it). Every hidden state, the clip-skip state,
 * the pooled and the projected features must match within {@link GoldenFixtures#assertClose}.
 */
class CLIPTextModelGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"clip_text_sd1_tiny", "clip_text_sd2_tiny"})
    void matchesTransformers(String fixture) {
        Path dir = GoldenFixtures.folder("clip_text/" + fixture);
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open(); SafetensorsFile io = Safetensors.open(dir.resolve("io.safetensors"))) {
            CLIPTextModel model = CLIPTextModel.load(dir);
            CLIPTextModel.Output out = model.forward(io.read("input_ids"));
            assertClose(io.read("last_hidden_state"), out.lastHiddenState(), fixture + " last_hidden_state");
            assertClose(io.read("pooler_output"), out.pooled(), fixture + " pooler_output");
            int layers = model.config().numHiddenLayers();
            assertEquals(layers + 1, out.hiddenStates().size());
            for (int k = 0; k <= layers; k++) {
                assertClose(io.read("hidden_states." + k), out.hiddenStates().get(k), fixture + " hidden_states." + k);
            }
            assertClose(io.read("penultimate_normed"), model.finalLayerNorm(out.fromEnd(1)), fixture + " clip skip 1");
            if (model.config().hasProjection()) {
                assertClose(io.read("text_embeds"), out.textEmbeds(), fixture + " text_embeds");
            } else {
                assertNull(out.textEmbeds());
                assertTrue(!io.names().contains("text_embeds"));
            }
        }
    }
}
