package io.strata.client;

import java.util.List;
import java.util.Objects;

/**
 * A topic as the server describes it. Retention values of -1 or 0 mean "keep forever"; the cleanup policy is
 * "delete", "compact" or "compact,delete", and a compacted topic keeps tombstones {@code deleteRetentionMs}.
 * {@code partitionDetails} is filled by {@link Admin#describeTopic} only and empty from {@link Admin#listTopics};
 * so are {@code storedBytes}, the bytes the topic stores in the bucket as compaction last measured them from the
 * index, and {@code storedBytesMeasuredAtMs}, when the oldest of those measures was taken (0 while some
 * partition has not been measured yet).
 */
public record TopicInfo(String name, long topicId, int partitions, long retentionMs, long retentionBytes,
                        long createdAtMs, List<PartitionInfo> partitionDetails, String cleanupPolicy,
                        long deleteRetentionMs, long storedBytes, long storedBytesMeasuredAtMs) {
    public TopicInfo {
        Objects.requireNonNull(name, "name");
        partitionDetails = List.copyOf(partitionDetails);
        cleanupPolicy = cleanupPolicy == null || cleanupPolicy.isEmpty() ? "delete" : cleanupPolicy;
    }

    /** A topic whose stored bytes are not known. */
    public TopicInfo(String name, long topicId, int partitions, long retentionMs, long retentionBytes,
                     long createdAtMs, List<PartitionInfo> partitionDetails, String cleanupPolicy,
                     long deleteRetentionMs) {
        this(name, topicId, partitions, retentionMs, retentionBytes, createdAtMs, partitionDetails, cleanupPolicy,
                deleteRetentionMs, 0, 0);
    }
}
