package io.strata.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A group member's commits, one at a time and in the order they were made: two in flight could be applied in
 * either order, and the server keeps whichever comes last, so an older one would move the offsets back.
 *
 * <p>Asynchronous commits made while one is in flight are merged into one pending commit (each partition's newest
 * offset), sent when it is answered: an application that commits after every poll queues neither requests nor
 * memory without bound, however slow the store. A synchronous commit waits for the one in flight and for the
 * pending one, sent first, so nothing older is sent after it; asynchronous ones made meanwhile wait for it. After a
 * whole {@code patience} with no answer to the one in flight, the next goes anyway (a node that never answers must
 * not stop the member's commits). Thread-safe.
 */
final class CommitQueue {
    /** Sends one asynchronous commit; {@code done} gets null or the failure. */
    @FunctionalInterface
    interface Sender {
        void send(Map<Integer, Long> offsets, Map<Integer, Long> epochs, Consumer<StrataException> done);
    }

    /** Makes one synchronous commit, throwing its failure. */
    @FunctionalInterface
    interface SyncCommit {
        void run();
    }

    private final Sender sender;
    private final long patienceNanos;
    private boolean inFlight;
    /** Synchronous commits under way: the asynchronous ones made meanwhile wait for them. */
    private int held;
    /** Completes when the commit in flight is answered. */
    private CompletableFuture<Void> answered = CompletableFuture.completedFuture(null);
    private Map<Integer, Long> pendingOffsets = new HashMap<>();
    private Map<Integer, Long> pendingEpochs = new HashMap<>();
    private List<Consumer<StrataException>> pendingDone = new ArrayList<>();

    CommitQueue(Sender sender, Duration patience) {
        this.sender = sender;
        this.patienceNanos = patience.toNanos();
    }

    /** Commits without waiting: now, or merged into the commit that goes once the one in flight is answered. */
    void async(Map<Integer, Long> offsets, Map<Integer, Long> epochs, Consumer<StrataException> done) {
        synchronized (this) {
            pendingOffsets.putAll(offsets);
            pendingEpochs.putAll(epochs);
            pendingDone.add(done);
        }
        sendPending();
    }

    /**
     * Makes {@code commit} after every commit made before it was answered (or a whole patience passed waiting),
     * holding back the ones made meanwhile until it ends: they are newer, and sent before it they would be
     * overwritten by its older offsets.
     */
    void sync(SyncCommit commit) {
        long until = System.nanoTime() + patienceNanos;
        Batch before;
        synchronized (this) {
            held++;
            before = takePending();
        }
        try {
            awaitAnswered(until);
            if (before != null) {
                dispatch(before);
                awaitAnswered(until);
            }
            synchronized (this) {
                inFlight = true;
                answered = new CompletableFuture<>();
            }
            commit.run();
        } finally {
            synchronized (this) {
                held--;
            }
            ended();
        }
    }

    /** Waits until the commit in flight was answered, or until {@code until} (System.nanoTime). */
    private void awaitAnswered(long until) {
        while (true) {
            CompletableFuture<Void> wait;
            synchronized (this) {
                if (!inFlight) {
                    return;
                }
                wait = answered;
            }
            try {
                wait.get(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                return; // unanswered after the patience: the next one goes anyway
            } catch (java.util.concurrent.ExecutionException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw StrataException.from(e);
            }
        }
    }

    /** The commits made and not sent, as one (each partition's newest offset); null when there are none. */
    private Batch takePending() {
        if (pendingDone.isEmpty()) {
            return null;
        }
        Batch b = new Batch(pendingOffsets, pendingEpochs, pendingDone);
        pendingOffsets = new HashMap<>();
        pendingEpochs = new HashMap<>();
        pendingDone = new ArrayList<>();
        return b;
    }

    private record Batch(Map<Integer, Long> offsets, Map<Integer, Long> epochs, List<Consumer<StrataException>> done) {
    }

    private void sendPending() {
        Batch next;
        synchronized (this) {
            if (inFlight || held > 0) {
                return;
            }
            next = takePending();
            if (next == null) {
                return;
            }
        }
        dispatch(next);
    }

    /** Sends the batch as the commit in flight; once answered, the next goes and then its callbacks hear. */
    private void dispatch(Batch batch) {
        synchronized (this) {
            inFlight = true;
            answered = new CompletableFuture<>();
        }
        sender.send(batch.offsets(), batch.epochs(), failure -> {
            ended(); // first: a callback that commits again must not wait for itself
            batch.done().forEach(d -> d.accept(failure));
        });
    }

    private void ended() {
        CompletableFuture<Void> last;
        synchronized (this) {
            inFlight = false;
            last = answered;
        }
        last.complete(null);
        sendPending();
    }
}
