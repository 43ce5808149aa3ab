package io.strata.storage.object;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ObjectStore} adapter must do. Subclasses only say how to make a fresh, empty store;
 * the same tests run against the local directory and, over the network, a real S3-compatible server.
 */
public abstract class ObjectStoreContract {
    protected ObjectStore store;

    /** A new store over empty storage. */
    protected abstract ObjectStore newStore() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    protected static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    protected static String string(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    private static Throwable cause(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    @Test
    void putThenGetAnswersTheSameBytes() {
        ObjectKey key = ObjectKey.of("wal/00/block-1");
        store.put(key, bytes("hello, object")).join();
        assertThat(string(store.get(key).join())).isEqualTo("hello, object");
    }

    @Test
    void rangedGetAnswersExactlyTheRangeAndCutsAtTheEnd() {
        ObjectKey key = ObjectKey.of("ranges/a");
        store.put(key, bytes("0123456789")).join();
        assertThat(string(store.get(key, ByteRange.of(2, 3)).join())).isEqualTo("234");
        assertThat(string(store.get(key, ByteRange.of(0, 10)).join())).isEqualTo("0123456789");
        assertThat(string(store.get(key, ByteRange.of(7, 100)).join())).isEqualTo("789");
    }

    @Test
    void rangeStartingPastTheEndFails() {
        ObjectKey key = ObjectKey.of("ranges/b");
        store.put(key, bytes("0123")).join();
        assertThatThrownBy(() -> store.get(key, ByteRange.of(10, 2)).join())
                .satisfies(e -> assertThat(cause(e)).isInstanceOf(ObjectStoreException.class)
                        .isNotInstanceOf(ObjectNotFoundException.class));
    }

    @Test
    void getOfAMissingObjectFailsWithNotFound() {
        ObjectKey key = ObjectKey.of("missing/x");
        assertThatThrownBy(() -> store.get(key).join())
                .satisfies(e -> assertThat(cause(e)).isInstanceOf(ObjectNotFoundException.class));
        assertThatThrownBy(() -> store.get(key, ByteRange.of(0, 1)).join())
                .satisfies(e -> assertThat(cause(e)).isInstanceOf(ObjectNotFoundException.class));
    }

    @Test
    void putNeverOverwritesAnExistingObject() {
        ObjectKey key = ObjectKey.of("once/key");
        store.put(key, bytes("first")).join();
        assertThatThrownBy(() -> store.put(key, bytes("second")).join())
                .satisfies(e -> assertThat(cause(e)).isInstanceOf(ObjectExistsException.class));
        assertThat(string(store.get(key).join())).isEqualTo("first");
    }

    @Test
    void aRetriedPutOfTheSameBytesSucceedsAndChangesNothing() {
        ObjectKey key = ObjectKey.of("once/retried");
        store.put(key, bytes("the same")).join();
        store.put(key, bytes("the same")).join();
        assertThat(string(store.get(key).join())).isEqualTo("the same");
    }

    @Test
    void concurrentPutsOfOneKeyStoreExactlyOneOfThem() throws Exception {
        ObjectKey key = ObjectKey.of("race/key");
        int writers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> outcomes = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            String content = "writer-" + i + "-" + "x".repeat(64 * 1024);
            outcomes.add(pool.submit(() -> {
                go.await();
                try {
                    store.put(key, bytes(content)).join();
                    return true;
                } catch (CompletionException e) {
                    assertThat(cause(e)).isInstanceOf(ObjectExistsException.class);
                    return false;
                }
            }));
        }
        go.countDown();
        int winners = 0;
        for (Future<Boolean> f : outcomes) {
            winners += f.get(60, TimeUnit.SECONDS) ? 1 : 0;
        }
        pool.shutdown();
        assertThat(winners).isEqualTo(1);
        assertThat(string(store.get(key).join())).startsWith("writer-").hasSize("writer-0-".length() + 64 * 1024);
    }

    @Test
    void largeObjectsRoundTripByteForByte() {
        byte[] data = new byte[9 * 1024 * 1024];
        new Random(42).nextBytes(data);
        ObjectKey key = ObjectKey.of("large/block");
        store.put(key, ByteBuffer.wrap(data)).join();
        ByteBuffer whole = store.get(key).join();
        assertThat(whole.remaining()).isEqualTo(data.length);
        assertThat(whole).isEqualTo(ByteBuffer.wrap(data));
        ByteBuffer middle = store.get(key, ByteRange.of(4_000_000, 1_000_000)).join();
        assertThat(middle).isEqualTo(ByteBuffer.wrap(data, 4_000_000, 1_000_000));
    }

    @Test
    void listAnswersEveryObjectUnderThePrefixInKeyOrderWithSizes() {
        store.put(ObjectKey.of("wal/01/b"), bytes("22")).join();
        store.put(ObjectKey.of("wal/00/a"), bytes("1")).join();
        store.put(ObjectKey.of("wal/00/c"), bytes("333")).join();
        store.put(ObjectKey.of("segments/x"), bytes("4444")).join();
        List<ObjectInfo> wal = store.list("wal/").join();
        assertThat(wal).extracting(i -> i.key().value()).containsExactly("wal/00/a", "wal/00/c", "wal/01/b");
        assertThat(wal).extracting(ObjectInfo::sizeBytes).containsExactly(1L, 3L, 2L);
        assertThat(store.list("wal/00/").join()).hasSize(2);
        assertThat(store.list("wal/00/c").join()).hasSize(1);
        assertThat(store.list("").join()).hasSize(4);
        assertThat(store.list("nothing/").join()).isEmpty();
    }

    @Test
    void listGoesPastOnePageOfAThousandKeys() {
        List<CompletableFuture<Void>> puts = new ArrayList<>();
        for (int i = 0; i < 1_050; i++) {
            puts.add(store.put(ObjectKey.of(String.format("many/%05d", i)), bytes("v")));
        }
        CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).join();
        List<ObjectInfo> all = store.list("many/").join();
        assertThat(all).hasSize(1_050);
        assertThat(all.get(1_049).key().value()).isEqualTo("many/01049");
    }

