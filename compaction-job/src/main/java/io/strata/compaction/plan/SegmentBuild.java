package io.strata.compaction.plan;

import io.strata.metadata.ChunkRef;
import io.strata.metadata.PartitionId;
import java.util.List;

/**
 * One segment to write: the source chunks (WAL chunks and older segments' chunks, contiguous in offsets) whose
 * records it holds, and the index sequence its entry takes.
 */
public record SegmentBuild(PartitionId partition, long sequence, List<ChunkRef> sources) {
    public SegmentBuild {
        sources = List.copyOf(sources);
        if (sources.isEmpty()) {
            throw new IllegalArgumentException("a segment of nothing");
        }
        for (int i = 1; i < sources.size(); i++) {
            if (sources.get(i).baseOffset() != sources.get(i - 1).endOffset()) {
                throw new IllegalArgumentException("sources of " + partition + " are not contiguous at "
                        + sources.get(i).baseOffset());
            }
        }
    }

    public long baseOffset() {
        return sources.get(0).baseOffset();
    }

    public long endOffset() {
        return sources.get(sources.size() - 1).endOffset();
    }

    public long storedBytes() {
        return sources.stream().mapToLong(ChunkRef::byteLength).sum();
    }
}
