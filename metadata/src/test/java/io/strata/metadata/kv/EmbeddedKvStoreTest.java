package io.strata.metadata.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.metadata.MetadataException;
import io.strata.metadata.embedded.EmbeddedKvStore;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KV contract on the embedded store, plus its durability: restarts, torn writes, corruption, one owner. */
class EmbeddedKvStoreTest extends KvStoreContract {
    private static final AtomicInteger PREFIXES = new AtomicInteger();
    @TempDir
    Path dir;

    @Override
    protected KvStore newStore() {
        return EmbeddedKvStore.open(dir.resolve("kv"));
    }

    @Override
    protected String freshPrefix() {
        return "/t" + PREFIXES.incrementAndGet() + "/";
    }

    private void reopen() {
        kv.close();
        kv = newStore();
    }

    @Test
    void everyAcknowledgedTransactionSurvivesARestartWithItsRevisions() {
        put(p + "a", "1");
        TxnResult b = put(p + "b", "2");
        kv.txn(List.of(), List.of(new KvOp.Delete(p + "a"))).join();
        reopen();
        assertThat(kv.get(p + "a").join()).isEmpty();
        assertThat(s(kv.get(p + "b").join().orElseThrow().value())).isEqualTo("2");
        assertThat(kv.get(p + "b").join().orElseThrow().modRevision()).isEqualTo(b.revision());
        assertThat(put(p + "c", "3").revision()).isGreaterThan(b.revision());
    }

    @Test
    void transactionsWrittenTogetherSurviveARestartEachWithItsRevisionAndATornGroupGoesWhole() throws Exception {
        int writers = 8;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
        java.util.Map<String, Long> answered = new java.util.concurrent.ConcurrentHashMap<>();
        List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            done.add(pool.submit(() -> {
                for (int i = 0; i < 50; i++) {
                    String key = p + writer + "-" + i;
                    answered.put(key, put(key, Integer.toString(i)).revision());
                }
            }));
        }
        for (var f : done) {
            f.get(1, java.util.concurrent.TimeUnit.MINUTES);
        }
        pool.shutdown();
        reopen();
        answered.forEach((key, revision) ->
                assertThat(kv.get(key).join().orElseThrow().modRevision()).as(key).isEqualTo(revision));

        // A group's record cut short by a crash: none of its transactions comes back, everything before does.
        GroupedWrites.writeTogether(kv, p + "g-", 40);
        kv.close();
        Path log = dir.resolve("kv").resolve("kv.log");
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
            f.setLength(f.length() - 3);
        }
        kv = newStore();
        long recovered = 0;
        for (int i = 0; i < 40; i++) {
            recovered += kv.get(p + "g-" + i).join().isPresent() ? 1 : 0;
        }
        assertThat(recovered).as("only whole records come back").isLessThan(40);
        answered.forEach((key, revision) -> assertThat(kv.get(key).join()).as(key).isPresent());
    }

    /** Many puts asked for at once, so that the store writes them as groups. */
    private static final class GroupedWrites {
        static void writeTogether(KvStore kv, String prefix, int count) {
            List<java.util.concurrent.CompletableFuture<TxnResult>> all = new java.util.ArrayList<>();
            for (int i = 0; i < count; i++) {
                all.add(kv.txn(List.of(), List.of(new KvOp.Put(prefix + i, b("v")))));
            }
            all.forEach(java.util.concurrent.CompletableFuture::join);
        }
    }

    @Test
    void aWriteCutShortByACrashIsDroppedAndTheRestRecovers() throws Exception {
        put(p + "kept", "yes");
        put(p + "torn", "maybe");
        kv.close();
        Path log = dir.resolve("kv").resolve("kv.log");
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "rw")) {
            f.setLength(f.length() - 3); // the last record loses its tail, as in a crash mid-write
        }
        kv = newStore();
        assertThat(kv.get(p + "kept").join()).isPresent();
        assertThat(kv.get(p + "torn").join()).isEmpty();
        put(p + "after", "ok");
        reopen();
        assertThat(kv.get(p + "after").join()).isPresent();
    }

    @Test
    void corruptionFollowedByMoreRecordsRefusesToOpenRatherThanLoseThem() throws Exception {
        put(p + "one", "1");
        put(p + "two", "2");
        kv.close();
        Path log = dir.resolve("kv").resolve("kv.log");
        byte[] bytes = Files.readAllBytes(log);
        bytes[10] ^= 0x5a; // inside the first record's payload
        Files.write(log, bytes);
        assertThatThrownBy(this::newStore).isInstanceOf(MetadataException.class).hasMessageContaining("corrupt");
        kv = EmbeddedKvStore.open(dir.resolve("other")); // for the contract's close
    }

    @Test
    void aSecondOpenOfTheSameDirectoryIsRefused() {
        assertThatThrownBy(this::newStore).isInstanceOf(MetadataException.class).hasMessageContaining("in use");
    }

    @Test
    void leasedKeysDoNotOutliveARestart() {
        KvLease lease = kv.grantLease(java.time.Duration.ofSeconds(30)).join();
        kv.txn(List.of(), List.of(new KvOp.Put(p + "durable", b("d")),
                new KvOp.Put(p + "ephemeral", b("e"), lease.id()))).join();
        reopen();
        assertThat(kv.get(p + "durable").join()).isPresent();
        assertThat(kv.get(p + "ephemeral").join()).isEmpty();
    }

    @Test
    void aWatchFromBeforeTheRestartBreaksSoItsOwnerReadsAgain() throws Exception {
        long old = put(p + "x", "1").revision();
        put(p + "x", "2");
        reopen();
        var broken = new java.util.concurrent.CompletableFuture<Throwable>();
        kv.watch(p, old, new KvWatchListener() {
            @Override
            public void onEvents(List<KvEvent> events) {
            }

            @Override
            public void onBroken(Throwable cause) {
                broken.complete(cause);
            }
        });
        assertThat(broken.get(5, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(MetadataException.class);
    }
}
