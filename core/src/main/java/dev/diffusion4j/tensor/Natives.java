package dev.diffusion4j.tensor;

import org.bytedeco.javacpp.Pointer;

/** Small helpers for native object lifetimes and error messages. */
final class Natives {
    private Natives() {
    }

    /**
     * Marks a native object as owned by its Java holder rather than by the innermost open
     * {@link Scope}: it then lives until the holder is closed or garbage collected.
     */
    static <P extends Pointer> P persistent(P p) {
        p.retainReference();
        return p;
    }

    /** libtorch errors carry a C++ backtrace after the first line; users need only the first. */
    static String firstLine(Throwable e) {
        String m = e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
