package dev.diffusion4j.cli;

import dev.diffusion4j.tensor.Backend;
import java.util.List;
import picocli.CommandLine.Option;

/** The benchmarks' {@code --precision}: which arithmetic to measure, by default fp32 plus bf16 where it is fast. */
final class BenchPrecisions {
    @Option(names = "--precision", split = ",", paramLabel = "PRECISION", description = "Precisions to measure (default: fp32, plus bf16 on CPUs with "
            + "bf16 hardware that oneDNN can use; elsewhere bf16 is emulated and far slower).")
    List<String> names;

    /** The precisions asked for, or the default for this CPU. */
    List<String> names() {
        if (names != null) {
            return names;
        }
        return Backend.bf16Fast() ? List.of("fp32", "bf16") : List.of("fp32");
    }
}
