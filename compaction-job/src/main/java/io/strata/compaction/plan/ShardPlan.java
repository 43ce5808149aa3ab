package io.strata.compaction.plan;

import io.strata.metadata.IndexEntry;
import io.strata.metadata.KeyCleaning;
import io.strata.metadata.PartitionId;
import io.strata.metadata.SegmentRef;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the planner says about a shard: nothing to do, footers to read first, the next step, or a partition's
 * key-compaction cleaning.
 */
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
                Map<PartitionId, Long> logStarts, Map<PartitionId, KeyCleaning> cleanings, long nextSequence,
                Set<PartitionId> forgotten, StepSummary summary) implements ShardPlan {
        public Step {
            cleanings = Map.copyOf(cleanings);
            replaced = Map.copyOf(replaced);
            rewritten = List.copyOf(rewritten);
            builds = List.copyOf(builds);
            logStarts = Map.copyOf(logStarts);
            forgotten = Set.copyOf(forgotten);
        }
    }

    /**
     * One key-compaction cleaning of a partition (see {@code CleaningPolicy}): read {@code sources} (the live
     * chunks of the segments being replaced, in offset order), map each key of the records from
     * {@code dirtyFrom} to its latest offset, and write the records that stay into new segments covering
     * [first source's base, {@code cleanEnd}) exactly; then swap them for the {@code replaced} entries
     * (sequence to mod revision as read). A record stays unless a later one has its key, or it is a tombstone
     * below {@code tombstonesBelow} (compared with everything before it: no older value of its key is left)
     * older than {@code deleteHorizonMs}, or it has no key. Records of the {@code aborted} transactions' batches
     * go too, and give no key a later record. The cleaning's last record always stays, whatever it is, so its
     * end offset does too. The partition is then cleaned to {@code cleanedTo} and compared to
     * {@code comparedTo} ({@link io.strata.metadata.KeyCleaning}); its oldest tombstone that may go is the oldest
     * of those the cleaning keeps below {@code comparedTo} and {@code oldestTombstoneBefore}, which stands for
     * those before a window that does not start at the log's start.
     */
    record Clean(PartitionId partition, Map<Long, Long> replaced, List<io.strata.metadata.ChunkRef> sources,
                 long dirtyFrom, long cleanEnd, long expectedKeys, long deleteHorizonMs, long storedBytes,
                 long tombstonesBelow, long cleanedTo, long comparedTo,
                 List<io.strata.metadata.ProducerAppend> aborted, long oldestTombstoneBefore)
            implements ShardPlan {
        public Clean {
            replaced = Map.copyOf(replaced);
            sources = List.copyOf(sources);
            aborted = List.copyOf(aborted);
            if (sources.isEmpty() || sources.get(sources.size() - 1).endOffset() != cleanEnd) {
                throw new IllegalArgumentException("a cleaning of " + partition + " must end where its sources do");
            }
            if (comparedTo > cleanedTo || tombstonesBelow > comparedTo || cleanEnd > cleanedTo) {
                throw new IllegalArgumentException("a cleaning of " + partition + " to " + cleanedTo
                        + " cannot compare to " + comparedTo + " or drop tombstones below " + tombstonesBelow);
            }
        }

        public long baseOffset() {
            return sources.get(0).baseOffset();
        }
    }

    /** What a step does, for logs and metrics. */
    record StepSummary(int partitionsDeleted, int partitionsExpired, long bytesExpired, int merges, long bytesMerged,
                       int entriesBefore, int entriesAfter) {
    }
}
