package io.strata.client;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many partitions each topic has, learnt from DescribeTopic once per topic and kept, since a topic's
 * partition count does not change. A topic is forgotten when a produce to it fails as if it were gone, so a
 * re-created topic is looked up again. Thread-safe; failures are not kept.
 */
final class PartitionCounts {
    private final Admin admin;
    private final Map<String, Integer> counts = new ConcurrentHashMap<>();

    PartitionCounts(Admin admin) {
        this.admin = admin;
    }

    /** Blocks for one DescribeTopic on the first use of a topic; throws StrataException when it fails. */
    int of(String topic) {
        Integer known = counts.get(topic);
        if (known != null) {
            return known;
        }
        int partitions = admin.describeTopic(topic).partitions();
        counts.put(topic, partitions);
        return partitions;
    }

    void forget(String topic) {
        counts.remove(topic);
    }
}
