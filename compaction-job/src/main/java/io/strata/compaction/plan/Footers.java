package io.strata.compaction.plan;

import io.strata.format.SegmentChunk;
import io.strata.metadata.SegmentRef;
import java.util.List;
import java.util.Map;

/**
 * The segment footers a plan may look into, read beforehand (planning reads nothing itself). A plan that
 * needs a footer that is not here says which ({@link ShardPlan.NeedFooters}); the caller reads it and plans
 * again.
 */
public record Footers(Map<String, List<SegmentChunk>> byObject) {
    public static final Footers NONE = new Footers(Map.of());

    public Footers {
        byObject = Map.copyOf(byObject);
    }

    /** The segment's live chunks, or null when its footer was not read. */
    public List<SegmentChunk> live(SegmentRef segment) {
        List<SegmentChunk> all = byObject.get(segment.objectKey());
        return all == null ? null : all.subList(segment.firstChunk(), all.size());
    }

    public List<SegmentChunk> all(SegmentRef segment) {
        return byObject.get(segment.objectKey());
    }
}
