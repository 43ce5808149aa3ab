package io.strata.ingest.block;

import io.strata.ingest.PartitionBatch;
import io.strata.metadata.ChunkCommit;
import io.strata.metadata.OneWriteTransaction;
import io.strata.metadata.PartitionId;
import io.strata.metadata.ProducerBatch;
import io.strata.format.BlockWriter;
import io.strata.format.LogRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The block an ingest node is filling: records of every partition written to the node, and the calls
 * waiting on them. Not thread-safe: the pipeline appends under its lock and hands a full or lingered block
 * over whole (after which nobody appends to it).
 */
public final class OpenBlock {
    private final long generation;
    private final BlockWriter writer;
    private final List<PendingAppend> pending = new ArrayList<>();
    private final Map<PartitionId, List<ProducerBatch>> producerBatches = new HashMap<>();
    private final List<OneWriteTransaction> transactions = new ArrayList<>();
    /** The partitions of the batches of {@link #transactions}. */
    private final java.util.Set<PartitionId> oneWritePartitions = new java.util.HashSet<>();
    private long reservedBytes;
    /** Completed by the pipeline when it hands the block over (no call is appended to it after that). */
    private final java.util.concurrent.CompletableFuture<Void> detached = new java.util.concurrent.CompletableFuture<>();
    private final java.util.concurrent.CompletableFuture<Void> uploadsSettled =
            new java.util.concurrent.CompletableFuture<>();

    public OpenBlock(long generation, int compressionLevel) {
        this.generation = generation;
        this.writer = new BlockWriter(compressionLevel);
    }

    /** Appends one call's batches (all of them, so one call never spans two blocks). */
    public PendingAppend append(List<PartitionBatch> batches, long reserved) {
        return append(batches, reserved, null);
    }

    /**
     * As {@link #append(List, long)}, for batches holding the whole of a transaction that the block's commit begins
     * and commits with them ({@code oneWrite}; null: none). Its batches are all in this block: one call never spans
     * two, and the commit stores them with the transaction's end in one metadata write.
     */
    public PendingAppend append(List<PartitionBatch> batches, long reserved, OneWriteTransaction oneWrite) {
        if (oneWrite != null) {
            transactions.add(oneWrite);
            batches.forEach(b -> oneWritePartitions.add(b.partition()));
        }
        PendingAppend call = new PendingAppend();
        for (PartitionBatch batch : batches) {
            PartitionId p = batch.partition();
            int first = -1;
            if (batch.encoded() != null) {
                first = writer.appendBatch(p.topicId(), p.partition(), batch.encoded(), batch.info());
            } else {
                for (LogRecord record : batch.records()) {
                    int position = writer.append(p.topicId(), p.partition(), record);
                    if (first < 0) {
                        first = position;
                    }
                }
            }
            int producerBatch = -1;
            if (batch.idempotent()) {
                List<ProducerBatch> list = producerBatches.computeIfAbsent(p, k -> new ArrayList<>());
                producerBatch = list.size();
                list.add(new ProducerBatch(batch.producerId(), batch.baseSequence(), first, batch.recordCount(),
                        batch.producerEpoch()));
            }
            call.add(batch.entryIndex(), batch.topic(), p, first, batch.recordCount(), producerBatch);
        }
        pending.add(call);
        reservedBytes += reserved;
        return call;
    }

    public long generation() {
        return generation;
    }

    public boolean isEmpty() {
        return writer.isEmpty();
    }

    /** Bytes the block's records take inflated. */
    public long uncompressedBytes() {
        return writer.uncompressedBytes();
    }

    /** Bytes the block holds: producers' batches as stored, records appended one by one before compression. */
    public long bufferedBytes() {
        return writer.bufferedBytes();
    }

    /** Buffer bytes the block's calls reserved; released once the block is committed or failed. */
    public long reservedBytes() {
        return reservedBytes;
    }

    public BlockWriter writer() {
        return writer;
    }

    public int callCount() {
        return pending.size();
    }

    /** The idempotent producers' batches in a partition's chunk, in position order. */
    public List<ProducerBatch> producerBatches(PartitionId partition) {
        return producerBatches.getOrDefault(partition, List.of());
    }

    /**
     * Whether the batches of a transaction in one write would take the block's such transactions past {@link
     * OneWriteTransaction#MAX_PARTITIONS_PER_BLOCK} partitions, or past {@link OneWriteTransaction#MAX_PER_BLOCK}
     * transactions (their commit must fit one metadata transaction).
     */
    public boolean oneWriteWouldOverflow(List<PartitionBatch> batches) {
        if (transactions.size() >= OneWriteTransaction.MAX_PER_BLOCK) {
            return true;
        }
        // Counted without copying the block's set on every request; what is new is at most the limit plus one.
        List<PartitionId> fresh = new ArrayList<>();
        for (int i = 0; i < batches.size() && oneWritePartitions.size() + fresh.size()
                <= OneWriteTransaction.MAX_PARTITIONS_PER_BLOCK; i++) {
            PartitionId p = batches.get(i).partition();
            if (!oneWritePartitions.contains(p) && !fresh.contains(p)) {
                fresh.add(p);
            }
        }
        return oneWritePartitions.size() + fresh.size() > OneWriteTransaction.MAX_PARTITIONS_PER_BLOCK;
    }

    /** Whether the block holds a transaction in one write of {@code transactionalId}. */
    public boolean holdsTransactionOf(String transactionalId) {
        for (OneWriteTransaction t : transactions) {
            if (t.transactionalId().equals(transactionalId)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Completes once no upload of the block's sealed bytes is out any more (a hedged PUT's loser can outlast the
     * block's answer by its whole timeout); the committer completes it. Until then the block's bytes are in use.
     */
    public java.util.concurrent.CompletableFuture<Void> uploadsSettled() {
        return uploadsSettled;
    }

    /** Completes when the pipeline hands the block over to be sealed; the pipeline completes it. */
    public java.util.concurrent.CompletableFuture<Void> detached() {
        return detached;
    }

    /** The transactions the block's commit begins and commits with their batches. */
    public List<OneWriteTransaction> transactions() {
        return transactions;
    }

    public void complete(Map<PartitionId, ChunkCommit> committed) {
        pending.forEach(p -> p.complete(committed));
    }

    public void fail(Throwable cause) {
        pending.forEach(p -> p.fail(cause));
    }
}
