package dev.diffusion4j.studio;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One unit of compute work and its event log. Events are kept so that a client that subscribes
 * late (or reconnects) gets the whole story replayed; the log is bounded, and the job is forgotten
 * by {@link JobQueue} once enough newer jobs have finished.
 */
final class Job {
    enum State {
        QUEUED, RUNNING, DONE, FAILED, CANCELLED;

        boolean finished() {
            return this == DONE || this == FAILED || this == CANCELLED;
        }

        String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A server-sent event: its name and its JSON data. */
    record Event(String name, String json) {
    }

    /** The work itself; it reports through the job and polls {@link Job#cancelRequested()}. */
    interface Work {
        Object run(Job job) throws Exception;
    }

    /** Most events kept per job; progress beyond this is dropped (snapshots and the end are kept). */
    static final int MAX_EVENTS = 4000;

    private final String id;
    private final String kind;
    private final long created = System.currentTimeMillis();
    private final List<Event> events = new ArrayList<>();
    private volatile boolean cancelRequested;
    private final java.util.concurrent.atomic.AtomicBoolean checkpointRequested = new java.util.concurrent.atomic.AtomicBoolean();
    private State state = State.QUEUED;
    private long step;
    private long total;
    private Object result;
    private String error;

    Job(String id, String kind) {
        this.id = id;
        this.kind = kind;
    }

    String id() {
        return id;
    }

    String kind() {
        return kind;
    }

    long created() {
        return created;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    void requestCancel() {
        cancelRequested = true;
    }

    /** Asks a running training job for a checkpoint at its next step. */
    void requestCheckpoint() {
        checkpointRequested.set(true);
    }

    /** Whether a checkpoint was asked for since the last call. */
    boolean takeCheckpointRequest() {
        return checkpointRequested.getAndSet(false);
    }

    synchronized State state() {
        return state;
    }

    synchronized void progress(long step, long total, Map<String, Object> extra) {
        this.step = step;
        this.total = total;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("total", total);
        if (extra != null) {
            m.putAll(extra);
        }
        if (events.size() < MAX_EVENTS) {
            append("progress", m);
        }
    }

    /** An event that is always kept (snapshots, previews), up to twice the usual bound. */
    synchronized void emit(String name, Object data) {
        if (events.size() < 2 * MAX_EVENTS) {
            append(name, data);
        }
    }

    synchronized void start() {
        state = State.RUNNING;
        notifyAll();
    }

    synchronized void finish(State end, Object result, String error) {
        if (state.finished()) {
            return;
        }
        this.state = end;
        this.result = result;
        this.error = error;
        switch (end) {
            case DONE -> append("done", Map.of("result", result == null ? Map.of() : result));
            case FAILED -> append("failed", Map.of("error", error));
            default -> append("cancelled", result == null ? Map.of() : Map.of("result", result));
        }
    }

    private void append(String name, Object data) {
        events.add(new Event(name, Http.json(data)));
        notifyAll();
    }

    /**
     * Events from index {@code from} on, waiting up to {@code waitMillis} for new ones; empty when
     * none came. The caller stops after a terminal event.
     */
    synchronized List<Event> eventsFrom(int from, long waitMillis) throws InterruptedException {
        if (events.size() <= from && !state.finished()) {
            wait(waitMillis);
        }
        return events.size() <= from ? List.of() : new ArrayList<>(events.subList(from, events.size()));
    }

    synchronized Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("kind", kind);
        m.put("state", state.wire());
        m.put("created", created);
        m.put("progress", Map.of("step", step, "total", total));
        if (error != null) {
            m.put("error", error);
        }
        if (result != null) {
            m.put("result", result);
        }
        return m;
    }

    static boolean terminal(Event e) {
        return e.name().equals("done") || e.name().equals("failed") || e.name().equals("cancelled");
    }
}
