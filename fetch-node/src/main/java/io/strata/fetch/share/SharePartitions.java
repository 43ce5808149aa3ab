package io.strata.fetch.share;

import io.strata.metadata.share.ShareStateStore;
import io.strata.queues.share.SharePartition;
import io.strata.queues.share.SharePolicy;
import io.strata.queues.share.ShareStateCodec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The share partitions this node decides for, each held in memory as last stored and changed only through
 * {@link #apply}: one decision at a time per partition (chained, never blocking a thread), stored with
 * compare-and-set before its result is given to anyone. Another node deciding for the same partition meanwhile
 * makes the store refuse the write; the state is then read again and the decision taken again on it. Thread-safe.
 */
final class SharePartitions {
    /** How often one decision is tried against other writers before it fails with UNAVAILABLE. */
    private static final int ATTEMPTS = 8;
    /** Partitions held at most: the least recently used beyond this are dropped (they are read again when asked). */
    private static final int MAX_HELD = 100_000;

    /** A share partition: the group, and the topic by id (its name along, for what is written about it). */
    record Key(String group, String topic, long topicId, int partition) {
    }

    /** A decision waiting for its partition's next write. */
    private static final class Pending<T> {
        final Function<SharePartition, T> decide;
        final SharePolicy policy;
        final LongSupplier startIfNew;
        final boolean reload;
        final CompletableFuture<T> result = new CompletableFuture<>();
        T value;

        Pending(Function<SharePartition, T> decide, SharePolicy policy, LongSupplier startIfNew, boolean reload) {
            this.decide = decide;
            this.policy = policy;
            this.startIfNew = startIfNew;
            this.reload = reload;
        }
    }

    /**
     * One partition's state as last stored, and the decisions waiting for its next write. While one write is out,
     * decisions queue; when it lands, all of them are taken on the state in their order and stored in one write
     * (group commit): members that answer at once share a write instead of waiting for one each.
     */
    private static final class Held {
        SharePartition state;
        byte[] stored;
        long revision;
        final java.util.ArrayDeque<Pending<?>> queue = new java.util.ArrayDeque<>();
        boolean writing;
        volatile long usedNanos = System.nanoTime();
        /** When this node last read the state from the store or wrote it there (clock millis; 0: never). */
        volatile long syncedMs;
        /** When the earliest lock or back-off of the state as last stored runs out, or -1. */
        volatile long nextDeadlineMs = -1;
        /** Counts the decisions this node stored: a waiter compares it to the count it started from. */
        final java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong();
    }

    private final ShareStateStore store;
    /** Told of a partition whose stored state has records waiting for their dead-letter copy. */
    private final java.util.function.Consumer<Key> onDeadLettering;
    private final ConcurrentMap<Key, Held> held = new ConcurrentHashMap<>();
    /** Fetches waiting for a partition's state to change on this node (records released, given back, ...). */
    private final ConcurrentMap<Key, java.util.Set<CompletableFuture<Void>>> watchers = new ConcurrentHashMap<>();
    private final java.time.Clock clock;
    /**
     * Where decisions are taken and their results completed: a thread of their own, not the store's thread that
     * completed the write (the embedded store has one writer for everything) and not the pool that reads and
     * decodes records (a decision, a few microseconds, would wait behind chunks being decoded, and each member's
     * acknowledgement with it). Callers chain only quick work on a result and hop elsewhere for the rest.
     */
    private final java.util.concurrent.Executor decisions;

    SharePartitions(ShareStateStore store, java.util.function.Consumer<Key> onDeadLettering, java.time.Clock clock,
                    java.util.concurrent.Executor decisions) {
        this.store = store;
        this.onDeadLettering = onDeadLettering;
        this.clock = clock;
        this.decisions = decisions;
    }

    /**
     * Completes when this node next stores a decision about any of the partitions; {@code cancel} it once no
     * longer wanted (it is then forgotten).
     */
    CompletableFuture<Void> changed(java.util.Collection<Key> keys) {
        CompletableFuture<Void> change = new CompletableFuture<>();
        for (Key k : keys) {
            watchers.compute(k, (x, set) -> {
                java.util.Set<CompletableFuture<Void>> s = set != null ? set : ConcurrentHashMap.newKeySet();
                s.add(change);
                return s;
            });
        }
        change.whenComplete((v, e) -> keys.forEach(k -> watchers.computeIfPresent(k, (x, set) -> {
            set.remove(change);
            return set.isEmpty() ? null : set;
        })));
        return change;
    }

    /** How many decisions this node stored about the partition so far (0 for one it does not hold). */
    long version(Key key) {
        Held h = held.get(key);
        return h == null ? 0 : h.version.get();
    }

    /**
     * How long ago this node last read the partition's state from the store or wrote it there; MAX_VALUE for one
     * it does not hold. A state held unchanged for long may have been changed elsewhere (another node, the group
     * deleted) without this node writing over it, which is when it would learn of it.
     */
    long msSinceSynced(Key key) {
        Held h = held.get(key);
        long synced = h == null ? 0 : h.syncedMs;
        return synced == 0 ? Long.MAX_VALUE : Math.max(0, clock.millis() - synced);
    }

    /** Drops what this node holds of the group's partitions (it was deleted): they are read again when asked. */
    void forgetGroup(String group) {
        held.keySet().removeIf(k -> k.group().equals(group));
    }

    /** The earliest lock or back-off among the partitions (as this node last stored them) after now, or -1. */
    long nextDeadlineMs(java.util.Collection<Key> keys) {
        long next = -1;
        long now = clock.millis();
        for (Key k : keys) {
            Held h = held.get(k);
            long d = h == null ? -1 : h.nextDeadlineMs;
            if (d > now && (next < 0 || d < next)) {
                next = d;
            }
        }
        return next;
    }

    private void tellWatchers(Key key, Held h) {
        h.version.incrementAndGet(); // before the watchers are told: one that registers after sees it moved
        java.util.Set<CompletableFuture<Void>> waiting = watchers.remove(key);
        if (waiting != null) {
            waiting.forEach(w -> w.complete(null));
        }
    }

    /**
     * Takes a decision, by the group's {@code policy}, on the partition's state and stores it; the decision
     * starts, for a partition the group never took records of, at {@code startIfNew}. The result is given only
     * once what it decided is stored, on the decisions thread: chain only quick work on it.
     */
    <T> CompletableFuture<T> apply(Key key, SharePolicy policy, LongSupplier startIfNew,
                                   Function<SharePartition, T> decide) {
        return apply(key, policy, startIfNew, decide, false);
    }

    /**
     * As {@link #apply(Key, SharePolicy, LongSupplier, Function)}; with {@code reload} the state is read from the
     * store first rather than taken as held (another node may have changed it without this one writing over it).
     */
    <T> CompletableFuture<T> apply(Key key, SharePolicy policy, LongSupplier startIfNew,
                                   Function<SharePartition, T> decide, boolean reload) {
        Held h = held.computeIfAbsent(key, k -> new Held());
        h.usedNanos = System.nanoTime();
        Pending<T> p = new Pending<>(decide, policy, startIfNew, reload);
        boolean start;
        synchronized (h) {
            h.queue.add(p);
            start = !h.writing;
            h.writing = true;
        }
        if (start) {
            onDecisions(key, h, () -> drain(key, h));
        }
        if (held.size() > MAX_HELD) {
            dropIdle();
        }
        return p.result;
    }

    /** Takes every queued decision, stores them in one write, and goes on while more queued meanwhile. */
    private void drain(Key key, Held h) {
        List<Pending<?>> batch;
        synchronized (h) {
            if (h.queue.isEmpty()) {
                h.writing = false;
                return;
            }
            batch = new ArrayList<>(h.queue);
            h.queue.clear();
        }
        if (batch.stream().anyMatch(p -> p.reload)) {
            h.state = null;
        }
        CompletableFuture<Void> stored;
        try {
            stored = attempt(key, h, batch, ATTEMPTS);
        } catch (RuntimeException e) {
            stored = CompletableFuture.failedFuture(e); // a store that throws rather than failing its future
        }
        stored.whenComplete((v, failure) -> {
            // Answered on the decisions thread, unless the node is stopping (then here, failed).
            Runnable answer = () -> {
                if (failure != null) {
                    h.state = null; // what is in memory may be ahead of the store: read it again next time
                }
                for (Pending<?> p : batch) {
                    if (failure != null) {
                        p.result.completeExceptionally(failure);
                    } else {
                        complete(p);
                    }
                }
                drain(key, h);
            };
            if (!onDecisions(key, h, answer)) {
                batch.forEach(p -> p.result.completeExceptionally(stopping()));
            }
        });
    }

    /**
     * Runs {@code step} on the decisions thread; once that has stopped (the node is stopping), fails every decision
     * queued for the partition instead, so that no caller waits for an answer that will never come, and answers
     * false.
     */
    private boolean onDecisions(Key key, Held h, Runnable step) {
        try {
            decisions.execute(step);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            List<Pending<?>> left;
            synchronized (h) {
                left = new ArrayList<>(h.queue);
                h.queue.clear();
                h.writing = false;
            }
            left.forEach(p -> p.result.completeExceptionally(stopping()));
            return false;
        }
    }

    private static RuntimeException stopping() {
        return io.grpc.Status.UNAVAILABLE.withDescription("this fetch node is stopping; another one answers")
                .asRuntimeException();
    }

    @SuppressWarnings("unchecked")
    private static <T> void complete(Pending<T> p) {
        p.result.complete(p.value);
    }

    private CompletableFuture<Void> attempt(Key key, Held h, List<Pending<?>> batch, int attemptsLeft) {
        LongSupplier startIfNew = batch.get(0).startIfNew;
        SharePolicy policy = batch.get(batch.size() - 1).policy; // the latest the node knows of the group's
        CompletableFuture<Void> loaded = h.state != null ? CompletableFuture.completedFuture(null)
                : store.load(key.group(), key.topicId(), key.partition()).thenAccept(found -> {
                    h.syncedMs = clock.millis();
                    if (found.isPresent()) {
                        h.state = ShareStateCodec.decode(found.get().state(), policy);
                        h.stored = found.get().state();
                        h.revision = found.get().revision();
                        h.nextDeadlineMs = h.state.nextDeadlineMs(clock.millis());
                        if (!h.state.deadLettering().isEmpty()) {
                            onDeadLettering.accept(key); // left waiting by a node that stopped (or is still at it)
                        }
                    } else {
                        // Not stored yet, and stored only once a decision changes it: asking about a group or
                        // partition nobody took records of writes nothing.
                        h.state = new SharePartition(policy, startIfNew.getAsLong());
                        h.stored = ShareStateCodec.encode(h.state);
                        h.revision = 0;
                    }
                });
        return loaded.thenCompose(v -> {
            if (!h.state.policy().equals(policy)) {
                h.state = h.state.withPolicy(policy); // the group's settings changed (the policy is not stored)
            }
            for (Pending<?> p : batch) {
                decideInto(p, h.state);
            }
            byte[] next = ShareStateCodec.encode(h.state);
            if (Arrays.equals(next, h.stored)) {
                return CompletableFuture.<Void>completedFuture(null); // nothing changed: nothing to store
            }
            return store.save(key.group(), key.topicId(), key.partition(), next, h.revision).thenCompose(saved -> {
                if (saved.isPresent()) {
                    h.syncedMs = clock.millis();
                    h.stored = next;
                    h.revision = saved.getAsLong();
                    h.nextDeadlineMs = h.state.nextDeadlineMs(clock.millis());
                    tellWatchers(key, h);
                    if (!h.state.deadLettering().isEmpty()) {
                        onDeadLettering.accept(key);
                    }
                    return CompletableFuture.<Void>completedFuture(null);
                }
                h.state = null; // another node decided first: read what it stored and decide on that
                if (attemptsLeft <= 1) {
                    // ABORTED, not UNAVAILABLE: the node is well, the partition contended; clients ask again.
                    return CompletableFuture.<Void>failedFuture(io.grpc.Status.ABORTED.withDescription(
                            "share group " + key.group() + ": partition " + key.partition() + " is being decided by "
                                    + "other nodes too; try again").asRuntimeException());
                }
                return attempt(key, h, batch, attemptsLeft - 1);
            });
        }).whenComplete((r, failure) -> {
            if (failure != null) {
                h.state = null; // what is in memory may be ahead of the store: read it again next time
            }
        });
    }

    private static <T> void decideInto(Pending<T> p, SharePartition state) {
        p.value = p.decide.apply(state);
    }

    private void dropIdle() {
        held.entrySet().stream().sorted((a, b) -> Long.compare(a.getValue().usedNanos, b.getValue().usedNanos))
                .limit(held.size() - MAX_HELD * 9L / 10).map(java.util.Map.Entry::getKey).toList()
                .forEach(held::remove);
    }
}
