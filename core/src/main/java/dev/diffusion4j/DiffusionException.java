package dev.diffusion4j;

/**
 * The one exception type for errors a user can cause or fix: a bad path, a wrong shape, a corrupt
 * file, an unknown name, a diverging loss. The message says what went wrong and what to do; the
 * CLI prints it on one line without a stack trace.
 */
public class DiffusionException extends RuntimeException {
    public DiffusionException(String message) {
        super(message);
    }

    public DiffusionException(String message, Throwable cause) {
        super(message, cause);
    }
}
