package dev.diffusion4j.cli;

import dev.diffusion4j.studio.Studio;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Starts the studio web app. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Start the studio: a local web app with the process explorer (2D forward and reverse process, score field), "
                + "live 2D training, the sampler lab and image generation. Open the printed URL in a browser; Ctrl-C stops it.",
                "The API is documented in docs/studio-api.md."})
final class ServeCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--port", defaultValue = "7860", description = "Port to listen on (0: any free port; default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to bind (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 exposes it to the network).")
    String host;

    @Option(names = "--models", defaultValue = "runs",
            description = "Folder of trained models, one run directory each (default ${DEFAULT-VALUE}); studio training writes here too.")
    Path models;

    @Option(names = "--out", defaultValue = "studio-out", description = "Folder for generated images (default ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--workers", defaultValue = "1",
            description = "Compute jobs run at once (default ${DEFAULT-VALUE}: libtorch already uses every core for one).")
    int workers;

    @Option(names = "--queue", defaultValue = "16", description = "Jobs that may wait; more are refused with 429 (default ${DEFAULT-VALUE}).")
    int queue;

    @Override
    public void run() {
        Studio studio = Studio.start(new Studio.Options(host, port, models, outDir, workers, queue));
        PrintWriter out = spec.commandLine().getOut();
        out.println("diffusion4j studio: " + studio.url() + "   (models: " + models.toAbsolutePath().normalize() + "; Ctrl-C stops)");
        out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            studio.close();
            stopped.countDown();
        }));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