    @Test
    void deleteRemovesObjectsAndCountsAbsentKeysAsDeleted() {
        ObjectKey a = ObjectKey.of("del/a");
        ObjectKey b = ObjectKey.of("del/b");
        ObjectKey absent = ObjectKey.of("del/never");
        store.put(a, bytes("a")).join();
        store.put(b, bytes("b")).join();
        Set<ObjectKey> deleted = store.delete(new HashSet<>(List.of(a, absent))).join();
        assertThat(deleted).containsExactlyInAnyOrder(a, absent);
        assertThat(store.list("del/").join()).extracting(ObjectInfo::key).containsExactly(b);
        assertThatThrownBy(() -> store.get(a).join())
                .satisfies(e -> assertThat(cause(e)).isInstanceOf(ObjectNotFoundException.class));
    }

    @Test
    void pagesWalkTheListingInKeyOrderWithoutRepeatsOrGaps() {
        // Key order, not directory order: "a-b" < "a/b" < "a/c/d" < "a0" (as '-' < '/' < '0').
        List<String> keys = List.of("p/a0", "p/a-b", "p/a/b", "p/a/c/d", "p/b/0", "p/b/1", "p/c", "q/x");
        List<CompletableFuture<Void>> puts = new ArrayList<>();
        keys.forEach(k -> puts.add(store.put(ObjectKey.of(k), bytes(k))));
        CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).join();
        List<String> walked = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            ListPage page = store.listPage("p/", after, 3).join();
            assertThat(page.objects()).hasSizeLessThanOrEqualTo(3);
            page.objects().forEach(o -> walked.add(o.key().value()));
            after = page.nextStartAfter();
            pages++;
        } while (after != null);
        assertThat(walked).containsExactly("p/a-b", "p/a/b", "p/a/c/d", "p/a0", "p/b/0", "p/b/1", "p/c");
        assertThat(pages).isBetween(3, 4);
        assertThat(store.listPage("", "p/b/0", 100).join().objects()).extracting(o -> o.key().value())
                .containsExactly("p/b/1", "p/c", "q/x");
        assertThat(store.listPage("p/a/", null, 100).join().objects()).extracting(o -> o.key().value())
                .containsExactly("p/a/b", "p/a/c/d");
        assertThat(store.listPage("nothing/", null, 10).join()).isEqualTo(new ListPage(List.of(), null));
    }

    @Test
    void deletingIncompleteWritesLeavesObjectsAlone() {
        ObjectKey key = ObjectKey.of("done/k");
        store.put(key, bytes("whole")).join();
        assertThat(store.deleteIncomplete(java.time.Instant.now().plusSeconds(60)).join()).isZero();
        assertThat(string(store.get(key).join())).isEqualTo("whole");
    }
}
