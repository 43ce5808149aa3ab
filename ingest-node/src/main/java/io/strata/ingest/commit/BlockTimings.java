package io.strata.ingest.commit;

/**
 * Where a block's time goes, reported once per committed block (the node exports them as latency metrics):
 * waiting for an upload slot and sealing (compressing the node's own records, laying out the block), the
 * object store PUT, waiting behind earlier blocks' commits, and the metadata commit itself. Called on store
 * threads; implementations must be quick and thread-safe.
 */
public interface BlockTimings {
    BlockTimings NONE = (seal, upload, queue, commit) -> { };

    void committed(long sealNanos, long uploadNanos, long commitQueueNanos, long commitNanos);
}
