package io.strata.kafka.cluster;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Kafka names brokers by a 32-bit id, Strata nodes by a string. The id is derived from the node id alone, so
 * every node computes the same id for every other without a registry, and a restarted node (same id) is the
 * same broker. Two node ids with one CRC are possible in principle (about one in 2^31 per pair); {@link Brokers}
 * keeps the older node of such a pair and logs the clash.
 */
public final class BrokerIds {
    private BrokerIds() {
    }

    public static int of(String nodeId) {
        CRC32 crc = new CRC32();
        crc.update(nodeId.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() & 0x7fff_ffffL);
    }
}
