package io.strata.fetch.index;

import io.strata.metadata.IndexRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * One partition's index by base offset: committed WAL chunks and compaction's segments
 * ({@link IndexRef}), and the log start retention set. Written by the index view's single watch thread,
 * read by any fetch: the map is concurrent and the bounds are read from it, so a reader sees a consistent
 * prefix.
 *
 * <p>While a compaction swap is applied, a segment and the chunks it replaces are both held for a moment
 * (the new entry is put before the old ones go, so nothing is ever missing): readers walk
 * {@link #refsFrom} and skip what the previous ref already covered. Of two refs at one base offset the one of the
 * later index entry (the higher sequence: compaction's count above commits', and up) is held, whichever arrives
 * first: a shard's read finishing after the watch brought the segment that replaced one of its chunks must not
 * put the chunk back over the segment (the chunk's removal would then leave nothing at that offset).
 */
public final class PartitionIndex {
    private final ConcurrentSkipListMap<Long, Held> refs = new ConcurrentSkipListMap<>();

    /** A ref and the sequence of the index entry that brought it. */
    private record Held(long sequence, IndexRef ref) {
    }
    /**
     * Set when its shard is being dropped (its refs and transactional batches leaving): a read that looked here
     * meanwhile looks again once the shard is read anew.
     */
    private volatile boolean detached;

    void detach() {
        detached = true;
    }

    public boolean detached() {
        return detached;
    }

    /** The log start retention set; only ever grows (volatile: written by the watch thread). */
    private volatile long floor;
    /**
     * Transactional producers' batches among the held entries, by base offset, each counted by the entries that
     * carry it (a compaction swap holds it twice for a moment): what read-committed reads find a record's
     * transaction by. Guarded by itself.
     */
    private final java.util.TreeMap<Long, HeldAppend> transactional = new java.util.TreeMap<>();

    private static final class HeldAppend {
        final io.strata.metadata.ProducerAppend append;
        /** When the entry that brought it here was committed (compaction's: when it merged). */
        final long committedAtMs;
        int holders;

        HeldAppend(io.strata.metadata.ProducerAppend append, long committedAtMs) {
            this.append = append;
            this.committedAtMs = committedAtMs;
        }
    }

    /** A transactional batch held here, and when the entry that carries it was committed. */
    public record Transactional(io.strata.metadata.ProducerAppend append, long committedAtMs) {
    }

    void addTransactional(io.strata.metadata.ProducerAppend append, long committedAtMs) {
        synchronized (transactional) {
            HeldAppend held = transactional.get(append.baseOffset());
            if (held == null || !held.append.equals(append)) {
                held = new HeldAppend(append, committedAtMs);
                transactional.put(append.baseOffset(), held);
            }
            held.holders++;
        }
    }

    /** The transactional batches held at offsets in [{@code from}, {@code to}) committed at or after {@code sinceMs}. */
    public List<Transactional> transactionalSince(long from, long to, long sinceMs) {
        List<Transactional> out = new ArrayList<>();
        synchronized (transactional) {
            if (transactional.isEmpty() || from >= to) {
                return out;
            }
            Long start = transactional.floorKey(from); // a batch begun before {@code from} may reach past it
            for (HeldAppend held : transactional.subMap(start == null ? from : start, true, to, false).values()) {
                if (held.committedAtMs >= sinceMs && held.append.baseOffset() + held.append.recordCount() > from) {
                    out.add(new Transactional(held.append, held.committedAtMs));
                }
            }
        }
        return out;
    }

    void removeTransactional(io.strata.metadata.ProducerAppend append) {
        synchronized (transactional) {
            HeldAppend held = transactional.get(append.baseOffset());
            if (held != null && held.append.equals(append) && --held.holders == 0) {
                transactional.remove(append.baseOffset());
            }
        }
    }

    /** The transactional batches held with records in [{@code from}, {@code to}), in offset order. */
    public List<io.strata.metadata.ProducerAppend> transactionalBetween(long from, long to) {
        List<io.strata.metadata.ProducerAppend> out = new ArrayList<>();
        synchronized (transactional) {
            if (transactional.isEmpty() || from >= to) {
                return out;
            }
            Long start = transactional.floorKey(from);
            for (HeldAppend held : transactional.subMap(start == null ? from : start, true, to, false).values()) {
                if (held.append.baseOffset() + held.append.recordCount() > from) {
                    out.add(held.append);
                }
            }
        }
        return out;
    }

    /** Holds the ref of the index entry {@code sequence}, unless a later entry's ref holds its base offset. */
    void add(long sequence, IndexRef ref) {
        refs.merge(ref.baseOffset(), new Held(sequence, ref),
                (held, added) -> added.sequence() >= held.sequence() ? added : held);
    }

    /** Lets the ref go, if it is the one held at its base offset. */
    void remove(IndexRef ref) {
        refs.computeIfPresent(ref.baseOffset(), (base, held) -> held.ref().equals(ref) ? null : held);
    }

    void raiseLogStart(long logStart) {
        if (logStart > floor) {
            floor = logStart;
        }
    }

    /** Holds no refs (its log start goes with it when its shard is dropped, and comes back when read again). */
    boolean isEmpty() {
        synchronized (transactional) {
            return refs.isEmpty() && transactional.isEmpty();
        }
    }

    /** The offset the next committed record will get. */
    public long endOffset() {
        Map.Entry<Long, Held> last = refs.lastEntry();
        return Math.max(floor, last == null ? 0 : last.getValue().ref().endOffset());
    }

    /** The first offset still held. */
    public long logStartOffset() {
        Map.Entry<Long, Held> first = refs.firstEntry();
        return first == null ? endOffset() : Math.max(floor, first.getKey());
    }

    /**
     * The refs from the one holding {@code offset} on, in offset order, each starting where the previous one
     * ended (a ref an earlier one already covers is skipped); empty when no ref holds {@code offset}. It stops at
     * a gap, the first ref included: a ref that begins past {@code offset} (the one holding it just let go, its
     * shard being dropped) is never answered in its place, which would skip the records in between.
     */
    public List<IndexRef> refsFrom(long offset) {
        List<IndexRef> out = new ArrayList<>();
        Map.Entry<Long, Held> start = refs.floorEntry(offset);
        if (start == null) {
            return out;
        }
        long covered = offset;
        for (Held held : refs.tailMap(start.getKey(), true).values()) {
            IndexRef ref = held.ref();
            if (ref.endOffset() <= covered) {
                continue; // covered by the previous ref (a swap under way) or before the offset
            }
            if (ref.baseOffset() > covered) {
                break; // a gap: what follows is not contiguous with what was read (or with the offset)
            }
            out.add(ref);
            covered = ref.endOffset();
        }
        return out;
    }

    /** All refs in offset order (for timestamp look-ups). */
    public Iterable<IndexRef> refs() {
        return () -> refs.values().stream().map(Held::ref).iterator();
    }
}
