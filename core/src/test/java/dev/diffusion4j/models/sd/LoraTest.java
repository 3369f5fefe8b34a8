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
