package io.strata.metadata;

import java.util.List;

/**
 * What a commit did with one chunk: the offsets its records got ({@code recordCount} from
 * {@code baseOffset}, none when every record was skipped), the positions it skipped, and the outcome of each
 * of its producer batches, in the order the chunk listed them. {@code refusal} is null unless the whole
 * chunk was refused (nothing of it stored), and then says why.
 */
public record ChunkCommit(PartitionId partition, long baseOffset, int recordCount, long logAppendTimeMs,
                          List<SkippedRange> skipped, List<BatchOutcome> batches, BatchOutcome.Rejected refusal) {
    public ChunkCommit {
        if (partition == null || baseOffset < 0 || recordCount < 0 || (refusal != null && recordCount > 0)) {
            throw new IllegalArgumentException("invalid chunk commit of " + partition);
        }
        skipped = List.copyOf(skipped);
        batches = List.copyOf(batches);
    }

    public ChunkCommit(PartitionId partition, long baseOffset, int recordCount, long logAppendTimeMs,
                       List<SkippedRange> skipped, List<BatchOutcome> batches) {
        this(partition, baseOffset, recordCount, logAppendTimeMs, skipped, batches, null);
    }

    /** A chunk of which nothing is stored, for {@code why}: every record skipped, every producer batch refused. */
    static ChunkCommit refused(BlockChunk chunk, long now, BatchOutcome.Rejected why) {
        return new ChunkCommit(chunk.partition(), 0, 0, now, List.of(new SkippedRange(0, chunk.recordCount())),
                java.util.Collections.nCopies(chunk.producerBatches().size(), why), why);
    }

    /** The offset after the chunk's last one. */
    public long endOffset() {
        return baseOffset + recordCount;
    }

    /** The offset of the record at {@code position} of the chunk, which must not be skipped. */
    public long offsetAt(int position) {
        int before = 0;
        for (SkippedRange s : skipped) {
            if (position >= s.firstPosition() + s.count()) {
                before += s.count();
            } else if (position >= s.firstPosition()) {
                throw new IllegalArgumentException("position " + position + " of " + partition + " was skipped");
            }
        }
        return baseOffset + position - before;
    }
}
