package io.strata.transactions;

/**
 * What an aborted transaction leaves on each partition it may have written to: its records there (those of
 * {@code producerId} at {@code txnEpoch}, from {@code startOffset} on) are never shown to read-committed readers,
 * and compaction leaves them out of what it merges.
 */
public record AbortMark(long topicId, int partition, long producerId, long txnEpoch, long startOffset) {
}
