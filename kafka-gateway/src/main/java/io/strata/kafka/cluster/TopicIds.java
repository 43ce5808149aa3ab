package io.strata.kafka.cluster;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.Topic;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.Uuid;

/**
 * Kafka's topic ids are UUIDs; Strata's are positive longs, unique for the life of the cluster and never reused.
 * A Strata id is carried in the UUID's low half under a fixed high half, so the mapping needs no registry and a
 * topic deleted and created again under its name gets a new Kafka id, as in Kafka. Names by id are cached
 * (ids are never reused, so an entry cannot go stale, only become the id of a deleted topic). Thread-safe.
 */
public final class TopicIds {
    /** "STRATA" and a version, so a UUID from elsewhere is told apart. */
    static final long HIGH = 0x5354_5241_5441_0001L;
    private static final int MAX_CACHED = 100_000;

    private final MetadataStore metadata;
    private final Map<Long, String> names = new ConcurrentHashMap<>();

    public TopicIds(MetadataStore metadata) {
        this.metadata = metadata;
    }

    public static Uuid uuidOf(Topic topic) {
        return new Uuid(HIGH, topic.topicId());
    }

    /** The Strata topic id a Kafka id stands for, or -1 when it is none of Strata's. */
    public static long strataId(Uuid id) {
        return id.getMostSignificantBits() == HIGH && id.getLeastSignificantBits() > 0 ? id.getLeastSignificantBits() : -1;
    }

    /** The name of the topic with this Kafka id, or null when no live topic has it. */
    public CompletableFuture<String> nameOf(Uuid id) {
        long strataId = strataId(id);
        if (strataId < 0) {
            return CompletableFuture.completedFuture(null);
        }
        String known = names.get(strataId);
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        return metadata.listTopics().thenApply(topics -> {
            if (names.size() > MAX_CACHED) {
                names.clear();
            }
            String found = null;
            for (Topic t : topics) {
                names.put(t.topicId(), t.name());
                if (t.topicId() == strataId) {
                    found = t.name();
                }
            }
            return found;
        });
    }

    /**
     * The live topic a request names: by name when it gives one (versions before topic ids), else by Kafka id,
     * checked against the topic now under that name (it may have been deleted and created again).
     */
    public CompletableFuture<java.util.Optional<Topic>> resolve(String name, Uuid id, io.strata.metadata.TopicCache topics) {
        return resolve(name, id, -1, topics);
    }

    /**
     * As {@link #resolve(String, Uuid, io.strata.metadata.TopicCache)}, read again from the store when the cached
     * topic has no partition {@code highestPartition} (it may have grown on another node).
     */
    public CompletableFuture<java.util.Optional<Topic>> resolve(String name, Uuid id, int highestPartition,
                                                                io.strata.metadata.TopicCache topics) {
        if (name != null && !name.isEmpty()) {
            return topics.get(name, highestPartition);
        }
        return nameOf(id).thenCompose(found -> found == null
                ? CompletableFuture.completedFuture(java.util.Optional.<Topic>empty())
                : topics.get(found, highestPartition).thenApply(topic -> topic.filter(t -> uuidOf(t).equals(id))));
    }

    /** Remembers a name seen elsewhere (a Metadata answer), so a Fetch by id after it needs no listing. */
    public void remember(Topic topic) {
        if (names.size() < MAX_CACHED) {
            names.put(topic.topicId(), topic.name());
        }
    }
}
