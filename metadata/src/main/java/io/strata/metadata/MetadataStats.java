package io.strata.metadata;

/**
 * Counters of one metadata store instance since it opened (exported as metrics).
 *
 * @param commitTransactions block commit transactions sent (each puts two keys per shard it covers)
 * @param commitConflicts    commit transactions that lost a race with another writer and were retried
 * @param keysWritten        keys put by block commits
 * @param bytesWritten       bytes of the keys and values put by block commits
 * @param producerStates     idempotent producers' states (per partition) the commits keep in memory
 * @param requestFailures    requests to the store that failed (unreachable, timed out, refused), retried or not
 * @param ledgerRebuilds     shards' ledgers read whole: a shard first used, one too far behind to catch up by its
 *                           newer entries, one read again for its producers or aside for DescribeProducers, and
 *                           each retry
 */
public record MetadataStats(long commitTransactions, long commitConflicts, long keysWritten, long bytesWritten,
                            long producerStates, long requestFailures, long ledgerRebuilds) {
}
