package dev.diffusion4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The web UI's parameters text: read as users' PNGs carry it (new and old sampler naming), and written back so that it reads the same. */
class A1111ParametersTest {

    @Test
    void readsAWebUiPng() {
        Map<String, String> r = A1111Parameters.parse("""
                masterpiece, (best quality:1.2), a fox
                in the snow
                Negative prompt: blurry, lowres
                Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567890, Size: 512x768, \
                Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Clip skip: 2, ADetailer model: "face_yolov8n.pt, x", Version: v1.9.4""");
        assertEquals("masterpiece, (best quality:1.2), a fox\nin the snow", r.get("prompt"));
        assertEquals("blurry, lowres", r.get("negative"));
        assertEquals("28", r.get("steps"));
        assertEquals("dpmpp_2m", r.get("sampler"));
        assertEquals("karras", r.get("sigma_schedule"));
        assertEquals("6.5", r.get("guidance"));
        assertEquals("1234567890", r.get("seed"));
        assertEquals("768x512", r.get("size"), "the web UI writes width x height; the request takes height x width");
        assertEquals("1", r.get("clip_skip"), "the web UI counts the last layer as clip skip 1");
        GenerationRequest request = GenerationRequest.builder().set("prompt", r.get("prompt")).build();
        assertTrue(request.prompt().contains("fox"));
        r.forEach((k, v) -> assertTrue(GenerationRequest.Builder.FIELDS.contains(k), k + " is a request field"));
    }

    @Test
    void readsOlderSamplerNamesAndRefusesUnknownOnes() {
        Map<String, String> r = A1111Parameters.parse("a cat\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x512");
        assertEquals("dpmpp_2m", r.get("sampler"));
        assertEquals("karras", r.get("sigma_schedule"));
        assertEquals("euler_ancestral", A1111Parameters.parse("a cat\nSteps: 20, Sampler: Euler a, Seed: 1").get("sampler"));
        String m = assertThrows(DiffusionException.class, () -> A1111Parameters.parse("a cat\nSteps: 4, Sampler: LCM, Seed: 1")).getMessage();
        assertTrue(m.contains("LCM"), m);
        assertTrue(assertThrows(DiffusionException.class, () -> A1111Parameters.parse("just a caption")).getMessage().contains("Steps"));
    }

    @Test
    void writesWhatItReads() {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("software", "diffusion4j 0.2");
        meta.put("model", "sd15");
        meta.put("model_hash", "0123456789abcdef");
        meta.put("seed", 42L);
        meta.put("size", "768x512");
        meta.put("prompt", "a (red:1.3) fox");
        meta.put("negative", "blurry");
        meta.put("guidance", 7.5);
        meta.put("clip_skip", 1);
        meta.put("sampler", "euler_ancestral");
        meta.put("steps", 25);
        meta.put("sigma_schedule", "karras");
        String text = A1111Parameters.format(meta);
        assertTrue(text.contains("Size: 512x768") && text.contains("Model hash: 0123456789") && text.contains("Sampler: Euler a"), text);
        Map<String, String> back = A1111Parameters.parse(text);
        assertEquals(Map.of("prompt", "a (red:1.3) fox", "negative", "blurry", "steps", "25", "sampler", "euler_ancestral",
                "sigma_schedule", "karras", "guidance", "7.5", "seed", "42", "size", "768x512", "clip_skip", "1"), back);
    }
}
