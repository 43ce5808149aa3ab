package io.strata.compaction.plan;

import io.strata.metadata.ChunkRef;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.SegmentRef;

/**
 * What a partition's index holds at some offsets, with the entry it belongs to: a WAL chunk (one of the
 * chunks of a block's entry) or a segment (an entry of its own).
 */
public sealed interface Piece {
    IndexEntry entry();

    long baseOffset();

    long endOffset();

    /** Stored (compressed) bytes: what retention by size counts. */
    long storedBytes();

    record Wal(IndexEntry entry, ChunkRef chunk) implements Piece {
        @Override
        public long baseOffset() {
            return chunk.baseOffset();
        }

        @Override
        public long endOffset() {
            return chunk.endOffset();
        }

        @Override
        public long storedBytes() {
            return chunk.byteLength();
        }
    }

    record Segment(IndexEntry entry, SegmentRef segment) implements Piece {
        @Override
        public long baseOffset() {
            return segment.baseOffset();
        }

        @Override
        public long endOffset() {
            return segment.endOffset();
        }

        @Override
        public long storedBytes() {
            return segment.byteLength();
        }
    }
}
