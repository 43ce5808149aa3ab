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

    /** {@code wal/XX/NODE-INCARNATION-SEQUENCE}, the prefix two hex digits, the sequence eight digits at least. */
    public ObjectKey nextWalKey() {
        int spread = ThreadLocalRandom.current().nextInt(256);
        String seq = Long.toString(sequence.incrementAndGet());
        // Built by hand: String.format costs tens of microseconds a block under the quick compiler alone.
        StringBuilder key = new StringBuilder(32 + nodeId.length()).append("wal/")
                .append(Character.forDigit(spread >> 4, 16)).append(Character.forDigit(spread & 15, 16))
                .append('/').append(nodeId).append('-').append(incarnation).append('-');
        for (int i = seq.length(); i < 8; i++) {
            key.append('0');
        }
        return ObjectKey.of(key.append(seq).toString());
    }
}
