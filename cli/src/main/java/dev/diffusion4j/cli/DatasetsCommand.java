package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.DataSources;
import dev.diffusion4j.data.ImageDataset;
import dev.diffusion4j.data.ImageDatasets;
import dev.diffusion4j.data.ImageOptions;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.data.ToyDatasets;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Lists the built-in data sets. */
@Command(name = "datasets", mixinStandardHelpOptions = true,
        description = {"List the built-in data sets. Any CSV file of numbers (one row per point, header optional), image folder, "
                + ".npy array or IDX file works too."})
final class DatasetsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Also print the list as one JSON line.")
    boolean json;

    @Option(names = "--captions", paramLabel = "DATA", description = "Instead of the list, print the captions of a captioned image "
            + "set (a built-in name such as emoji-test, or a folder), one per line in image order: the prompts for measuring a "
            + "text-to-image model on held-out data with 'diffuse sample --prompts FILE'.")
    String captionsOf;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        if (captionsOf != null) {
            printCaptions(out);
            return;
        }
        out.println("Built-in 2D data sets (generated on the fly, use with --data NAME):");
        List<Map<String, Object>> list = new ArrayList<>();
        for (Toy2D d : ToyDatasets.all()) {
            out.printf("  %-13s %s%s%n", d.name(), d.description(), d.mixture().isPresent() ? " [exact Gaussian mixture]" : "");
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", d.name());
            m.put("dim", d.dim());
            m.put("description", d.description());
            list.add(m);
        }
        out.println();
        out.println("Built-in image data sets (train with --model unet):");
        ImageDatasets.descriptions().forEach((name, description) -> {
            out.printf("  %-18s %s%n", name, description);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("description", description);
            m.put("images", true);
            list.add(m);
        });
        out.println();
        out.println("Your own data: --data path/to/file.csv (numeric columns, any dimension), or images: a folder of PNG/JPEG files "
                + "(one sub-folder per class, optional; captions in a metadata.jsonl or a .txt beside each image, optional), a .npy "
                + "array, or MNIST-style IDX files.");
        if (json) {
            JsonLine.print(out, Map.of("datasets", list));
        }
        out.flush();
    }

    private void printCaptions(PrintWriter out) {
        if (!(DataSources.open(captionsOf, new ImageOptions(null, null, false)) instanceof ImageDataset images)) {
            throw new DiffusionException(captionsOf + " is not an image data set; --captions lists an image set's captions");
        }
        if (!images.hasCaptions()) {
            throw new DiffusionException(captionsOf + " has no captions (a folder gets them from a metadata.jsonl or a .txt beside "
                    + "each image)");
        }
        images.captions().forEach(c -> out.println(c.replaceAll("\\s+", " ").strip()));
        out.flush();
    }
}
