package dev.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLIP model's names, logits, temperature cap, config and files. */
class ClipModelTest {
    static final ClipConfig TINY = new ClipConfig(new TextEncoderConfig(ClipTokenizer.VOCAB_SIZE, 8, 16, 1, 8),
            new ClipVisionConfig(1, 8, 2, List.of(8, 16), 1), 4, ClipConfig.LOGIT_SCALE_INIT);

    @TempDir
    Path dir;

    @Test
    void namesFollowTransformersClipModel() {
        ClipModel m = new ClipModel(TINY, new Generator(0));
        Map<String, Tensor> state = m.stateDict();
        assertArrayEquals(new long[] {4, 16}, state.get("text_projection.weight").shape());
        assertArrayEquals(new long[] {4, 16}, state.get("visual_projection.weight").shape());
        assertFalse(state.containsKey("text_projection.bias") || state.containsKey("visual_projection.bias"), "projections have no bias");
        assertArrayEquals(new long[] {}, state.get("logit_scale").shape());
        assertTrue(state.containsKey("text_model.embeddings.token_embedding.weight"));
        assertTrue(state.containsKey("text_model.final_layer_norm.weight"));
        assertTrue(state.containsKey("vision_model.conv_in.weight"));
        assertTrue(state.containsKey("vision_model.down_blocks.0.resnets.0.conv1.weight"));
        assertTrue(state.containsKey("vision_model.down_blocks.0.downsamplers.0.conv.weight"));
        assertFalse(state.containsKey("vision_model.down_blocks.1.downsamplers.0.conv.weight"), "the last level keeps its size");
        assertTrue(state.keySet().stream().allMatch(k -> k.startsWith("text_model.") || k.startsWith("vision_model.")
                || k.startsWith("text_projection.") || k.startsWith("visual_projection.") || k.equals("logit_scale")), state.keySet().toString());
        try (Scope s = Scope.open()) {
            assertArrayEquals(new long[] {8, 1, 2, 2}, state.get("vision_model.conv_in.weight").shape(), "2×2 patches");
            assertEquals(1 / 0.07, m.logitScale().item(), 1e-4, "CLIP's initial temperature 0.07");
            assertArrayEquals(new long[] {3, 4}, m.imageFeatures(Tensor.zeros(3, 1, 8, 8)).shape());
            assertArrayEquals(new long[] {2, 8, 16}, m.textModel().forward(m.tokenize(List.of("a coat", "a bag"))).hidden().shape(),
                    "per-token hidden states, a text-to-image model's context");
            DiffusionException wrong = assertThrows(DiffusionException.class, () -> m.imageFeatures(Tensor.zeros(3, 3, 8, 8)));
            assertTrue(wrong.getMessage().contains("reads 1x8x8 images"), wrong.getMessage());
        }
    }

    @Test
    void logitsAreTheTemperatureScaledCosines() {
        ClipModel m = new ClipModel(TINY, new Generator(0));
        try (Scope s = Scope.open()) {
            // images along the axes, texts at 0° and 53.13°: cosines [[1, 0.6], [0, 0.8]], whatever the lengths
            Tensor images = Tensor.of(new float[] {3, 0, 0, 0, 0, 2, 0, 0}, 2, 4);
            Tensor texts = Tensor.of(new float[] {0.5f, 0, 0, 0, 3, 4, 0, 0}, 2, 4);
            Tensor logits = m.logitsPerImage(images, texts);
            assertArrayEquals(new float[] {1 / 0.07f, 0.6f / 0.07f, 0, 0.8f / 0.07f}, logits.toFloatArray(), 1e-4f);
        }
    }

