package dev.diffusion4j.studio;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.data.ToyDatasets;
import dev.diffusion4j.sampling.Samplers;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The studio's HTTP server: the static UI under {@code /} and the JSON API under {@code /api}
 * (documented in docs/studio-api.md).
 *
 * <p>It is the JDK's own {@code com.sun.net.httpserver}: a local single-user app needs no more than
 * routing a dozen paths, JSON bodies and one streaming response (server-sent events), and the JDK
 * server does all three with no dependency at all, where a framework would add a servlet container
 * and its transitive jars to every download of the CLI.
 */
public final class Studio implements AutoCloseable {
    /** Everything the server needs to start. */
    public record Options(String host, int port, Path models, Path out, int workers, int queue) {
        public Options {
            if (port < 0 || port > 65535) {
                throw new DiffusionException("--port must be between 0 and 65535, got " + port);
            }
            if (workers < 1 || workers > 16) {
                throw new DiffusionException("--workers must be between 1 and 16, got " + workers);
            }
            if (queue < 1 || queue > 1000) {
                throw new DiffusionException("--queue must be between 1 and 1000, got " + queue);
            }
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(Studio.class);
    private static final Pattern JOB = Pattern.compile("/api/jobs/([A-Za-z0-9_-]{1,64})(/events|/cancel|/checkpoint)?");
    private static final Pattern GALLERY_FILE = Pattern.compile("/api/gallery/([^/]+)");
    /** How long an idle event stream waits before a keep-alive comment. */
    private static final long HEARTBEAT_MILLIS = 15_000;

    private final HttpServer server;
    private final ExecutorService handlers;
    private final JobQueue jobs;
    private final Models models;
    private final Explorer explorer;
    private final LiveTraining training;
    private final ImageGeneration generation;
    private final Gallery gallery;

    private Studio(Options o) throws IOException {
        this.models = new Models(o.models());
        this.gallery = new Gallery(o.out().resolve("gallery"));
        this.jobs = new JobQueue(o.workers(), o.queue());
        this.explorer = new Explorer(models);
        this.training = new LiveTraining(models);
        this.generation = new ImageGeneration(models, gallery);
        this.server = HttpServer.create(new InetSocketAddress(o.host(), o.port()), 64);
        // Event streams hold a thread each for as long as a page listens; requests are otherwise short.
        this.handlers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "studio-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(handlers);
        server.createContext("/", this::handle);
    }

    /** Starts a studio; {@code port} 0 picks a free one (see {@link #url()}). */
    public static Studio start(Options options) {
        try {
            Files.createDirectories(options.models());
            Studio s = new Studio(options);
            s.server.start();
            return s;
        } catch (java.net.BindException e) {
            throw new DiffusionException("cannot listen on " + options.host() + ":" + options.port() + " (" + e.getMessage()
                    + "); choose another --port");
        } catch (IOException e) {
            throw new DiffusionException("cannot start the studio: " + e.getMessage());
        }
    }

    public String url() {
        InetSocketAddress a = server.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/";
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Jobs the server still remembers (queued, running and the newest finished ones). */
    public int knownJobs() {
        return jobs.known();
    }

    @Override
    public void close() {
        server.stop(0);
        jobs.close();
        handlers.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getPath();
            if (path.startsWith("/api/")) {
                api(ex, ex.getRequestMethod(), path);
            } else {
                StaticFiles.serve(ex, path);
            }
        } catch (ApiException e) {
            Http.sendError(ex, e.status(), e.getMessage());
        } catch (DiffusionException e) {
            Http.sendError(ex, 400, e.getMessage());
        } catch (IOException e) {
            ex.close();   // the client went away
        } catch (RuntimeException e) {
            LOG.warn("request {} failed", ex.getRequestURI(), e);
            Http.sendError(ex, 500, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private void api(HttpExchange ex, String method, String path) throws IOException {
        boolean get = method.equals("GET") || method.equals("HEAD");
        switch (path) {
            case "/api/datasets" -> {
                requireGet(get);
                List<Map<String, Object>> out = new ArrayList<>();
                for (Toy2D d : ToyDatasets.all()) {
                    out.add(Map.of("name", d.name(), "description", d.description(), "oracle", d.mixture().isPresent()));
                }
                Http.sendJson(ex, 200, out);
            }
            case "/api/schedules" -> {
                requireGet(get);
                Http.sendJson(ex, 200, Explorer.scheduleNames());
            }
            case "/api/samplers" -> {
                requireGet(get);
                Http.sendJson(ex, 200, Samplers.entries().stream()
                        .map(e -> Map.of("name", e.name(), "description", e.description(), "order", e.order())).toList());
            }
            case "/api/models" -> {
                requireGet(get);
                Http.sendJson(ex, 200, models.list().stream().map(Models.Info::toJson).toList());
            }
            case "/api/forward" -> {
                requireGet(get);
                Http.sendJson(ex, 200, explorer.forward(Http.query(ex)));
            }
            case "/api/field" -> {
                requireGet(get);
                Http.sendJson(ex, 200, explorer.field(Http.query(ex)));
            }
            case "/api/gallery" -> {
                requireGet(get);
                Http.sendJson(ex, 200, gallery.list());
            }
            case "/api/jobs" -> {
                if (get) {
                    Http.sendJson(ex, 200, jobs.list().stream().map(j -> j.status(false)).toList());
                } else if (method.equals("POST")) {
                    Job job = submit(Http.body(ex));
                    Http.sendJson(ex, 202, Map.of("id", job.id(), "kind", job.kind(), "state", job.state().wire()));
                } else {
                    throw new ApiException(405, "use GET or POST on /api/jobs");
                }
            }
            default -> routed(ex, method, path, get);
        }
    }

    private void routed(HttpExchange ex, String method, String path, boolean get) throws IOException {
        Matcher m = JOB.matcher(path);
        if (m.matches()) {
            String action = m.group(2);
            if (action == null) {
                requireGet(get);
                Http.sendJson(ex, 200, jobs.get(m.group(1)).status());
            } else if (action.equals("/cancel")) {
                if (!method.equals("POST")) {
                    throw new ApiException(405, "use POST to cancel a job");
                }
                Http.sendJson(ex, 200, jobs.cancel(m.group(1)).status());
            } else if (action.equals("/checkpoint")) {
                if (!method.equals("POST")) {
                    throw new ApiException(405, "use POST to ask for a checkpoint");
                }
                Job job = jobs.get(m.group(1));
                if (!job.kind().equals("train") || job.state() != Job.State.RUNNING) {
                    throw new ApiException(409, "only a running training job writes checkpoints; " + job.id() + " is a "
                            + job.state().wire() + " " + job.kind() + " job");
                }
                job.requestCheckpoint();
                Http.sendJson(ex, 202, job.status());
            } else {
                if (!method.equals("GET")) {
                    throw new ApiException(405, "use GET for an event stream");
                }
                events(ex, jobs.get(m.group(1)));
            }
            return;
        }
        Matcher g = GALLERY_FILE.matcher(path);
        if (g.matches()) {
            requireGet(get);
            Path file = gallery.file(g.group(1));
            ex.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + file.getFileName() + "\"");
            Http.send(ex, 200, "image/png", Files.readAllBytes(file));
            return;
        }
        throw ApiException.notFound("no API endpoint " + path + " (see docs/studio-api.md)");
    }

    private static void requireGet(boolean get) {
        if (!get) {
            throw new ApiException(405, "use GET here");
        }
    }

    private Job submit(Params p) {
        String kind = Params.canonical("kind", p.required("kind"), List.of("reverse", "lab", "train", "generate"));
        if (kind.equals("train")) {
            // the checks (one live training, a new name) and the submission are one step, so a double click queues one run
            synchronized (training) {
                return jobs.submit(kind, training.prepare(p, jobs));
            }
        }
        Job.Work work = switch (kind) {
            case "reverse" -> explorer.reverse(p);
            case "lab" -> explorer.lab(p);
            default -> generation.prepare(p);
        };
        return jobs.submit(kind, work);
    }

    /** Server-sent events: the job's log replayed from the start, then live until its end event. */
    private static void events(HttpExchange ex, Job job) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            int next = 0;
            while (true) {
                Job.Batch batch = job.eventsFrom(next, HEARTBEAT_MILLIS);
                next = batch.next();
                if (batch.events().isEmpty()) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    continue;
                }
                boolean end = false;
                for (Job.Event e : batch.events()) {
                    out.write(("event: " + e.name() + "\ndata: " + e.json() + "\n\n").getBytes(StandardCharsets.UTF_8));
                    end |= e.terminal();
                }
                out.flush();
                if (end) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
