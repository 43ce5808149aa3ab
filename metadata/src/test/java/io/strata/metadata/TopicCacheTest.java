package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopicCacheTest {
    @TempDir
    Path dir;
    private MetadataStore store;
    private final io.strata.testkit.MutableClock clock = new io.strata.testkit.MutableClock(1_000_000);

    @BeforeEach
    void open() {
        store = MetadataStores.embedded(dir, 4);
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    @Test
    void aPartitionTheCachedTopicLacksIsLookedUpAgainButNotOnEveryCall() {
        TopicCache cache = new TopicCache(store, clock, Duration.ofSeconds(30));
        store.createTopic(new TopicConfig("t", 2, -1, -1)).join();
        assertThat(cache.get("t").join().orElseThrow().partitions()).isEqualTo(2);
        store.alterTopic("t", TopicChange.partitions(4)).join(); // as another node would

        assertThat(cache.get("t", 1).join().orElseThrow().partitions()).as("a partition it has: cached").isEqualTo(2);
        assertThat(cache.get("t", 3).join().orElseThrow().partitions()).as("read just now: not again yet").isEqualTo(2);
        clock.advanceMillis(TopicCache.RECHECK_MS);
        assertThat(cache.get("t", 3).join().orElseThrow().partitions()).isEqualTo(4);
        assertThat(cache.get("t").join().orElseThrow().partitions()).isEqualTo(4);

        clock.advanceMillis(TopicCache.RECHECK_MS);
        assertThat(cache.get("t", 9).join().orElseThrow().partitions()).as("looked up, still 4").isEqualTo(4);
        store.alterTopic("t", TopicChange.partitions(12)).join();
        assertThat(cache.get("t", 9).join().orElseThrow().partitions()).as("within the recheck interval").isEqualTo(4);
    }

    @Test
    void callsThatMissTogetherShareOneReadOfTheStore() {
        store.createTopic(new TopicConfig("t", 2, -1, -1)).join();
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CompletableFuture<Void> release = new java.util.concurrent.CompletableFuture<>();
        MetadataStore counting = (MetadataStore) java.lang.reflect.Proxy.newProxyInstance(
                MetadataStore.class.getClassLoader(), new Class<?>[] {MetadataStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getTopic")) {
                        reads.incrementAndGet();
                        return release.thenCompose(v -> store.getTopic((String) args[0]));
                    }
                    return method.invoke(store, args);
                });
        TopicCache cache = new TopicCache(counting, clock, Duration.ofSeconds(30));
        java.util.List<java.util.concurrent.CompletableFuture<java.util.Optional<Topic>>> calls = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            calls.add(cache.get("t", i % 3));
        }
        release.complete(null);
        calls.forEach(c -> assertThat(c.join().orElseThrow().partitions()).isEqualTo(2));
        assertThat(reads.get()).isEqualTo(1);
        assertThat(cache.get("t").join()).isPresent();
        assertThat(reads.get()).as("cached since").isEqualTo(1);
    }
}
