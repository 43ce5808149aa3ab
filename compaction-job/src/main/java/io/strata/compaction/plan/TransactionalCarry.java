package io.strata.compaction.plan;

import io.strata.metadata.ChunkRef;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.ProducerAppend;
import io.strata.metadata.SegmentRef;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;

/**
 * Which transactional batches of the entries a compaction step replaces go on with the entries it adds
 * (docs/transactions.md, "Compaction"): read-committed readers find a record's transaction by the batch its commit
 * appended, so a batch whose records a new entry holds goes with that entry, as long as its transaction may still
 * have to be left out (open, being aborted, or aborted on the partition). Batches of committed transactions, and of
 * records retention removed, are dropped: they would only grow the index. Pure.
 */
public final class TransactionalCarry {
    private TransactionalCarry() {
    }

    /** Whether any of the entries carries a transactional batch (only then is the transactions' state needed). */
    public static boolean any(Collection<IndexEntry> entries) {
        return entries.stream().anyMatch(e -> e.appends().stream().anyMatch(ProducerAppend::transactional));
    }

    /**
     * {@code added}, each carrying the transactional batches of {@code replaced} whose records it holds and that
     * {@code stillNeeded} keeps.
     */
    public static List<IndexEntry> carry(Collection<IndexEntry> replaced, List<IndexEntry> added,
                                         Predicate<ProducerAppend> stillNeeded) {
        List<ProducerAppend> carried = new ArrayList<>();
        replaced.forEach(e -> e.appends().stream().filter(ProducerAppend::transactional).filter(stillNeeded)
                .forEach(carried::add));
        if (carried.isEmpty()) {
            return added;
        }
        List<IndexEntry> out = new ArrayList<>(added.size());
        for (IndexEntry entry : added) {
            List<ProducerAppend> held = new ArrayList<>();
            for (ProducerAppend a : carried) {
                if (holds(entry, a)) {
                    held.add(a);
                }
            }
            out.add(held.isEmpty() ? entry : entry.withAppends(held));
        }
        return out;
    }

    private static boolean holds(IndexEntry entry, ProducerAppend a) {
        if (entry.isSegment()) {
            SegmentRef s = entry.segment();
            return s.partition().equals(a.partition()) && overlaps(a, s.baseOffset(), s.endOffset());
        }
        for (ChunkRef c : entry.chunks()) {
            if (c.partition().equals(a.partition()) && overlaps(a, c.baseOffset(), c.endOffset())) {
                return true;
            }
        }
        return false;
    }

    private static boolean overlaps(ProducerAppend a, long from, long to) {
        return a.baseOffset() < to && a.baseOffset() + a.recordCount() > from;
    }
}
