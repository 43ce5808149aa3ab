package io.strata.fetch.txn;

import io.strata.fetch.index.PartitionIndex;
import io.strata.metadata.PartitionId;
import io.strata.metadata.ProducerAppend;
import java.util.ArrayList;
import java.util.List;

/**
 * What a read-committed read of a partition may answer (docs/transactions.md): records up to the partition's last
 * stable offset, less those of aborted transactions. A record belongs to a transaction by the transactional batch
 * its commit appended (the index entries carry them, and compaction carries them on); the transaction was aborted
 * when it left a mark on the partition. Thread-safe.
 */
public final class CommittedReads {
    /** Offsets [first, last] of records a read-committed reader does not see. */
    public record Range(long first, long last) {
        public boolean contains(long offset) {
            return offset >= first && offset <= last;
        }
    }

    /** Reads with no transactions anywhere (nodes and tests without a transactions view). */
    public static final CommittedReads NONE = new CommittedReads(null);

    private final TransactionsView view;

    public CommittedReads(TransactionsView view) {
        this.view = view;
    }

    /**
     * How long a transactional batch in the index may wait for this node's transactions view to learn of its
     * transaction before it is taken as settled. The index and the transactions are followed by two watches, so a
     * batch can be seen first; a watch lags by milliseconds, and one that broke is read afresh within seconds. A
     * batch older than this whose transaction the view does not know is one whose id was forgotten (unused for
     * days, so its transactions ended long ago).
     */
    static final long PLACE_WITHIN_MS = 5 * 60_000;

    /** Where read-committed reads of the partition stop: its last stable offset. */
    public long lastStable(PartitionId pid, PartitionIndex partition) {
        return lastStable(pid, partition, 0);
    }

    /**
     * The partition's last stable offset, as a reader at {@code from} needs it: the least start of a transaction
     * open on it, else its end, and never past a transactional batch from {@code from} on whose transaction this
     * node has not learned of yet.
     */
    public long lastStable(PartitionId pid, PartitionIndex partition, long from) {
        long end = partition.endOffset();
        if (view == null) {
            return end;
        }
        // Never below the log start: DeleteRecords may move it past an open transaction's start (Kafka clamps so too).
        long start = Math.min(end, partition.logStartOffset());
        long stable = Math.max(Math.min(end, view.lastStable(pid, end)), start);
        for (PartitionIndex.Transactional t : partition.transactionalSince(Math.max(from, start), stable,
                System.currentTimeMillis() - PLACE_WITHIN_MS)) {
            if (!view.knows(pid, t.append().producerId(), t.append().epoch())) {
                return Math.max(Math.max(from, start), t.append().baseOffset());
            }
        }
        return stable;
    }

    /** The records of aborted transactions in [{@code from}, {@code to}), in offset order. */
    public List<Range> aborted(PartitionId pid, PartitionIndex partition, long from, long to) {
        if (view == null || from >= to || !view.anyAborted(pid)) {
            return List.of();
        }
        List<Range> out = new ArrayList<>();
        for (ProducerAppend a : partition.transactionalBetween(from, to)) {
            if (view.aborted(pid, a.producerId(), a.epoch())) {
                long first = Math.max(from, a.baseOffset());
                long last = Math.min(to, a.baseOffset() + a.recordCount()) - 1;
                Range previous = out.isEmpty() ? null : out.get(out.size() - 1);
                if (previous != null && previous.last() + 1 == first) {
                    out.set(out.size() - 1, new Range(previous.first(), last)); // batches one after the other
                } else {
                    out.add(new Range(first, last));
                }
            }
        }
        return out;
    }

    /** Whether {@code offset} lies in one of {@code ranges} (sorted), looked for from {@code at[0]} on. */
    public static boolean in(List<Range> ranges, long offset, int[] at) {
        while (at[0] < ranges.size() && ranges.get(at[0]).last() < offset) {
            at[0]++;
        }
        return at[0] < ranges.size() && ranges.get(at[0]).contains(offset);
    }
}
