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
 * {@link #refsFrom} and skip what the previous ref already covered.
 */
public final class PartitionIndex {
    private final ConcurrentSkipListMap<Long, IndexRef> refs = new ConcurrentSkipListMap<>();
    /** The log start retention set; only ever grows (volatile: written by the watch thread). */
    private volatile long floor;

    void add(IndexRef ref) {
        refs.put(ref.baseOffset(), ref);
    }

    void remove(IndexRef ref) {
        refs.remove(ref.baseOffset(), ref);
    }

    void raiseLogStart(long logStart) {
        if (logStart > floor) {
            floor = logStart;
        }
    }

    /** Holds no refs (its log start goes with it when its shard is dropped, and comes back when read again). */
    boolean isEmpty() {
        return refs.isEmpty();
    }

    /** The offset the next committed record will get. */
    public long endOffset() {
        Map.Entry<Long, IndexRef> last = refs.lastEntry();
        return Math.max(floor, last == null ? 0 : last.getValue().endOffset());
    }

    /** The first offset still held. */
    public long logStartOffset() {
        Map.Entry<Long, IndexRef> first = refs.firstEntry();
        return first == null ? endOffset() : Math.max(floor, first.getKey());
    }

    /**
     * The refs from the one holding {@code offset} on, in offset order, each starting where the previous one
     * ended (a ref an earlier one already covers is skipped); empty when no ref holds {@code offset}.
     */
    public List<IndexRef> refsFrom(long offset) {
        List<IndexRef> out = new ArrayList<>();
        Map.Entry<Long, IndexRef> start = refs.floorEntry(offset);
        if (start == null) {
            return out;
        }
        long covered = -1;
        for (IndexRef ref : refs.tailMap(start.getKey(), true).values()) {
            if (ref.endOffset() <= Math.max(covered, offset)) {
                continue; // covered by the previous ref (a swap under way) or before the offset
            }
            if (covered >= 0 && ref.baseOffset() > covered) {
                break; // a gap: what follows is not contiguous with what was read
            }
            out.add(ref);
            covered = ref.endOffset();
        }
        return out;
    }

    /** All refs in offset order (for timestamp look-ups). */
    public Iterable<IndexRef> refs() {
        return refs.values();
    }
}
