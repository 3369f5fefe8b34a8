package dev.diffusion4j.pipeline;

import dev.diffusion4j.tensor.Tensor;
import java.util.List;

/**
 * The samples of one {@link GenerationRequest} in data units ([N, dim] vectors, or [N, C, H, W]
 * images in [−1, 1]), what produced them, the warnings the request deserved (a prompt cut to the
 * model's context, say) and the wall-clock seconds sampling took. The samples belong to the caller's
 * enclosing scope.
 */
public record GenerationResult(Tensor samples, GenerationMetadata metadata, List<String> warnings, double seconds) {
    public GenerationResult {
        warnings = List.copyOf(warnings);
    }
}
