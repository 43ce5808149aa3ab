package io.strata.compaction.plan;

import io.strata.metadata.IndexEntry;
import io.strata.metadata.PartitionId;
import io.strata.metadata.SegmentRef;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the planner says about a shard: nothing to do, footers to read first, or the next step. */
public sealed interface ShardPlan {
    record Nothing() implements ShardPlan {
    }

    /** Read these segments' footers, then plan again. */
    record NeedFooters(Set<SegmentRef> segments) implements ShardPlan {
        public NeedFooters {
            segments = Set.copyOf(segments);
        }
    }

    /**
     * One guarded swap: delete the {@code replaced} entries (sequence to mod revision as read), put
     * {@code rewritten} (entries kept in part, with sequences taken already), put one entry per build once its
     * segment is written, and set the log starts to {@code logStarts}. {@code nextSequence} is the state's next
     * sequence afterwards. {@code forgotten} are partitions of deleted topics this step removes the last of.
     */
    record Step(Map<Long, Long> replaced, List<IndexEntry> rewritten, List<SegmentBuild> builds,
                Map<PartitionId, Long> logStarts, long nextSequence, Set<PartitionId> forgotten,
                StepSummary summary) implements ShardPlan {
        public Step {
            replaced = Map.copyOf(replaced);
            rewritten = List.copyOf(rewritten);
            builds = List.copyOf(builds);
            logStarts = Map.copyOf(logStarts);
            forgotten = Set.copyOf(forgotten);
        }
    }

    /** What a step does, for logs and metrics. */
    record StepSummary(int partitionsDeleted, int partitionsExpired, long bytesExpired, int merges, long bytesMerged,
                       int entriesBefore, int entriesAfter) {
    }
}
