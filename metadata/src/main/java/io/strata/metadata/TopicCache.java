package io.strata.metadata;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Topics by name, read through from the metadata store and kept for a short time, so the produce and fetch
 * hot paths do not ask the store on every call. A miss (unknown name, or an entry older than the time to
 * live) re-reads the store, so a new topic is usable at once and a deleted one is refused within the TTL; a
 * partition the cached topic does not have re-reads it too, so partitions added on another node are usable at
 * once (at most one such read per {@link #RECHECK_MS}, so calls naming partitions that do not exist cannot
 * turn every call into a store read). Calls that miss while a read of the same name is under way share it.
 * Thread-safe; bounded by the number of topics that exist.
 */
public final class TopicCache {
    private final MetadataStore store;
    private final Clock clock;
    private final long ttlMillis;
    private final ConcurrentHashMap<String, Cached> topics = new ConcurrentHashMap<>();
    /** Reads of the store under way, by name: calls that miss meanwhile share them (no herd at each TTL's end). */
    private final ConcurrentHashMap<String, CompletableFuture<Optional<Topic>>> reads = new ConcurrentHashMap<>();
    public static final long RECHECK_MS = 200;

    private record Cached(Topic topic, long readAtMs) {
    }

    public TopicCache(MetadataStore store, Clock clock, Duration ttl) {
        this.store = store;
        this.clock = clock;
        this.ttlMillis = ttl.toMillis();
    }

    public CompletableFuture<Optional<Topic>> get(String name) {
        return get(name, -1);
    }

    /** The topic as {@link #get(String)} finds it, re-read first if the cached one has no partition {@code partition}. */
    public CompletableFuture<Optional<Topic>> get(String name, int partition) {
        Cached cached = topics.get(name);
        long now = clock.millis();
        if (cached != null && now - cached.readAtMs < ttlMillis
                && (partition < cached.topic.partitions() || now - cached.readAtMs < Math.min(RECHECK_MS, ttlMillis))) {
            return CompletableFuture.completedFuture(Optional.of(cached.topic));
        }
        CompletableFuture<Optional<Topic>> mine = new CompletableFuture<>();
        CompletableFuture<Optional<Topic>> running = reads.putIfAbsent(name, mine);
        if (running != null) {
            return running;
        }
        store.getTopic(name).thenApply(found -> {
            if (found.isPresent()) {
                // A read that began before this node saw the topic grow must not shrink it back: partition counts
                // only grow for one topic id.
                topics.merge(name, new Cached(found.get(), now), (old, read) -> old.topic.topicId() == read.topic.topicId()
                        && old.topic.partitions() > read.topic.partitions() ? old : read);
            } else {
                topics.remove(name);
            }
            return found;
        }).whenComplete((found, failure) -> {
            reads.remove(name, mine);
            if (failure != null) {
                mine.completeExceptionally(failure);
            } else {
                mine.complete(found);
            }
        });
        return mine;
    }

    /** Forgets a topic at once (after this node deleted or re-created it). */
    public void invalidate(String name) {
        topics.remove(name);
    }
}
