package io.strata.metadata;

/**
 * What one compaction worker's last pass did and found, as it writes it down for the console (any node reads it):
 * when it ended and took how long, the shards it worked on, what it merged, expired, cleaned and collected, and what
 * waits (index entries, the oldest block not merged yet, how late retention is).
 */
public record CompactionPass(String owner, long finishedAtMs, long durationMs, int shards, long steps,
                             long segmentsWritten, long bytesMerged, long bytesExpired, long bytesCleaned,
                             long objectsDeleted, long failures, long indexEntries, long oldestUnmergedAgeMs,
                             long retentionLagMs) {
    public CompactionPass {
        if (owner == null || owner.isEmpty() || owner.contains("/")) {
            throw new IllegalArgumentException("a compaction pass of no worker, or of one named with a /");
        }
    }

    /**
     * The passes of the compaction going on now: those that ended within {@code windowMs} of the newest (workers
     * that split the shards pass at about the same time; a CronJob's pods that ended long ago are history).
     */
    public static java.util.List<CompactionPass> current(java.util.List<CompactionPass> passes, long windowMs) {
        long newest = passes.stream().mapToLong(CompactionPass::finishedAtMs).max().orElse(0);
        return passes.stream().filter(p -> p.finishedAtMs() >= newest - windowMs).toList();
    }
}
