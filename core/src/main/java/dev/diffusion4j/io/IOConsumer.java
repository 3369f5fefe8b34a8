package dev.diffusion4j.io;

import java.io.IOException;

/** A consumer that may throw {@link IOException}: the body of a file write. */
@FunctionalInterface
public interface IOConsumer<T> {
    void accept(T value) throws IOException;
}
