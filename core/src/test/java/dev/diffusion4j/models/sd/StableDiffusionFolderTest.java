package dev.diffusion4j.models.sd;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.models.GoldenFixtures;
import dev.diffusion4j.pipeline.DiffusionPipeline;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A user's pipeline folder that does not fit gets one error naming the part, file or key, and nothing half-loaded. */
class StableDiffusionFolderTest {
    @TempDir
    Path dir;

    @BeforeEach
    void copyFixture() throws IOException {
        Path source = GoldenFixtures.folder("sd_pipeline");
        try (Stream<Path> files = Files.walk(source)) {
            for (Path p : files.filter(p -> !p.toString().contains("cases")).toList()) {
                Path target = dir.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    private String failure() {
        return assertThrows(DiffusionException.class, () -> DiffusionPipeline.load(dir)).getMessage();
    }

    private void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "'" + part + "' in: " + message);
        }
    }

    @Test
    void anotherPipelineClassIsNamed() throws IOException {
        Path index = dir.resolve("model_index.json");
        String original = Files.readString(index);
        Files.writeString(index, original.replace("\"StableDiffusionPipeline\"", "\"StableDiffusion3Pipeline\""));
        assertMentions(failure(), "StableDiffusion3Pipeline", "model_index.json");
        // an SDXL pipeline needs its second text encoder
        Files.writeString(index, original.replace("\"StableDiffusionPipeline\"", "\"StableDiffusionXLPipeline\""));
        assertMentions(failure(), "text_encoder_2", "CLIPTextModelWithProjection");
    }

    @Test
    void aPartOfAnotherClassIsNamed() throws IOException {
        Path index = dir.resolve("model_index.json");
        Files.writeString(index, Files.readString(index).replace("\"CLIPTextModel\"", "\"T5EncoderModel\""));
        assertMentions(failure(), "text_encoder", "T5EncoderModel", "CLIPTextModel");
    }

    @Test
    void aMissingTokenizerFileIsNamed() throws IOException {
        Files.delete(dir.resolve("tokenizer").resolve("merges.txt"));
        assertMentions(failure(), "merges.txt", "tokenizer");
    }

    @Test
    void pickledWeightsAreNeverRead() throws IOException {
        Path unet = dir.resolve("unet");
        Files.move(unet.resolve("diffusion_pytorch_model.safetensors"), unet.resolve("diffusion_pytorch_model.bin"));
        assertMentions(failure(), "diffusion_pytorch_model.safetensors", "never read");
    }

    @Test
    void aTruncatedWeightsFileIsNamed() throws IOException {
        Path weights = dir.resolve("vae").resolve("diffusion_pytorch_model.safetensors");
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
        assertMentions(failure(), "diffusion_pytorch_model.safetensors");
    }

    @Test
    void anUnknownOrMisshapenTextEncoderWeightIsNamed() {
        Path weights = dir.resolve("text_encoder").resolve("model.safetensors");
        Map<String, Tensor> state;
        try (Scope s = Scope.open(); SafetensorsFile f = Safetensors.open(weights)) {
            state = new LinkedHashMap<>(f.readAll());
            state.put("text_model.extra_head.weight", Tensor.zeros(2, 2));
            Safetensors.write(weights, state, Map.of());
            assertMentions(failure(), "text_model.extra_head.weight");

            state.remove("text_model.extra_head.weight");
            state.put("text_model.final_layer_norm.weight", Tensor.zeros(31));
            Safetensors.write(weights, state, Map.of());
            assertMentions(failure(), "text_model.final_layer_norm.weight", "[31]");
        }
    }

    @Test
    void positionIdsThatAreNotAPositionListAreRefused() {
        Path weights = dir.resolve("text_encoder").resolve("model.safetensors");
        try (Scope s = Scope.open(); SafetensorsFile f = Safetensors.open(weights)) {
            Map<String, Tensor> state = new LinkedHashMap<>(f.readAll());
            state.put("text_model.embeddings.position_ids", Tensor.arange(77).view(1, 77));
            Safetensors.write(weights, state, Map.of());
            DiffusionPipeline.load(dir);   // older transformers saved this buffer: it loads
            state.put("text_model.embeddings.position_ids", Tensor.arange(77).flip(0).view(1, 77));
            Safetensors.write(weights, state, Map.of());
            assertMentions(failure(), "text_model.embeddings.position_ids");
        }
    }
}
