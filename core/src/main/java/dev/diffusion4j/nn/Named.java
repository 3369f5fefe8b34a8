package dev.diffusion4j.nn;

/**
 * A container whose children are registered under names chosen by the caller — for layouts whose
 * state-dict keys follow another implementation's {@code nn.Sequential} indices ("time_mlp.1",
 * "to_out.0").
 */
public final class Named extends Module {
    /** Registers {@code module} under {@code name}; returns it. */
    public <M extends Module> M add(String name, M module) {
        return child(name, module);
    }
}
