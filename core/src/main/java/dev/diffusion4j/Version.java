package dev.diffusion4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The project's version, as the build recorded it. */
public final class Version {
    /** "0.1.0" and the like; the build writes it into a resource. */
    public static final String VERSION = read("version.properties", "version");

    /** The libtorch build underneath, from the pytorch preset's Maven coordinates ("2.10.0-1.5.13": libtorch 2.10.0, presets 1.5.13). */
    public static final String BACKEND = read("/META-INF/maven/org.bytedeco/pytorch/pom.properties", "version");

    private Version() {
    }

    private static String read(String resource, String key) {
        try (InputStream in = Version.class.getResourceAsStream(resource)) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty(key, "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
