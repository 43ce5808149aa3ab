package io.strata.ingest.block;

import io.strata.storage.object.ObjectKey;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Names WAL objects. A key is unique without coordination (node id, the incarnation's start time and a
 * sequence), and starts with one of 256 two-hex-digit prefixes, because S3 scales request rates per prefix.
 */
public final class ObjectKeys {
    private final String nodeId;
    private final long incarnation;
    private final AtomicLong sequence = new AtomicLong();

    public ObjectKeys(String nodeId, long incarnationMs) {
        this.nodeId = nodeId;
        this.incarnation = incarnationMs;
    }

    public ObjectKey nextWalKey() {
        int spread = ThreadLocalRandom.current().nextInt(256);
        return ObjectKey.of(String.format("wal/%02x/%s-%d-%08d", spread, nodeId, incarnation,
                sequence.incrementAndGet()));
    }
}
