package io.strata.metadata;

import java.util.List;

/**
 * One index entry of a shard: the chunks of one block whose partitions map to the shard (a WAL entry,
 * written by a commit), or one partition's segment (written by compaction; {@code chunks} is then empty).
 * {@code sequence} is the entry's key within its shard, written once and never reused: commits count up
 * from 0 and compaction from {@link KeyLayout#COMPACTION_SEQUENCE_BASE}, so within a shard sequences order
 * commits but not segments; readers place chunks by offset.
 */
public record IndexEntry(int shard, long sequence, String objectKey, long committedAtMs, List<ChunkRef> chunks,
                         SegmentRef segment, List<ProducerAppend> appends) {
    public IndexEntry {
        if (shard < 0 || sequence < 0 || objectKey == null || chunks == null || appends == null
                || chunks.isEmpty() == (segment == null)
                || (segment != null && (!segment.objectKey().equals(objectKey)
                || appends.stream().anyMatch(a -> !a.transactional() || !a.partition().equals(segment.partition()))))) {
            throw new IllegalArgumentException("invalid index entry " + shard + "/" + sequence);
        }
        chunks = List.copyOf(chunks);
        appends = List.copyOf(appends);
    }

    /** A WAL entry: the block's chunks of the shard's partitions, with the producer batches a commit appended. */
    public IndexEntry(int shard, long sequence, String objectKey, long committedAtMs, List<ChunkRef> chunks,
                      List<ProducerAppend> appends) {
        this(shard, sequence, objectKey, committedAtMs, chunks, null, appends);
    }

    /** A WAL entry without producer batches (no idempotent producer, or rewritten by compaction). */
    public IndexEntry(int shard, long sequence, String objectKey, long committedAtMs, List<ChunkRef> chunks) {
        this(shard, sequence, objectKey, committedAtMs, chunks, null, List.of());
    }

    /** A segment entry. */
    public static IndexEntry segment(int shard, long sequence, long committedAtMs, SegmentRef segment) {
        return segment(shard, sequence, committedAtMs, segment, List.of());
    }

    /**
     * A segment entry carrying the transactional batches among its records that read-committed readers may still
     * have to leave out (docs/transactions.md, "Compaction"). Compaction's entries are never folded into producer
     * state, so these are only ever read as which records belong to which transaction.
     */
    public static IndexEntry segment(int shard, long sequence, long committedAtMs, SegmentRef segment,
                                     List<ProducerAppend> transactional) {
        return new IndexEntry(shard, sequence, segment.objectKey(), committedAtMs, List.of(), segment, transactional);
    }

    /** The same entry carrying {@code transactional} (batches of transactions) instead of its appends. */
    public IndexEntry withAppends(List<ProducerAppend> transactional) {
        return new IndexEntry(shard, sequence, objectKey, committedAtMs, chunks, segment, transactional);
    }

    public boolean isSegment() {
        return segment != null;
    }
}
