package io.strata.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.strata.compaction.CompactionStats;
import io.strata.group.GroupStats;
import java.util.function.ToDoubleFunction;

/** The metrics of the compaction and group roles, as the node exports them (names in docs/configuration.md). */
public final class RoleMetrics {
    private RoleMetrics() {
    }

    public static void compaction(MeterRegistry meters, CompactionStats stats) {
        counter(meters, "strata.compaction.passes", stats, CompactionStats::passes);
        counter(meters, "strata.compaction.steps", stats, CompactionStats::steps);
        counter(meters, "strata.compaction.conflicts", stats, CompactionStats::conflicts);
        counter(meters, "strata.compaction.failures", stats, CompactionStats::failures);
        counter(meters, "strata.compaction.segments.written", stats, CompactionStats::segmentsWritten);
        counter(meters, "strata.compaction.segment.bytes.written", stats, CompactionStats::segmentBytesWritten);
        counter(meters, "strata.compaction.bytes.merged", stats, CompactionStats::bytesMerged);
        counter(meters, "strata.compaction.bytes.expired", stats, CompactionStats::bytesExpired);
        counter(meters, "strata.compaction.cleanings", stats, CompactionStats::cleanings);
        counter(meters, "strata.compaction.bytes.cleaned", stats, CompactionStats::bytesCleaned);
        counter(meters, "strata.compaction.records.compacted.away", stats, CompactionStats::recordsCompactedAway);
        counter(meters, "strata.compaction.tombstones.removed", stats, CompactionStats::tombstonesRemoved);
        counter(meters, "strata.compaction.objects.deleted", stats, CompactionStats::objectsDeleted);
        counter(meters, "strata.compaction.objects.marked", stats, CompactionStats::objectsMarked);
        meters.gauge("strata.compaction.index.entries", stats, CompactionStats::indexEntries);
        meters.gauge("strata.compaction.oldest.unmerged.age.ms", stats, CompactionStats::oldestUnmergedAgeMs);
        meters.gauge("strata.compaction.retention.lag.ms", stats, CompactionStats::retentionLagMs);
        meters.gauge("strata.compaction.pass.duration.ms", stats, CompactionStats::lastPassMs);
        meters.gauge("strata.compaction.objects.listed", stats, CompactionStats::objectsListed);
    }

    public static void groups(MeterRegistry meters, GroupStats stats) {
        counter(meters, "strata.groups.joins", stats, GroupStats::joins);
        counter(meters, "strata.groups.leaves", stats, GroupStats::leaves);
        counter(meters, "strata.groups.targets.published", stats, GroupStats::targetsPublished);
        counter(meters, "strata.groups.partitions.acquired", stats, GroupStats::partitionsAcquired);
        counter(meters, "strata.groups.commits", stats, GroupStats::commits);
        counter(meters, "strata.groups.committed.partitions", stats, GroupStats::committedPartitions);
        counter(meters, "strata.groups.expiries", stats, GroupStats::expiries);
        counter(meters, "strata.groups.adoptions", stats, GroupStats::adoptions);
        meters.gauge("strata.groups.hosted.members", stats, GroupStats::hostedMembers);
        counter(meters, "strata.groups.commits.fenced", stats, GroupStats::fencedCommits);
        counter(meters, "strata.groups.starts.below.log.start", stats, GroupStats::startsBelowLogStart);
    }

    /** A monotonic count read from {@code source} (exported as {@code name_total}). */
    public static <T> void counter(MeterRegistry meters, String name, T source, ToDoubleFunction<T> count) {
        FunctionCounter.builder(name, source, count).register(meters);
    }
}
