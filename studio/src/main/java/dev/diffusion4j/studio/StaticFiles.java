package dev.diffusion4j.studio;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.regex.Pattern;

/** The UI's files, served from the classpath (they ship inside the studio jar; nothing is fetched from elsewhere). */
final class StaticFiles {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9]+)+");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "ico", "image/x-icon");

    private StaticFiles() {
    }

    static void serve(HttpExchange ex, String path) throws IOException {
        if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
            throw new ApiException(405, "use GET here");
        }
        String name = path.equals("/") ? "index.html" : path.substring(1);
        // One flat folder: a name with a separator or leading dot is never a UI file.
        if (!SAFE.matcher(name).matches()) {
            throw ApiException.notFound("no file " + path);
        }
        String type = TYPES.get(name.substring(name.lastIndexOf('.') + 1));
        byte[] body;
        try (InputStream in = type == null ? null : StaticFiles.class.getResourceAsStream("web/" + name)) {
            if (in == null) {
                throw ApiException.notFound("no file " + path);
            }
            body = in.readAllBytes();
        }
        ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
        Http.send(ex, 200, type, body);
    }
}
