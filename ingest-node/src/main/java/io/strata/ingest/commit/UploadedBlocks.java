package io.strata.ingest.commit;

import io.strata.format.SealedBlock;

/**
 * Told of every block right after its PUT succeeded and before its commit: the ingest node hands the
 * block's chunks to the fetch nodes that own their partitions, so that by the time the commit's watch
 * event wakes the consumers at the tail, the chunks wait in those nodes' caches (keyed by object, byte
 * range and CRC32C, which the upload already fixed; a block whose commit then fails is simply never
 * asked for). Called on the object store's threads; implementations must not block and must not fail
 * (a lost hand-off costs a GET, never correctness). The block's buffer is read-only and shared.
 */
@FunctionalInterface
public interface UploadedBlocks {
    UploadedBlocks NONE = (objectKey, block) -> { };

    void uploaded(String objectKey, SealedBlock block);
}
