package io.strata.fetch.index;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The offsets of one kind of side log (the staging logs of delayed records, or the half logs of half messages) of the
 * partitions a worker looks after, read from the metadata store only where the index watch saw a write since the
 * last read. Most partitions never get a delayed or half message. A worker that read every side log's offsets on
 * every pass sent every metadata shard's head and newest entries to etcd several times a second. On a node's first
 * pass over a new topic, it also made the node build every shard's ledger at once. All of that was for nothing.
 *
 * <p>A side log not read again counts as it was last read (offsets only grow, and a write since would have been
 * seen). A side log never read counts as empty when its topic is younger than the watch: every write to it was
 * seen. The side logs of older topics are read once. When a watch is set again (after one was lost), the same
 * starts over, because writes made while no watch stood went unseen. While no watch stands, every call reads
 * everything. And every side log is read anyway once every {@link #SWEEP_SLICES} seconds, a slice of them each
 * second ({@link #SWEEP_SLICE}; so the sweep is never a burst, and a call after a pause takes every slice it
 * missed): a watch that stalls without a word delays a delayed record or a half
 * message by that much at most, never for good.
 *
 * <p>One thread calls {@link #of} and {@link #forgetTopics}; the watch's thread only marks writes.
 */
public final class SideLogEnds {
    /** Every side log is read whatever the watch told, one slice of them a second, all in this many seconds. */
    static final int SWEEP_SLICES = 64;
    static final java.time.Duration SWEEP_SLICE = java.time.Duration.ofSeconds(1);
    private final MetadataStore store;
    private final IndexView index;
    private final UnaryOperator<PartitionId> side;
    /** The partitions (not their side logs) whose side log was written since it was last read, cluster-wide. */
    private final Set<PartitionId> written = ConcurrentHashMap.newKeySet();
    /** Side logs' offsets as last read, by partition. */
    private final Map<PartitionId, PartitionOffsets> known = new HashMap<>();
    /** The watch start that {@link #known} dates from (0: none). */
    private long since;
    /** Topics of ids up to this one may have been written to before the watch began. */
    private long olderTopics;
    private final long sliceNanos;
    private final java.util.function.LongSupplier nanos;
    private final long startNanos;
    private long sweptSlice;

    /**
     * {@code side} names a partition's side log; {@code isSide} tells a side log of that kind. The index view must
     * be the one whose watch the worker trusts (the node's own).
     */
    public SideLogEnds(MetadataStore store, IndexView index, UnaryOperator<PartitionId> side,
                       Predicate<PartitionId> isSide, java.time.Duration sweepSlice,
                       java.util.function.LongSupplier nanos) {
        this.sliceNanos = sweepSlice.toNanos();
        this.nanos = nanos;
        this.startNanos = nanos.getAsLong();
        this.store = store;
        this.index = index;
        this.side = side;
        index.onWritten(p -> {
            if (isSide.test(p)) {
                written.add(p.target());
            }
        });
    }

    /** The staging logs of delayed records. */
    public static SideLogEnds staging(MetadataStore store, IndexView index) {
        return staging(store, index, SWEEP_SLICE, System::nanoTime);
    }

    /** The same, swept a slice every {@code sweepSlice} of the clock {@code nanos}. */
    public static SideLogEnds staging(MetadataStore store, IndexView index, java.time.Duration sweepSlice,
                                      java.util.function.LongSupplier nanos) {
        // A half log is a staging partition by its bits too: not one of delayed records.
        return new SideLogEnds(store, index, PartitionId::staging, p -> p.isStaging() && !p.isHalf(), sweepSlice,
                nanos);
    }

    /** The half logs of half messages. */
    public static SideLogEnds halves(MetadataStore store, IndexView index) {
        return halves(store, index, SWEEP_SLICE, System::nanoTime);
    }

    /** The same, swept a slice every {@code sweepSlice} of the clock {@code nanos}. */
    public static SideLogEnds halves(MetadataStore store, IndexView index, java.time.Duration sweepSlice,
                                     java.util.function.LongSupplier nanos) {
        return new SideLogEnds(store, index, PartitionId::half, PartitionId::isHalf, sweepSlice, nanos);
    }

    /** A partition's slice of the sweep: consecutive partitions of a topic fall in consecutive slices. */
    static int sliceOf(PartitionId p) {
        return Math.floorMod(31 * Long.hashCode(p.topicId()) + p.partition(), SWEEP_SLICES);
    }

    /**
     * The side logs' offsets of the partitions, by partition; a partition left out has an empty side log (as far as
     * is known now). Reads the store for those written since their last read, and those never read whose topic may
     * have been written before the watch began.
     */
    public Map<PartitionId, PartitionOffsets> of(Collection<PartitionId> partitions, long timeoutS) throws Exception {
        long watching = index.watchStarts();
        if (watching != since) {
            // The marks are kept: a write marked before the read below is read again, at worst.
            known.clear();
            olderTopics = watching == 0 ? Long.MAX_VALUE : store.lastTopicId().get(timeoutS, TimeUnit.SECONDS);
            since = watching;
        }
        // Read before the marks are taken: a watch lost from here on has its writes read next time, at the latest.
        boolean blind = since == 0 || !index.watching();
        // The slices since the last call's, every one of them (all, after a pause of a whole sweep or more).
        long slice = (nanos.getAsLong() - startNanos) / sliceNanos;
        long missed = Math.min(SWEEP_SLICES, slice - sweptSlice);
        long after = sweptSlice;
        sweptSlice = Math.max(sweptSlice, slice);
        List<PartitionId> read = new ArrayList<>();
        for (PartitionId p : partitions) {
            // The mark goes before the read: a write made meanwhile is marked again, and read next time.
            boolean marked = written.remove(p);
            if (marked || blind || Math.floorMod(sliceOf(p) - after - 1, SWEEP_SLICES) < missed
                    || (!known.containsKey(p) && p.topicId() <= olderTopics)) {
                read.add(p);
            }
        }
        if (!read.isEmpty()) {
            try {
                store.offsets(read.stream().map(side).toList()).get(timeoutS, TimeUnit.SECONDS)
                        .forEach(o -> known.put(o.partition().target(), o));
            } catch (Exception e) {
                written.addAll(read); // read next time, known or not
                throw e;
            }
        }
        Map<PartitionId, PartitionOffsets> out = new HashMap<>();
        for (PartitionId p : partitions) {
            PartitionOffsets o = known.get(p);
            if (o != null && o.nextOffset() > 0) {
                out.put(p, o);
            }
        }
        return out;
    }

    /**
     * Forgets the partitions of deleted topics: ids up to {@code upTo} (read before {@code live} was listed) that are
     * not live. A topic created after the listing has a larger id, and stays.
     */
    public void forgetTopics(Set<Long> live, long upTo) {
        Predicate<PartitionId> deleted = p -> p.topicId() <= upTo && !live.contains(p.topicId());
        known.keySet().removeIf(deleted);
        written.removeIf(deleted);
    }

    /** Side logs whose offsets are kept, and side logs marked written and not read since. */
    public int kept() {
        return known.size() + written.size();
    }
}
