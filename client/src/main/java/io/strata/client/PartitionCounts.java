package io.strata.client;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each topic's shape (id and partition count) as the producer routes by it, learnt once per topic from a
 * DescribeTopic without offsets and kept, since neither changes for a topic. A topic is forgotten when a
 * produce to it fails as if it were gone, so a re-created topic is looked up again. Thread-safe; failures
 * are not kept.
 */
final class PartitionCounts {
    private final Admin admin;
    private final Map<String, TopicInfo> topics = new ConcurrentHashMap<>();

    PartitionCounts(Admin admin) {
        this.admin = admin;
    }

    /** Blocks for one DescribeTopic on the first use of a topic; throws StrataException when it fails. */
    TopicInfo topic(String topic) {
        TopicInfo known = topics.get(topic);
        if (known != null) {
            return known;
        }
        TopicInfo found = admin.topic(topic);
        topics.put(topic, found);
        return found;
    }

    int of(String topic) {
        return topic(topic).partitions();
    }

    void forget(String topic) {
        topics.remove(topic);
    }
}
