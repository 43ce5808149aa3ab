package io.strata.ingest;

import java.time.Duration;

/**
 * How an ingest node batches and bounds its memory.
 *
 * @param blockMaxBytes      seal the open block once its records reach this many (uncompressed) bytes
 * @param blockLinger        seal the open block at the latest this long after its first record
 * @param maxBufferedBytes   bytes held by the open block plus blocks still uploading or committing; produce
 *                           calls beyond it wait (see {@code bufferWait}) and then fail RESOURCE_EXHAUSTED
 * @param bufferWait         how long a produce call may wait for buffer space
 * @param maxRecordBytes     the largest record (key + value + headers) accepted
 * @param maxRequestBytes    the largest produce request accepted, in bytes of records before compression
 *                           (must fit in the buffer twice, and in a block's inflated bound)
 * @param produceTimeout     default time a durable produce call may take end to end
 * @param compressionLevel   zstd level of chunks
 * @param nodeId             this node's id, part of every object key it writes
 * @param maxInflightBlocks  blocks sealing, uploading or committing at once; uploads overlap up to it,
 *                           commits stay in seal order (blocks uploaded behind a slow one commit with it)
 * @param putHedgeAfter      a block's PUT not answered within this (or the recent PUTs' {@code putHedgeQuantile}
 *                           when longer), plus about 16 ms a MiB of the block, is sent again under a second key,
 *                           the first stored winning (see {@code HedgedPut}); zero: never
 * @param putHedgeQuantile   the quantile of the latencies of recent PUTs a PUT may take before it is hedged (when
 *                           longer than {@code putHedgeAfter}): at most about {@code 1 - putHedgeQuantile} of PUTs
 *                           are sent twice on a store whose latencies hold still; zero: after {@code putHedgeAfter} alone
 * @param sealWhenIdle       also seal the open block as soon as no earlier block is on its way (group commit): a
 *                           lone call is stored at once, and calls that arrive while a block uploads and commits
 *                           share the next one; the linger stays the latest a block waits. For stores where a
 *                           block is no billed request (a local directory): on S3 every PUT is billed
 */
public record IngestSettings(long blockMaxBytes, Duration blockLinger, long maxBufferedBytes, Duration bufferWait,
                             int maxRecordBytes, int maxRequestBytes, Duration produceTimeout, int compressionLevel,
                             String nodeId, int maxInflightBlocks, Duration putHedgeAfter,
                             double putHedgeQuantile, boolean sealWhenIdle) {
    public IngestSettings {
        if (blockMaxBytes <= 0 || maxRecordBytes <= 0 || maxRequestBytes < maxRecordBytes
                || maxBufferedBytes < 2L * maxRequestBytes || blockLinger.isNegative()) {
            throw new IllegalArgumentException("inconsistent ingest settings: block.max-bytes=" + blockMaxBytes
                    + " max-record-bytes=" + maxRecordBytes + " max-request-bytes=" + maxRequestBytes
                    + " max-buffered-bytes=" + maxBufferedBytes + " (must hold two requests)");
        }
        if (maxRequestBytes > IngestPipeline.MAX_BLOCK_UNCOMPRESSED_BYTES) {
            throw new IllegalArgumentException("max-request-bytes=" + maxRequestBytes + " is over the most a block "
                    + "may inflate to, " + IngestPipeline.MAX_BLOCK_UNCOMPRESSED_BYTES);
        }
        if (putHedgeAfter == null || putHedgeAfter.isNegative() || putHedgeAfter.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("put-hedge-after must be between zero and an hour, not " + putHedgeAfter);
        }
        if (!(putHedgeQuantile >= 0 && putHedgeQuantile < 1)) {
            throw new IllegalArgumentException("put-hedge-quantile must be at least 0 and below 1, not "
                    + putHedgeQuantile);
        }
        if (maxInflightBlocks < 1) {
            throw new IllegalArgumentException("max-inflight-blocks must be at least 1, not " + maxInflightBlocks);
        }
        if (nodeId == null || !nodeId.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("invalid node id " + nodeId);
        }
    }

    public static IngestSettings defaults(String nodeId) {
        return new IngestSettings(4L << 20, Duration.ofMillis(100), 64L << 20, Duration.ofSeconds(5), 1 << 20,
                8 << 20, Duration.ofSeconds(30), 3, nodeId, 8, DEFAULT_PUT_HEDGE_AFTER, DEFAULT_PUT_HEDGE_QUANTILE, false);
    }

    /**
     * About S3's median PUT (100 ms): a store whose PUTs mostly answer sooner (local disk, MinIO, S3 Express) sees
     * only its outliers sent twice. Big blocks get more time for their bytes ({@code HedgedPut.threshold}).
     */
    public static final Duration DEFAULT_PUT_HEDGE_AFTER = Duration.ofMillis(100);
    /**
     * A PUT slower than 60% of recent ones is sent again: on a store as slow as S3 Standard or slower, whose
     * latencies hold still, at most about two PUTs in five are sent twice (S3's p60 is about 115 ms under issue
     * 15's model; docs/benchmarks.md has what this and 150, 125 and 110 ms thresholds measured), and a block's
     * upload rarely waits for the slowest.
     */
    public static final double DEFAULT_PUT_HEDGE_QUANTILE = 0.6;
}
