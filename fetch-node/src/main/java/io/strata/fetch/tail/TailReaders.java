package io.strata.fetch.tail;

import io.strata.metadata.PartitionId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The partitions this fetch node has a reader at the tail of: a read that reached the partition's end or waits
 * there, within the last {@code ttl}. Ingest nodes watch the set ({@link #watch}) and hand this node the chunks of
 * those partitions only: a chunk of a partition nobody reads at the tail would be pushed over the network (and TLS)
 * for nothing — it is read later, if ever, by a catch-up read that the hand-off's memory tier would not hold anyway.
 *
 * <p>Bounded: past {@code maxPartitions} partitions the node stops counting and asks for every chunk of the
 * partitions it owns as well, until expiry brings it below half (a reader that starts meanwhile on a partition it
 * does not own is not counted: its blocks are read with a GET). Watchers see one update at a time, in order: the whole set first, then what was
 * added and removed since, coalesced on {@code executor}.
 *
 * <p>Threads: {@link #atEnd} from any reader's thread (a map write, no lock, for a partition already known);
 * updates are sent on {@code executor}; {@link #expire} on the caller's (the fetch node's timer). Thread-safe.
 */
public final class TailReaders implements AutoCloseable {
    /** A sighting this recent is not written again: hot partitions' reads would contend on the map for nothing. */
    private static final long FRESH_NANOS = 1_000_000_000L;
    /** What a watcher is told: the whole set or a change, and whether the node is past its count. */
    public record Update(boolean whole, boolean everything, Set<PartitionId> added, Set<PartitionId> removed) {
        public Update {
            added = Set.copyOf(added);
            removed = Set.copyOf(removed);
        }
    }

    private final Duration ttl;
    private final int maxPartitions;
    private final LongSupplier nanoClock;
    private final Executor executor;
    /** A reader's last sighting at the tail of each partition, in {@code nanoClock}'s time. */
    private final Map<PartitionId, Long> lastSeen = new ConcurrentHashMap<>();
    // Under this object's lock: what the watchers were told, and what they are told next.
    private final Set<PartitionId> told = new HashSet<>();
    private final Set<PartitionId> toAdd = new HashSet<>();
    private final Set<PartitionId> toRemove = new HashSet<>();
    private final Map<Consumer<Update>, Runnable> watchers = new java.util.LinkedHashMap<>();
    private boolean everything;
    private boolean toldEverything;
    private boolean flushQueued;
    private boolean closed;

    public TailReaders(Duration ttl, int maxPartitions, LongSupplier nanoClock, Executor executor) {
        this.ttl = ttl;
        this.maxPartitions = maxPartitions;
        this.nanoClock = nanoClock;
        this.executor = executor;
    }

    /** A reader of {@code partition} reached its end, or waits there. */
    public void atEnd(PartitionId partition) {
        long now = nanoClock.getAsLong();
        Long seen = lastSeen.get(partition);
        if (seen != null && now - seen < FRESH_NANOS) {
            return; // the usual case, on every read at the end: known, and seen a moment ago (no write)
        }
        if (seen != null && lastSeen.replace(partition, now) != null) {
            return; // known, and the watchers were told (or are about to be)
        }
        synchronized (this) {
            if (closed || everything) {
                return; // past its count: its own partitions' chunks come to it anyway
            }
            if (lastSeen.size() >= maxPartitions) {
                everything = true;
            } else if (lastSeen.putIfAbsent(partition, now) == null && !toRemove.remove(partition)) {
                toAdd.add(partition);
            }
            queueFlush();
        }
    }

    /**
     * Forgets the partitions nobody read at the tail for {@code ttl}, but for those a reader {@code waits} on now
     * (a wait as long as the ttl or longer is a reader at the tail all along); the watchers are told.
     */
    public void expire(Predicate<PartitionId> waits) {
        long now = nanoClock.getAsLong();
        long oldest = now - ttl.toNanos();
        synchronized (this) {
            for (var e : lastSeen.entrySet()) {
                if (e.getValue() - oldest < 0 && waits.test(e.getKey())) {
                    lastSeen.replace(e.getKey(), e.getValue(), now);
                    continue;
                }
                // A sighting newer than the entry read keeps it: remove(key, value) leaves a replaced value alone.
                if (e.getValue() - oldest < 0 && lastSeen.remove(e.getKey(), e.getValue()) && !toAdd.remove(e.getKey())) {
                    toRemove.add(e.getKey());
                }
            }
            if (everything && lastSeen.size() < maxPartitions / 2) {
                // Readers at the tail of partitions not counted meanwhile are counted again at their next read.
                everything = false;
            }
            queueFlush();
        }
    }

    /**
     * Whether a reader is counted at the tail of {@code partition} here (in "everything" mode, readers of partitions
     * not counted are not known: the node's own partitions' chunks come to it anyway, the others' do not).
     */
    public boolean reads(PartitionId partition) {
        return lastSeen.containsKey(partition);
    }

    /** Partitions with a reader at the tail now. */
    public int partitions() {
        return lastSeen.size();
    }

    /**
     * Starts telling {@code watcher} of the set: the whole of it at once (on the caller's thread), then each
     * change (on the executor), until the answered stop runs; {@code ended} runs instead if this node closes
     * first. {@code watcher} is called under this object's lock, one update at a time: it must not block.
     */
    public synchronized Runnable watch(Consumer<Update> watcher, Runnable ended) {
        if (closed) {
            ended.run();
            return () -> { };
        }
        flush(); // the others are told what is pending, so that the whole set below is what every watcher holds
        watcher.accept(new Update(true, toldEverything, told, Set.of()));
        watchers.put(watcher, ended);
        return () -> {
            synchronized (this) {
                watchers.remove(watcher);
            }
        };
    }

    private void queueFlush() {
        if (!flushQueued && (!toAdd.isEmpty() || !toRemove.isEmpty() || everything != toldEverything)) {
            flushQueued = true;
            executor.execute(this::flushNow);
        }
    }

    private synchronized void flushNow() {
        flush();
    }

    private void flush() {
        flushQueued = false;
        if (toAdd.isEmpty() && toRemove.isEmpty() && everything == toldEverything) {
            return;
        }
        Update update = new Update(false, everything, toAdd, toRemove);
        told.addAll(toAdd);
        told.removeAll(toRemove);
        toAdd.clear();
        toRemove.clear();
        toldEverything = everything;
        for (Consumer<Update> w : List.copyOf(watchers.keySet())) {
            try {
                w.accept(update);
            } catch (RuntimeException e) {
                Runnable ended = watchers.remove(w); // its stream is broken: it hears no more, and is ended
                try {
                    ended.run();
                } catch (RuntimeException ignored) {
                    // ended already
                }
            }
        }
    }

    /** Ends every watch (the node stops: its watchers hand its partitions' chunks to the next owner). */
    @Override
    public synchronized void close() {
        closed = true;
        List<Runnable> ends = List.copyOf(watchers.values());
        watchers.clear();
        ends.forEach(Runnable::run);
    }
}