    @Test
    void logitScaleIsCappedAtOneHundredAndClampedInPlace() {
        ClipModel m = new ClipModel(TINY, new Generator(0));
        Tensor parameter = m.stateDict().get("logit_scale");
        try (Scope s = Scope.open()) {
            try (NoGrad ng = NoGrad.open()) {
                parameter.fill_(6.0);
            }
            assertEquals(100, m.logitScale().item(), 1e-3, "exp(6) = 403 is capped at 100");
            m.clampLogitScale();
            assertEquals((float) Math.log(100), (float) parameter.item(), "the parameter itself is put back to ln 100");
            try (NoGrad ng = NoGrad.open()) {
                parameter.fill_(3.0);
            }
            m.clampLogitScale();
            assertEquals(3.0, parameter.item(), 0, "a scale below the cap is left alone");
            assertEquals(Math.exp(3), m.logitScale().item(), 1e-4);
        }
        assertThrows(DiffusionException.class, () -> new ClipConfig(TINY.textConfig(), TINY.visionConfig(), 4, 4.7),
                "an initial scale above 100 is refused");
    }

    @Test
    void saveLoadRoundTripIsBitExact() {
        ClipModel m = new ClipModel(TINY, new Generator(3));
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            m.stateDict().get("logit_scale").fill_(2.9);
        }
        m.save(dir.resolve("clip"));
        assertTrue(Files.isRegularFile(dir.resolve("clip/config.json")) && Files.isRegularFile(dir.resolve("clip/model.safetensors")));
        ClipModel back = ClipModel.load(dir.resolve("clip"));
        assertEquals(TINY, back.config());
        try (Scope s = Scope.open()) {
            Map<String, Tensor> a = m.stateDict();
            Map<String, Tensor> b = back.stateDict();
            assertEquals(a.keySet(), b.keySet());
            a.forEach((k, v) -> assertTrue(v.equal(b.get(k)), k + " differs after loading"));
            Tensor images = Tensor.randn(new Generator(4), 5, 1, 8, 8);
            List<String> prompts = List.of("a coat", "a bag", "sneaker", "a photo of a dark sandal", "a coat");
            assertTrue(m.embedImages(images).equal(back.embedImages(images)));
            assertTrue(m.embedTexts(prompts).equal(back.embedTexts(prompts)));
        }
    }

    @Test
    void configJsonRoundTripsAndUnknownKeysAreRefused() {
        Map<String, Object> written = Json.mapper().convertValue(TINY.toConfig(), Map.class);
        assertEquals(TINY, ClipConfig.fromConfig(written));
        assertEquals(ClipConfig.MODEL_TYPE, written.get("model_type"));

        refused(m -> m.put("vision_tower", "vit"), "CLIP config: unknown keys [vision_tower]");
        refused(m -> section(m, "text_config").put("intermediate_size", 64), "CLIP text config: unknown keys [intermediate_size]");
        refused(m -> section(m, "vision_config").put("hidden_act", "quick_gelu"), "CLIP vision config: unknown keys [hidden_act]");
        refused(m -> m.put("model_type", "clip"), "not conv_clip");
        refused(m -> m.remove("projection_dim"), "'projection_dim' must be a number");
        refused(m -> section(m, "vision_config").put("patch_size", 3), "a multiple of patch_size 3");
    }

    @Test
    void aFolderWithoutWeightsIsRefused() throws Exception {
        Files.createDirectories(dir.resolve("empty"));
        Json.write(dir.resolve("empty/config.json"), TINY.toConfig());
        DiffusionException e = assertThrows(DiffusionException.class, () -> ClipModel.load(dir.resolve("empty")));
        assertTrue(e.getMessage().contains("has no model.safetensors"), e.getMessage());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> m, String key) {
        Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) m.get(key));
        m.put(key, copy);
        return copy;
    }

    @SuppressWarnings("unchecked")
    private static void refused(Consumer<Map<String, Object>> edit, String message) {
        Map<String, Object> m = new LinkedHashMap<>(Json.mapper().convertValue(TINY.toConfig(), Map.class));
        edit.accept(m);
        DiffusionException e = assertThrows(DiffusionException.class, () -> ClipConfig.fromConfig(m));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
