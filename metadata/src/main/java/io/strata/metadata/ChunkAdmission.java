package io.strata.metadata;

import io.strata.metadata.codec.PartitionHeadValue;
import io.strata.metadata.codec.ProducerStateValue;
import io.strata.metadata.codec.RecentBatchValue;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides one chunk's commit against its partition's head: the offsets its records get, and for each
 * idempotent producer batch whether it is new (appended), a retry of a stored one (duplicate: it gets the
 * original's offsets and its records are skipped), or out of sequence (refused and skipped). Pure: the
 * caller puts the new head in the same guarded transaction, so a decision holds exactly when it commits.
 *
 * <p>Rules, per producer and partition: the first batch seen may start at any sequence (a producer whose
 * state was dropped starts afresh); afterwards each batch must start right after the last stored sequence.
 * A retry is recognised among the producer's last {@link #RECENT_BATCHES} batches. The head keeps at most
 * {@link #MAX_PRODUCERS} producers per partition, dropping the least recently written.
 */
final class ChunkAdmission {
    static final int RECENT_BATCHES = ProducerBatch.RETRY_WINDOW;
    static final int MAX_PRODUCERS = 200;

    /**
     * The partition's new head, what the commit did, the index's chunk (null when nothing got offsets) and the
     * producer batches it appended.
     */
    record Admitted(PartitionHeadValue head, ChunkCommit commit, ChunkRef ref, List<ProducerAppend> appends) {
    }

    private ChunkAdmission() {
    }

    static Admitted admit(PartitionHeadValue head, BlockChunk chunk, String objectKey, long now) {
        Map<Long, ProducerStateValue.Builder> producers = new LinkedHashMap<>();
        head.getProducersList().forEach(p -> producers.put(p.getProducerId(), p.toBuilder()));
        long base = head.getNextOffset();
        List<SkippedRange> skipped = new ArrayList<>();
        List<BatchOutcome> outcomes = new ArrayList<>(chunk.producerBatches().size());
        List<ProducerAppend> appends = new ArrayList<>();
        int skippedCount = 0;
        for (ProducerBatch batch : chunk.producerBatches()) {
            ProducerStateValue.Builder state = producers.get(batch.producerId());
            BatchOutcome outcome = decide(state, batch);
            if (outcome == null) {
                long offset = base + batch.firstPosition() - skippedCount;
                if (state == null) {
                    state = ProducerStateValue.newBuilder().setProducerId(batch.producerId());
                    producers.put(batch.producerId(), state);
                }
                state.setLastSequence(batch.lastSequence()).setLastWriteMs(now).addRecent(RecentBatchValue.newBuilder()
                        .setBaseSequence(batch.baseSequence()).setRecordCount(batch.recordCount()).setBaseOffset(offset));
                while (state.getRecentCount() > RECENT_BATCHES) {
                    state.removeRecent(0);
                }
                appends.add(new ProducerAppend(chunk.partition(), batch.producerId(), batch.baseSequence(),
                        batch.recordCount(), offset));
                outcome = new BatchOutcome.Appended(offset);
            } else {
                skipped.add(new SkippedRange(batch.firstPosition(), batch.recordCount()));
                skippedCount += batch.recordCount();
            }
            outcomes.add(outcome);
        }
        int assigned = chunk.recordCount() - skippedCount;
        PartitionHeadValue.Builder next = head.toBuilder().setNextOffset(base + assigned).clearProducers();
        producers.values().stream()
                .sorted(Comparator.comparingLong(ProducerStateValue.Builder::getLastWriteMs).reversed())
                .limit(MAX_PRODUCERS)
                .sorted(Comparator.comparingLong(ProducerStateValue.Builder::getProducerId))
                .forEach(p -> next.addProducers(p.build()));
        ChunkCommit commit = new ChunkCommit(chunk.partition(), base, assigned, now, skipped, outcomes);
        ChunkRef ref = assigned == 0 ? null : new ChunkRef(chunk.partition(), objectKey, base, assigned,
                chunk.byteOffset(), chunk.byteLength(), chunk.uncompressedLength(), chunk.minTimestampMs(),
                chunk.maxTimestampMs(), chunk.crc32c(), chunk.recordCount(), skipped);
        return new Admitted(next.build(), commit, ref, appends);
    }

    /** Null when the batch is to be appended; otherwise why it is not. */
    private static BatchOutcome decide(ProducerStateValue.Builder state, ProducerBatch batch) {
        if (state == null || batch.baseSequence() == state.getLastSequence() + 1) {
            return null;
        }
        for (RecentBatchValue recent : state.getRecentList()) {
            if (recent.getBaseSequence() == batch.baseSequence() && recent.getRecordCount() == batch.recordCount()) {
                return new BatchOutcome.Duplicate(recent.getBaseOffset());
            }
        }
        long expected = state.getLastSequence() + 1;
        if (batch.lastSequence() < expected) {
            return new BatchOutcome.Rejected(BatchOutcome.Reason.STALE_SEQUENCE, "sequences " + batch.baseSequence()
                    + ".." + batch.lastSequence() + " of producer " + batch.producerId()
                    + " were stored too long ago to be matched; the next expected sequence is " + expected);
        }
        return new BatchOutcome.Rejected(BatchOutcome.Reason.SEQUENCE_GAP, "producer " + batch.producerId()
                + " sent sequence " + batch.baseSequence() + " but the next expected sequence is " + expected);
    }
}
