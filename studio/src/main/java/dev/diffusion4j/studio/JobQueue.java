package dev.diffusion4j.studio;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.sampling.SamplingCancelledException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded queue of compute jobs run by a fixed number of worker threads (one by default:
 * libtorch already spreads one job over every core, so a second would only halve both). A full
 * queue refuses new jobs with 429; finished jobs beyond the newest {@link #KEEP_FINISHED} are
 * forgotten, so the server's memory stays flat however many jobs it runs.
 */
final class JobQueue implements AutoCloseable {
    static final int KEEP_FINISHED = 32;
    private static final Logger LOG = LoggerFactory.getLogger(JobQueue.class);

    private final ThreadPoolExecutor executor;
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    /** The queued tasks by job id, so that cancelling a queued job can take it out of the queue. */
    private final Map<String, Runnable> tasks = new java.util.HashMap<>();
    private final AtomicLong ids = new AtomicLong();

    JobQueue(int workers, int capacity) {
        AtomicLong threads = new AtomicLong();
        executor = new ThreadPoolExecutor(workers, workers, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(capacity), r -> {
            Thread t = new Thread(r, "studio-worker-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Queues {@code work}; 429 when the queue is full. */
    Job submit(String kind, Job.Work work) {
        Job job = new Job(kind + "-" + ids.incrementAndGet(), kind);
        Runnable task = () -> run(job, work);
        synchronized (jobs) {
            jobs.put(job.id(), job);
            tasks.put(job.id(), task);
        }
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            synchronized (jobs) {
                jobs.remove(job.id());
                tasks.remove(job.id());
            }
            throw new ApiException(429, "the job queue is full (" + executor.getQueue().size() + " waiting); try again when a job has finished");
        }
        return job;
    }

    private void run(Job job, Job.Work work) {
        synchronized (jobs) {
            tasks.remove(job.id());
        }
        if (!job.tryStart()) {
            job.finish(Job.State.CANCELLED, null, null);
            prune();
            return;
        }
        try {
            Object result = work.run(job);
            job.finish(job.cancelRequested() ? Job.State.CANCELLED : Job.State.DONE, result, null);
        } catch (SamplingCancelledException e) {
            job.finish(Job.State.CANCELLED, null, null);
        } catch (DiffusionException | ApiException e) {
            job.finish(Job.State.FAILED, null, e.getMessage());
        } catch (Exception | OutOfMemoryError e) {
            LOG.warn("job {} failed", job.id(), e);
            job.finish(Job.State.FAILED, null, e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            prune();
        }
    }

    /** Cancels a queued job at once, freeing its place in the queue; a running job stops at its next check. */
    Job cancel(String id) {
        Job job = get(id);
        if (job.cancel()) {
            Runnable task;
            synchronized (jobs) {
                task = tasks.remove(id);
            }
            if (task != null) {
                executor.remove(task);
            }
            prune();
        }
        return job;
    }

    Job get(String id) {
        synchronized (jobs) {
            Job job = jobs.get(id);
            if (job == null) {
                throw ApiException.notFound("no job '" + id + "' (finished jobs are forgotten after " + KEEP_FINISHED + " newer ones)");
            }
            return job;
        }
    }

    /** All known jobs, newest first. */
    List<Job> list() {
        synchronized (jobs) {
            List<Job> out = new ArrayList<>(jobs.values());
            java.util.Collections.reverse(out);
            return out;
        }
    }

    /** Whether a job of {@code kind} is queued or running. */
    boolean busyWith(String kind) {
        synchronized (jobs) {
            return jobs.values().stream().anyMatch(j -> j.kind().equals(kind) && !j.state().finished());
        }
    }

    private void prune() {
        synchronized (jobs) {
            int finished = (int) jobs.values().stream().filter(j -> j.state().finished()).count();
            var it = jobs.values().iterator();
            while (finished > KEEP_FINISHED && it.hasNext()) {
                if (it.next().state().finished()) {
                    it.remove();
                    finished--;
                }
            }
        }
    }

    int known() {
        synchronized (jobs) {
            return jobs.size();
        }
    }

    /**
     * Stops the server's work: queued jobs are dropped, running ones asked to stop (a training job
     * then writes its checkpoint) and given up to a minute before their threads are interrupted.
     */
    @Override
    public void close() {
        List<Job> all;
        synchronized (jobs) {
            all = new ArrayList<>(jobs.values());
        }
        all.forEach(Job::cancel);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
