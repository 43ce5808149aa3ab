package io.strata.client;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Each topic's shape (id and partition count) as the producer routes by it, learnt from a DescribeTopic without
 * offsets. A topic's id never changes but its partition count may grow, so a shape older than {@link #MAX_AGE_NANOS}
 * is looked up again in the background (as a Kafka client refreshes its metadata), while the known one keeps
 * serving: a send never waits for it. A topic is forgotten when a produce to it fails as if it were gone, so a
 * re-created topic is looked up again. Thread-safe; failures are not kept.
 */
final class PartitionCounts {
    static final long MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final Admin admin;
    private final Map<String, Known> topics = new ConcurrentHashMap<>();
    private final Set<String> refreshing = ConcurrentHashMap.newKeySet();

    private record Known(TopicInfo topic, long learntAtNanos) {
    }

    PartitionCounts(Admin admin) {
        this.admin = admin;
    }

    /** Blocks for one DescribeTopic on the first use of a topic; throws StrataException when it fails. */
    TopicInfo topic(String topic) {
        Known known = topics.get(topic);
        if (known != null) {
            if (System.nanoTime() - known.learntAtNanos > MAX_AGE_NANOS && refreshing.add(topic)) {
                CompletableFuture.runAsync(() -> refresh(topic, known));
            }
            return known.topic;
        }
        TopicInfo found = admin.topic(topic);
        topics.put(topic, new Known(found, System.nanoTime()));
        return found;
    }

    private void refresh(String topic, Known known) {
        try {
            topics.replace(topic, known, new Known(admin.topic(topic), System.nanoTime()));
        } catch (RuntimeException e) {
            // Keep routing by what is known; a topic that is gone fails its produce, which forgets it.
            topics.replace(topic, known, new Known(known.topic, System.nanoTime()));
        } finally {
            refreshing.remove(topic);
        }
    }

    int of(String topic) {
        return topic(topic).partitions();
    }

    void forget(String topic) {
        topics.remove(topic);
    }
}
