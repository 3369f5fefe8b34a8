package dev.diffusion4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** An indexed list of child modules, named "0", "1", ... in state-dict keys. */
public final class ModuleList<M extends Module> extends Module {
    private final List<M> items = new ArrayList<>();

    public M add(M m) {
        child(Integer.toString(items.size()), m);
        items.add(m);
        return m;
    }

    public M get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }

    public List<M> items() {
        return Collections.unmodifiableList(items);
    }
}
