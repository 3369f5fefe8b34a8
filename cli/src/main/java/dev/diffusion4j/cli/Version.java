package dev.diffusion4j.cli;

import picocli.CommandLine;

/** Reports the project and backend versions for {@code diffuse --version}. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"diffuse " + dev.diffusion4j.Version.VERSION + " (diffusion4j)",
            "libtorch via org.bytedeco:pytorch " + dev.diffusion4j.Version.BACKEND + ", Java " + System.getProperty("java.version")};
    }
}
