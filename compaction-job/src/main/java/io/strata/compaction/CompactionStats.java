package io.strata.compaction;

import io.strata.compaction.gc.GarbageCollector;
import io.strata.compaction.plan.ShardPlan;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** What the compaction worker did since it started, and what its last pass saw (exported as metrics). Thread-safe. */
public final class CompactionStats {
    private final LongAdder passes = new LongAdder();
    private final LongAdder steps = new LongAdder();
    private final LongAdder conflicts = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder segmentsWritten = new LongAdder();
    private final LongAdder segmentBytesWritten = new LongAdder();
    private final LongAdder bytesMerged = new LongAdder();
    private final LongAdder bytesExpired = new LongAdder();
    private final LongAdder partitionsDeleted = new LongAdder();
    private final LongAdder cleanings = new LongAdder();
    private final LongAdder bytesCleaned = new LongAdder();
    private final LongAdder recordsCompactedAway = new LongAdder();
    private final LongAdder tombstonesRemoved = new LongAdder();
    private final LongAdder objectsDeleted = new LongAdder();
    private final LongAdder objectsMarked = new LongAdder();
    private final LongAdder incompleteDeleted = new LongAdder();
    private final AtomicLong indexEntries = new AtomicLong();
    private final AtomicLong oldestUnmergedAgeMs = new AtomicLong();
    private final AtomicLong retentionLagMs = new AtomicLong();
    private final AtomicLong lastPassMs = new AtomicLong();
    private final AtomicLong objectsListed = new AtomicLong();

    public void stepApplied(ShardPlan.StepSummary s) {
        steps.increment();
        bytesMerged.add(s.bytesMerged());
        bytesExpired.add(s.bytesExpired());
        partitionsDeleted.add(s.partitionsDeleted());
    }

    /** A key-compaction cleaning applied: the stored bytes it rewrote and the records it removed. */
    public void cleaned(long bytes, long recordsRemoved, long tombstones) {
        steps.increment();
        cleanings.increment();
        bytesCleaned.add(bytes);
        recordsCompactedAway.add(recordsRemoved);
        tombstonesRemoved.add(tombstones);
    }

    public void segmentWritten(long bytes) {
        segmentsWritten.increment();
        segmentBytesWritten.add(bytes);
    }

    public void conflict() {
        conflicts.increment();
    }

    public void failure() {
        failures.increment();
    }

    public void gcPass(GarbageCollector.Outcome outcome) {
        objectsDeleted.add(outcome.deleted());
        objectsMarked.add(outcome.marked());
        incompleteDeleted.add(outcome.incomplete());
        objectsListed.set(outcome.listed());
    }

    /** What a whole pass over the shards saw. */
    public void passDone(long indexEntries, long oldestUnmergedAgeMs, long retentionLagMs, long durationMs) {
        passes.increment();
        this.indexEntries.set(indexEntries);
        this.oldestUnmergedAgeMs.set(oldestUnmergedAgeMs);
        this.retentionLagMs.set(retentionLagMs);
        this.lastPassMs.set(durationMs);
    }

    public long passes() {
        return passes.sum();
    }

    public long steps() {
        return steps.sum();
    }

    public long conflicts() {
        return conflicts.sum();
    }

    public long failures() {
        return failures.sum();
    }

    public long segmentsWritten() {
        return segmentsWritten.sum();
    }

    public long segmentBytesWritten() {
        return segmentBytesWritten.sum();
    }

    public long bytesMerged() {
        return bytesMerged.sum();
    }

    public long bytesExpired() {
        return bytesExpired.sum();
    }

    public long partitionsDeleted() {
        return partitionsDeleted.sum();
    }

    public long cleanings() {
        return cleanings.sum();
    }

    public long bytesCleaned() {
        return bytesCleaned.sum();
    }

    /** Records key compaction removed (a later record had their key, expired tombstones, records without a key). */
    public long recordsCompactedAway() {
        return recordsCompactedAway.sum();
    }

    public long tombstonesRemoved() {
        return tombstonesRemoved.sum();
    }

    public long objectsDeleted() {
        return objectsDeleted.sum();
    }

    public long objectsMarked() {
        return objectsMarked.sum();
    }

    public long incompleteDeleted() {
        return incompleteDeleted.sum();
    }

    /** Index entries across every shard at the end of the last pass. */
    public long indexEntries() {
        return indexEntries.get();
    }

    /** How long ago the oldest WAL chunk still unmerged was committed, at the last pass (0: none). */
    public long oldestUnmergedAgeMs() {
        return oldestUnmergedAgeMs.get();
    }

    /** How far past its expiry the oldest expired record still held was, at the last pass (0: none). */
    public long retentionLagMs() {
        return retentionLagMs.get();
    }

    public long lastPassMs() {
        return lastPassMs.get();
    }

    /** Objects the last garbage pass listed (the bucket's size in objects). */
    public long objectsListed() {
        return objectsListed.get();
    }
}
