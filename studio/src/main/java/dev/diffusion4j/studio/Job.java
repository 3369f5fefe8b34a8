package dev.diffusion4j.studio;

import com.fasterxml.jackson.databind.util.RawValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One unit of compute work and its event log. Events are kept so that a client that subscribes
 * late (or reconnects) gets the whole story replayed. The log is bounded while the job runs and
 * thinned when it ends (only the newest preview is kept), and {@link JobQueue} forgets the job once
 * enough newer ones have finished.
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
        boolean terminal() {
            return name.equals("done") || name.equals("failed") || name.equals("cancelled");
        }
    }

    /** The work itself; it reports through the job and polls {@link Job#cancelRequested()}. */
    interface Work {
        Object run(Job job) throws Exception;
    }

    /** Progress events kept per job; later ones only update {@link #status()}. */
    static final int MAX_PROGRESS_EVENTS = 4000;
    /** Other events kept per job (snapshots, previews, checkpoints); their producers keep well below it. */
    static final int MAX_OTHER_EVENTS = 1000;

    private final String id;
    private final String kind;
    private final long created = System.currentTimeMillis();
    private final List<Event> events = new ArrayList<>();
    private final AtomicBoolean checkpointRequested = new AtomicBoolean();
    private volatile boolean cancelRequested;
    private int progressEvents;
    private int otherEvents;
    private State state = State.QUEUED;
    private long step;
    private long total;
    /** The result as JSON, kept once: the status embeds it raw, the done event carries it. */
    private String resultJson;
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

    boolean cancelRequested() {
        return cancelRequested;
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

    /** Updates the step counter that {@link #status()} reports, without an event. */
    synchronized void at(long step, long total) {
        this.step = step;
        this.total = total;
    }

    synchronized void progress(long step, long total, Map<String, Object> extra) {
        at(step, total);
        if (progressEvents < MAX_PROGRESS_EVENTS) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", step);
            m.put("total", total);
            if (extra != null) {
                m.putAll(extra);
            }
            progressEvents++;
            append(new Event("progress", Http.json(m)));
        }
    }

    /** A named event (snapshot, preview, checkpoint), up to {@link #MAX_OTHER_EVENTS}. */
    synchronized void emit(String name, Object data) {
        if (otherEvents < MAX_OTHER_EVENTS) {
            otherEvents++;
            append(new Event(name, Http.json(data)));
        }
    }

    /** QUEUED → RUNNING; false if the job was cancelled first (it must then not run). */
    synchronized boolean tryStart() {
        if (state != State.QUEUED || cancelRequested) {
            return false;
        }
        state = State.RUNNING;
        return true;
    }

    /** Asks the job to stop; a queued job is cancelled at once (true), a running one stops at its next check. */
    synchronized boolean cancel() {
        cancelRequested = true;
        if (state == State.QUEUED) {
            finish(State.CANCELLED, null, null);
            return true;
        }
        return false;
    }

    synchronized void finish(State end, Object result, String error) {
        if (state.finished()) {
            return;
        }
        String json = result == null ? null : Http.json(result);   // may throw: before any state changes
        Event last = switch (end) {
            case DONE -> new Event("done", "{\"result\":" + (json == null ? "{}" : json) + "}");
            case FAILED -> new Event("failed", Http.json(Map.of("error", error == null ? "the job failed" : error)));
            default -> new Event("cancelled", json == null ? "{}" : "{\"result\":" + json + "}");
        };
        this.state = end;
        this.resultJson = json;
        this.error = error;
        // Only the newest preview is worth replaying once the images exist. The others become null,
        // not removed, so that the positions of live subscribers stay valid.
        int lastPreview = -1;
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i) != null && events.get(i).name().equals("preview")) {
                if (lastPreview >= 0) {
                    events.set(lastPreview, null);
                }
                lastPreview = i;
            }
        }
        append(last);
    }

    private void append(Event e) {
        events.add(e);
        notifyAll();
    }

    /** Events read from the log and the position to read from next. */
    record Batch(List<Event> events, int next) {
    }

    /**
     * The events from position {@code from} on, waiting up to {@code waitMillis} for new ones; none
     * when none came. A subscriber stops after a terminal event.
     */
    synchronized Batch eventsFrom(int from, long waitMillis) throws InterruptedException {
        if (events.size() <= from && !state.finished()) {
            wait(waitMillis);
        }
        List<Event> out = new ArrayList<>();
        for (int i = from; i < events.size(); i++) {
            if (events.get(i) != null) {
                out.add(events.get(i));
            }
        }
        return new Batch(out, Math.max(from, events.size()));
    }

    /** The job as {@code GET /api/jobs/{id}} shows it; {@code withResult} false leaves the result out. */
    synchronized Map<String, Object> status(boolean withResult) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("kind", kind);
        m.put("state", state.wire());
        m.put("created", created);
        m.put("progress", Map.of("step", step, "total", total));
        if (error != null) {
            m.put("error", error);
        }
        if (withResult && resultJson != null) {
            m.put("result", new RawValue(resultJson));
        }
        return m;
    }

    Map<String, Object> status() {
        return status(true);
    }
}
