package dev.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.models.unet.UNet2DConditionModel;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stable Diffusion's U-Net trained here: its config, its diffusers-named U-Net part, the empty prompt as null condition. */
class TextUNet2DConditionModelTest {
    private static final TextEncoderConfig TEXT = new TextEncoderConfig(ClipTokenizer.VOCAB_SIZE, 12, 16, 2, 8);

    private static TextUNet2DConditionConfig config() {
        UNet2DConfig unet = UNet2DConfig.defaults(4, 8).withBlockOutChannels(16, 32);
        return TextUNet2DConditionConfig.of(unet, TEXT);
    }

    @Test
    void theConfigMapsTheUNetAndRoundTrips() {
        TextUNet2DConditionConfig c = config();
        assertEquals(List.of("DownBlock2D", "CrossAttnDownBlock2D"), c.unet().downBlockTypes());
        assertEquals(List.of("CrossAttnUpBlock2D", "UpBlock2D"), c.unet().upBlockTypes());
        assertEquals(16, c.unet().crossAttentionDim(), "cross-attention reads the text encoder's features");
        assertEquals(List.of(1, 1), c.unet().attentionHeads(), "one head per 32 channels, at least one");
        assertEquals(c, NetworkConfig.fromConfig(c.toConfig()));
        assertEquals(2, c.sizeMultiple());
        assertThrows(DiffusionException.class, () -> new TextUNet2DConditionConfig(c.unet(),
                new TextEncoderConfig(ClipTokenizer.VOCAB_SIZE, 12, 24, 2, 8)));
    }

    /**
     * The U-Net part, written as a diffusers unet/ folder and loaded back by the loader users' Stable
     * Diffusion weights go through, gives the model's own prediction from the text encoder's features.
     */
    @Test
    void itsUNetIsADiffusersUNetAndPromptsReachIt(@TempDir Path dir) {
        try (Scope s = Scope.open()) {
            Generator g = new Generator(3);
            TextUNet2DConditionModel model = config().build(g);
            Tensor x = Tensor.randn(g, 2, 4, 8, 8);
            Tensor t = Tensor.of(new float[] {10, 700}, 2);
            Tensor tokens = ClipTokenizer.clip().ids(List.of("a red square", "a blue circle"), 12);
            Tensor ours = model.predictWithVariance(x, t, tokens).prediction();

            model.unet().save(dir);
            UNet2DConditionModel reloaded = UNet2DConditionModel.load(dir);
            TextEncoder text = new TextEncoder(TEXT, g);
            text.loadStateDict(model.stateDict().entrySet().stream()
                    .filter(e -> e.getKey().startsWith(TextConditionedNetwork.TEXT_ENCODER_PREFIX))
                    .collect(java.util.stream.Collectors.toMap(e -> e.getKey().substring(TextConditionedNetwork.TEXT_ENCODER_PREFIX.length()),
                            java.util.Map.Entry::getValue)));
            Tensor theirs = reloaded.forward(x, t, text.forward(tokens).hidden());
            assertEquals(0.0, ours.sub(theirs).abs().amax().item(), 1e-6);

            Tensor swapped = ClipTokenizer.clip().ids(List.of("a blue circle", "a red square"), 12);
            double moved = ours.sub(model.predictWithVariance(x, t, swapped).prediction()).abs().amax().item();
            assertTrue(moved > 1e-4, "the prompt changes the prediction: " + moved);

            Tensor empty = ClipTokenizer.clip().ids(List.of("", ""), 12);
            assertEquals(0.0, model.predict(x, t).sub(model.predictWithVariance(x, t, empty).prediction()).abs().amax().item(), 0.0,
                    "no condition is the empty prompt");
            assertThrows(DiffusionException.class, () -> model.useTextEncoderOf(new ClipModel(ClipConfig.of(1, 16), g)),
                    "a CLIP text tower of another size is refused");
        }
    }
}
