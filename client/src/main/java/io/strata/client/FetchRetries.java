package io.strata.client;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Which fetch node a {@link Consumer} or a {@link ShareConsumer} asks next for each partition, and when, while
 * the partition's fetches (or a share member's answers) fail with {@link Transient} failures: any fetch node
 * serves any partition, and a fetch is safe to ask again (a plain one changes nothing; a share member's that
 * failed took nothing for it, and what a failing node did acquire comes back when its lock runs out), as are a
 * share member's answers (each names the delivery it answers). The next fetch goes at once to the next node in
 * the partition's ranking after the one that failed (one that answered is passed over too: a restarting node may
 * answer before it can serve); once each was tried, the fetches are spaced out (up to {@link #MAX_PAUSE_MS})
 * until one answers. The failure is the poll's once the partition has had no answer for longer than the client's
 * deadline, counted from when the first failed attempt's answer was due (sent, plus the wait a long poll asked
 * for), and never at the first failure: a node that hung until the call's own deadline is followed by a try on
 * the next.
 *
 * <p>Used by the consumer's polling thread only.
 */
final class FetchRetries {
    /** The longest pause between fetches of a partition whose fetch nodes cannot serve it. */
    static final long MAX_PAUSE_MS = 1_000;

    /**
     * A partition whose last {@code tries} fetches failed, the last on {@code node}; the first of them was due at
     * {@code sinceNanos}; the next fetch waits for {@code retryAtNanos}.
     */
    private record Failing(int tries, String node, long sinceNanos, long retryAtNanos) {
    }

    private final NodeRouter router;
    private final Duration deadline;
    private final Map<Integer, Failing> failing = new HashMap<>();

    FetchRetries(NodeRouter router, Duration deadline) {
        this.router = router;
        this.deadline = deadline;
    }

    /** The node to send the partition's next fetch to. */
    String nodeFor(long topicId, int partition) {
        Failing f = failing.get(partition);
        return router.fetchNodeFor(topicId, partition, f == null ? null : f.node());
    }

    /** Whether the partition's last fetch failed (its next one is a retry). */
    boolean failing(int partition) {
        return failing.containsKey(partition);
    }

    /** When the partition's next fetch may go ({@link System#nanoTime}), or null when it may go now. */
    Long retryAtNanos(int partition, long nowNanos) {
        Failing f = failing.get(partition);
        return f != null && f.retryAtNanos() - nowNanos > 0 ? f.retryAtNanos() : null;
    }

    /** The partition was answered, or left the assignment, or its failure was thrown: it starts afresh. */
    void forget(int partition) {
        failing.remove(partition);
    }

    /**
     * A blocking call about the partition ({@code attempt}, given a node), made on {@code first} and, while it fails
     * with a {@link Transient} failure, as a fetch is asked again: at once on the next node, then with pauses.
     * Throws the failure once the partition has had no answer for a whole deadline, or at once one that any node
     * would give (or any failure once the thread is interrupted). As with fetches, a first attempt that hung for
     * its whole deadline is followed by one on the next node: the call may take up to twice the deadline.
     */
    <T> T call(long topicId, int partition, String first, java.util.function.Function<String, T> attempt) {
        String node = first;
        while (true) {
            long sentAt = System.nanoTime();
            try {
                T answer = attempt.apply(node);
                forget(partition);
                return answer;
            } catch (io.grpc.StatusRuntimeException | StrataException e) { // the call's failures; a bug goes through
                StrataException f = StrataException.from(e);
                if (!Transient.is(f) || Thread.currentThread().isInterrupted()) {
                    forget(partition);
                    throw f;
                }
                failed(partition, node, sentAt, f);
            }
            Long retryAt = retryAtNanos(partition, System.nanoTime());
            if (retryAt != null) {
                try {
                    TimeUnit.NANOSECONDS.sleep(retryAt - System.nanoTime());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    forget(partition);
                    throw new StrataException(io.grpc.Status.Code.CANCELLED, "interrupted while asking again");
                }
            }
            node = nodeFor(topicId, partition);
        }
    }

    /**
     * The partition's fetch (or its start offset's lookup), sent to {@code node} and due by {@code dueAtNanos} (its
     * sending plus the wait it asked for), failed with a {@link Transient} failure: schedules the next try, or
     * throws the failure once the partition has had no answer for a whole deadline and this was not its first.
     */
    void failed(int partition, String node, long dueAtNanos, StrataException failure) {
        if (failure.unreachable()) {
            router.markDown(node);
        } else {
            router.refreshSoon(); // it answered, but cannot serve the partition: which nodes can?
        }
        long now = System.nanoTime();
        Failing before = failing.get(partition);
        long since = before == null ? dueAtNanos : before.sinceNanos();
        if (before != null && now - since > deadline.toNanos()) {
            failing.remove(partition);
            throw failure;
        }
        int tries = before == null ? 1 : before.tries() + 1;
        int beyond = tries - router.fetchCandidates(); // 0 once each node was tried
        long pauseMs = beyond < 0 ? 0 : Math.min(MAX_PAUSE_MS, 50L << Math.min(10, beyond));
        failing.put(partition, new Failing(tries, node, since, now + TimeUnit.MILLISECONDS.toNanos(pauseMs)));
    }
}
