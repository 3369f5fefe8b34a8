package dev.diffusion4j.models.sd;

import static dev.diffusion4j.models.GoldenFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.models.GoldenFixtures;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LoRA files in kohya's format (float16, attention, feed-forward, 1×1 and 3×3 convolutions, the text
 * encoder, per-module α, one α missing) and in diffusers' (lora_A/lora_B, no α) on the tiny pipeline
 * diffusers saved (tools/golden/make_lora_fixture.py, checked there against diffusers' and peft's
 * loading): every ΔW, the U-Net and text encoder with one LoRA merged and with both at once, and the
 * weights restored exactly afterwards.
 */
class LoraTest {
    private static StableDiffusionNetwork net;
    private static Path lora;

    @BeforeAll
    static void load() {
        net = StableDiffusionFolder.load(GoldenFixtures.folder("sd_pipeline")).network();
        lora = GoldenFixtures.folder("lora");
    }

    private static Tensor[] outputs(SafetensorsFile io) {
        return new Tensor[] {net.unet().forward(io.read("sample"), io.read("timestep"), io.read("encoder_hidden_states")),
            net.textEncoder().forward(io.read("input_ids")).lastHiddenState()};
    }

    @ParameterizedTest
    @ValueSource(strings = {"kohya_unet_te", "diffusers_unet"})
    void mergesAsTheReferenceDoes(String name) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open(); SafetensorsFile io = Safetensors.open(lora.resolve(name).resolve("io.safetensors"));
             SafetensorsFile deltas = Safetensors.open(lora.resolve(name).resolve("deltas.safetensors"))) {
            Lora l = Lora.read(lora.resolve(name + ".safetensors"), net);
            Map<String, Tensor> mine = l.deltas(net);
            assertEquals(deltas.names().size(), mine.size(), "one ΔW per updated weight");
            for (String key : deltas.names()) {
                assertClose(deltas.read(key), mine.get(key), name + " ΔW of " + key);
            }
            Tensor[] base = outputs(io);
            assertClose(io.read("base_unet_out"), base[0], "the base U-Net");
            try (Lora.Merged m = Lora.merge(net, List.of(l), List.of(0.8))) {
                Tensor[] merged = outputs(io);
                assertClose(io.read("unet_out"), merged[0], name + " U-Net at 0.8");
                assertClose(io.read("text_last_hidden_state"), merged[1], name + " text encoder at 0.8");
            }
            Tensor[] after = outputs(io);
            assertEquals(0, after[0].sub(base[0]).abs().amax().item(), 0, "the weights are back, bit for bit");
            assertEquals(0, after[1].sub(base[1]).abs().amax().item(), 0);
        }
    }

    @Test
    void twoLorasMergeAtOnce() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open(); SafetensorsFile io = Safetensors.open(lora.resolve("kohya_unet_te").resolve("io.safetensors"))) {
            Lora kohya = Lora.read(lora.resolve("kohya_unet_te.safetensors"), net);
            Lora diffusers = Lora.read(lora.resolve("diffusers_unet.safetensors"), net);
            try (Lora.Merged m = Lora.merge(net, List.of(kohya, diffusers), List.of(0.8, 0.5))) {
                Tensor[] both = outputs(io);
                assertClose(io.read("both_unet_out"), both[0], "both LoRAs, U-Net");
                assertClose(io.read("both_text_last_hidden_state"), both[1], "both LoRAs, text encoder");
            }
        }
    }

    /** Through the one generation path: a request's LoRAs change its image, leave the next request's alone, and are recorded. */
    @Test
    void aRequestMergesItsLorasForItsRunOnly() {
        dev.diffusion4j.pipeline.DiffusionPipeline pipeline = dev.diffusion4j.pipeline.DiffusionPipeline.load(GoldenFixtures.folder("sd_pipeline"));
        java.util.function.Function<Double, dev.diffusion4j.pipeline.GenerationRequest> request = m -> {
            var b = dev.diffusion4j.pipeline.GenerationRequest.builder().prompt("a red cube").seed(3).size(16, 16).sampler("euler").steps(3)
                    .guidance(5);
            return (m == null ? b : b.lora(lora.resolve("kohya_unet_te.safetensors"), m)).build();
        };
        try (Scope s = Scope.open()) {
            Tensor plain = pipeline.generate(request.apply(null)).samples();
            var adapted = pipeline.generate(request.apply(0.8));
            Tensor zero = pipeline.generate(request.apply(0.0)).samples();
            Tensor again = pipeline.generate(request.apply(null)).samples();
            assertTrue(adapted.samples().sub(plain).abs().amax().item() > 1e-3, "the LoRA changes the image");
            assertEquals(0, zero.sub(plain).abs().amax().item(), 1e-6, "at multiplier 0 it changes nothing");
            assertEquals(0, again.sub(plain).abs().amax().item(), 0, "the next request runs on the weights as they were");
            assertTrue(String.valueOf(adapted.metadata().get("lora")).endsWith("kohya_unet_te.safetensors:0.8"), adapted.metadata().toString());
        }
        String m = assertThrows(DiffusionException.class, () -> dev.diffusion4j.pipeline.DiffusionPipeline.oracle("8gaussians").generate(
                dev.diffusion4j.pipeline.GenerationRequest.builder().lora(lora.resolve("kohya_unet_te.safetensors"), 1).build())).getMessage();
        assertTrue(m.contains("Stable Diffusion"), m);
    }

    @Test
    void aLoraForAnotherModelIsNamed(@TempDir Path dir) throws IOException {
        Path other = dir.resolve("other.safetensors");
        try (Scope s = Scope.open(); SafetensorsFile f = Safetensors.open(lora.resolve("kohya_unet_te.safetensors"))) {
            Map<String, Tensor> state = new LinkedHashMap<>(f.readAll());
            state.put("lora_unet_input_blocks_4_1_proj_in.lora_down.weight", Tensor.zeros(4, 16));
            Safetensors.write(other, state, Map.of());
        }
        String m = assertThrows(DiffusionException.class, () -> Lora.read(other, net)).getMessage();
        assertTrue(m.contains("lora_unet_input_blocks_4_1_proj_in") && m.contains("another base model"), m);
    }
}
