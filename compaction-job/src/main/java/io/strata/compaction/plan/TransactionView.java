package io.strata.compaction.plan;

import io.strata.metadata.PartitionId;
import io.strata.metadata.ProducerAppend;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;

/**
 * What compaction knows of the transactions whose batches a shard's entries carry, read after the shard's
 * snapshot: which batches were aborted on their partition (a mark), and from which offset each partition is
 * not yet stable (where it ended when its first open transaction added it, which may come before that
 * transaction's first record there). A batch that is neither is committed, and one that state says committed
 * stays committed. Pure once built.
 */
public final class TransactionView {
    /**
     * No transaction's state: nothing aborted, no partition held. Only for a first look at whether a cleaning
     * may be due: a cleaning is planned again with the state read before it is carried out.
     */
    public static final TransactionView NONE = new TransactionView(Set.of(), p -> OptionalLong.empty(), false);

    private final Set<List<Long>> aborted;
    private final Function<PartitionId, OptionalLong> heldAt;
    private final boolean unknown;

    /**
     * @param aborted (topic id, partition, producer id, epoch) of every abort mark
     * @param heldAt  where read-committed readers of a partition are held, if they are
     * @param unknown a transaction's record could not be read: every transactional batch may be open
     */
    public TransactionView(Set<List<Long>> aborted, Function<PartitionId, OptionalLong> heldAt, boolean unknown) {
        this.aborted = Set.copyOf(aborted);
        this.heldAt = heldAt;
        this.unknown = unknown;
    }

    /** Whether the batch's transaction was aborted on its partition. */
    public boolean aborted(ProducerAppend a) {
        return !unknown && aborted.contains(List.of(a.partition().topicId(), (long) a.partition().partition(),
                a.producerId(), a.epoch()));
    }

    /** Whether the batch's transaction may still end either way: it reaches where its partition is held. */
    public boolean open(ProducerAppend a) {
        if (unknown) {
            return true;
        }
        OptionalLong held = heldAt.apply(a.partition());
        return held.isPresent() && a.baseOffset() + a.recordCount() > held.getAsLong();
    }

    /**
     * Where read-committed readers of the partition are held (its first open transaction's start, which may
     * lie before that transaction's first record there), {@link Long#MAX_VALUE} when they are not. A record
     * that could not be read holds readers nowhere, on fetch nodes as here; its batches count as open.
     */
    public long stableEnd(PartitionId partition) {
        return heldAt.apply(partition).orElse(Long.MAX_VALUE);
    }

    /** Whether read-committed readers may still have to leave the batch's records out. */
    public boolean stillNeeded(ProducerAppend a) {
        return aborted(a) || open(a);
    }
}
