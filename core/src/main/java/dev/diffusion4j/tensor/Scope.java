package dev.diffusion4j.tensor;

import java.util.Iterator;
import org.bytedeco.javacpp.PointerScope;

/**
 * Deterministic release of native memory: every tensor created while a scope is open is freed
 * when it closes, unless {@link #keep kept}. Open one per training or sampling step:
 *
 * <pre>{@code
 * try (Scope step = Scope.open()) {
 *     Tensor loss = objective.loss(model, batch, gen);
 *     ...
 *     x = step.keep(xNext);   // survives into the enclosing scope
 * }
 * }</pre>
 *
 * Scopes nest per thread. A kept tensor moves to the enclosing scope, or, outside any scope,
 * to its Java owner (freed by {@link Tensor#close()} or the garbage collector).
 */
public final class Scope implements AutoCloseable {
    private final PointerScope scope;

    private Scope() {
        Backend.prepareThread();
        this.scope = new PointerScope();
    }

    public static Scope open() {
        return new Scope();
    }

    /** Lets {@code t} outlive this scope; returns it for chaining. */
    public Tensor keep(Tensor t) {
        PointerScope parent = parentOf(scope);
        if (parent != null) {
            parent.attach(t.t);
        } else {
            t.t.retainReference();
        }
        return t;
    }

    /** Keeps every tensor in the array; returns it. */
    public Tensor[] keep(Tensor... ts) {
        for (Tensor t : ts) {
            keep(t);
        }
        return ts;
    }

    /**
     * Takes {@code t} out of scope management altogether: it lives until {@link Tensor#close()} or
     * garbage collection, whatever scopes are open. For long-lived state such as model weights.
     */
    public static Tensor escape(Tensor t) {
        t.t.retainReference();
        return t;
    }

    private static PointerScope parentOf(PointerScope s) {
        Iterator<PointerScope> it = PointerScope.getScopeIterator();
        while (it.hasNext()) {
            if (it.next() == s) {
                return it.hasNext() ? it.next() : null;
            }
        }
        throw new IllegalStateException("Scope.keep called on a scope that is not open on this thread");
    }

    @Override
    public void close() {
        scope.close();
    }
}
