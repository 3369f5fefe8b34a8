package dev.diffusion4j.cli;

import picocli.CommandLine;

/** Reports the project and backend versions for {@code diffuse --version}. */
final class Version implements CommandLine.IVersionProvider {
    static final String VERSION = "0.1.0-SNAPSHOT";

    @Override
    public String[] getVersion() {
        return new String[] {"diffuse " + VERSION + " (diffusion4j)", "libtorch 2.10.0 via org.bytedeco:pytorch, Java " + System.getProperty("java.version")};
    }
}
