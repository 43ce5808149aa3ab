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
 * whole {@code patience} with no answer to a commit (each commit's tries share one deadline that long), the next
 * goes anyway: a node that never answers must not stop the member's commits. Callbacks hear in the order their
 * commits went, whichever answer comes first. Thread-safe.
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
    /** Completes when the commit in flight is answered; it names that commit (see {@link #ended}). */
    private CompletableFuture<Void> answered = CompletableFuture.completedFuture(null);
    private Map<Integer, Long> pendingOffsets = new HashMap<>();
    private Map<Integer, Long> pendingEpochs = new HashMap<>();
    private List<Consumer<StrataException>> pendingDone = new ArrayList<>();
    /** Batches sent so far: each batch's number, in the order they went. */
    private long sentBatches;
    /** The batch whose callbacks are told next: they hear in the order their commits went, as Kafka's do. */
    private long nextTold;
    /** Answered batches' callbacks waiting for those of batches sent before them. */
    private final java.util.TreeMap<Long, Runnable> answeredUntold = new java.util.TreeMap<>();
    private boolean telling;
    private final java.util.concurrent.locks.ReentrantLock syncs = new java.util.concurrent.locks.ReentrantLock(true);

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
     * Makes {@code commit} after every commit made before it was answered (each given a whole patience), holding
     * back the ones made meanwhile until it ends: they are newer, and sent before it they would be overwritten by
     * its older offsets.
     */
    void sync(SyncCommit commit) {
        // One synchronous commit at a time (two threads committing at once, or a callback that commits): the
        // second would find nothing in flight while the first is between taking its batch and sending it.
        syncs.lock();
        try {
            syncAlone(commit);
        } finally {
            syncs.unlock();
        }
    }

    private void syncAlone(SyncCommit commit) {
        Batch before;
        synchronized (this) {
            held++;
            before = takePending();
        }
        CompletableFuture<Void> mine = null;
        try {
            awaitAnswered();
            if (before != null) {
                Batch older = before;
                before = null;
                dispatch(older);
                awaitAnswered();
            }
            mine = begin();
            commit.run();
        } finally {
            synchronized (this) {
                if (before != null) { // not sent (interrupted): it goes first once this ends, its callbacks kept
                    before.offsets().putAll(pendingOffsets);
                    before.epochs().putAll(pendingEpochs);
                    before.done().addAll(pendingDone);
                    pendingOffsets = before.offsets();
                    pendingEpochs = before.epochs();
                    pendingDone = before.done();
                }
                held--;
            }
            if (mine != null) {
                ended(mine);
            } else {
                sendPending();
            }
        }
    }

    /** Waits until the commit in flight now was answered, or a whole patience passed. */
    private void awaitAnswered() {
        CompletableFuture<Void> wait;
        synchronized (this) {
            if (!inFlight) {
                return;
            }
            wait = answered;
        }
        try {
            wait.get(patienceNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            // unanswered after the patience: the next one goes anyway
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StrataException.from(e);
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
        Sending next;
        synchronized (this) {
            if (inFlight || held > 0) {
                return;
            }
            Batch batch = takePending();
            if (batch == null) {
                return;
            }
            next = claim(batch); // in the same hold: no other thread can take a batch and send it meanwhile
        }
        send(next);
    }

    /** A batch about to go: the token its end is told with, and its number in the order batches went. */
    private record Sending(Batch batch, CompletableFuture<Void> token, long number) {
    }

    /** Marks the batch as the commit in flight. */
    private synchronized Sending claim(Batch batch) {
        return new Sending(batch, begin(), sentBatches++);
    }

    /** Marks a commit in flight; the token its end is told with. */
    private synchronized CompletableFuture<Void> begin() {
        inFlight = true;
        answered = new CompletableFuture<>();
        return answered;
    }

    /** Sends the batch as the commit in flight; once answered, the next goes and then its callbacks hear. */
    private void dispatch(Batch batch) {
        send(claim(batch));
    }

    private void send(Sending sending) {
        Batch batch = sending.batch();
        CompletableFuture<Void> token = sending.token();
        long number = sending.number();
        java.util.concurrent.atomic.AtomicBoolean told = new java.util.concurrent.atomic.AtomicBoolean();
        Consumer<StrataException> done = failure -> {
            if (told.compareAndSet(false, true)) {
                ended(token); // first: a callback that commits again must not wait for itself
                tellInOrder(number, () -> {
                    for (Consumer<StrataException> d : batch.done()) {
                        try {
                            d.accept(failure);
                        } catch (Throwable ignored) {
                            // one caller's callback failing (even with an Error) must not keep the others from hearing
                        }
                    }
                });
            }
        };
        try {
            sender.send(batch.offsets(), batch.epochs(), done);
        } catch (Throwable e) { // the queue must not stay stuck with a commit "in flight" that never went
            done.accept(StrataException.from(e));
        }
    }

    /**
     * Tells batch {@code number}'s callbacks once those of every batch sent before it were told: the next batch
     * goes as soon as one is answered, and its answer (or a late one after a batch was given up on) can come
     * first. One thread tells at a time, callbacks outside the lock.
     */
    private void tellInOrder(long number, Runnable tell) {
        synchronized (this) {
            answeredUntold.put(number, tell);
            if (telling) {
                return; // the thread telling now tells this one too, in its turn
            }
            telling = true;
        }
        boolean done = false;
        try {
            while (true) {
                Runnable next;
                synchronized (this) {
                    next = answeredUntold.remove(nextTold);
                    if (next == null) {
                        telling = false;
                        done = true;
                        return;
                    }
                    nextTold++;
                }
                next.run();
            }
        } finally {
            if (!done) { // a callback threw an Error: the next answer tells those left
                synchronized (this) {
                    telling = false;
                }
            }
        }
    }

    /**
     * The commit {@code token} names was answered: the queue goes on, unless that one was given up on already
     * (a late answer must not end the one in flight after it).
     */
    private void ended(CompletableFuture<Void> token) {
        boolean current;
        synchronized (this) {
            current = answered == token;
            if (current) {
                inFlight = false;
            }
        }
        token.complete(null);
        sendPending(); // checks itself whether one is in flight or held back
    }
}
