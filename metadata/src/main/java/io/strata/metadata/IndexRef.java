package io.strata.metadata;

/**
 * What a partition's index holds at an offset: a chunk of a WAL block, or a segment (whose chunks its
 * footer lists). Either covers the offsets [{@link #baseOffset()}, {@link #endOffset()}).
 */
public sealed interface IndexRef permits ChunkRef, SegmentRef {
    PartitionId partition();

    String objectKey();

    long baseOffset();

    long endOffset();
}
