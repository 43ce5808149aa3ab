package io.strata.metadata.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The etcd semantics every {@link KvStore} adapter keeps: the embedded store is proved against the same
 * tests as real etcd. Subclasses say how to open a store and give each test a key prefix of its own.
 */
public abstract class KvStoreContract {
    protected KvStore kv;
    protected String p;

    protected abstract KvStore newStore() throws Exception;

    /** A prefix no other test uses (etcd is shared by the whole test JVM). */
    protected abstract String freshPrefix();

    @BeforeEach
    void open() throws Exception {
        kv = newStore();
        p = freshPrefix();
    }

    @AfterEach
    void closeStore() {
        kv.close();
    }

    protected static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    protected static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    protected TxnResult put(String key, String value) {
        return kv.txn(List.of(), List.of(new KvOp.Put(key, b(value)))).join();
    }

    @Test
    void theStoresSizeIsReadAndDoesNotShrinkAsKeysAreWritten() throws Exception {
        long before = kv.sizeBytes().get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(before).isNotNegative();
        String value = "v".repeat(16 * 1024);
        for (int i = 0; i < 64; i++) {
            put(p + "size-" + i, value + i);
        }
        // Not necessarily more: etcd reuses the pages its compacted history freed (the fixture is shared).
        long after = kv.sizeBytes().get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(after).isPositive().isGreaterThanOrEqualTo(before);
    }

    @Test
    void compareAndSetIncrementsFromManyWritersAtOnceEachLandOnceInOrderAndAreReadBack() throws Exception {
        int writers = 8;
        int increments = 40;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
        String counter = p + "counter";
        put(counter, "0");
        List<java.util.concurrent.Future<List<Long>>> done = new java.util.ArrayList<>();
        for (int w = 0; w < writers; w++) {
            String own = p + "own-" + w;
            done.add(pool.submit(() -> {
                List<Long> revisions = new java.util.ArrayList<>();
                for (int i = 0; i < increments; i++) {
                    // One shared counter, raced for, and a key of its own beside it in the same transaction.
                    while (true) {
                        KeyValue now = kv.get(counter).join().orElseThrow();
                        TxnResult r = kv.txn(List.of(new KvGuard(counter, now.modRevision())),
                                List.of(new KvOp.Put(counter, b(Long.toString(Long.parseLong(s(now.value())) + 1))),
                                        new KvOp.Put(own, b(Integer.toString(i))))).join();
                        if (r.succeeded()) {
                            revisions.add(r.revision());
                            break;
                        }
                    }
                }
                return revisions;
            }));
        }
        java.util.Set<Long> all = new java.util.HashSet<>();
        for (var f : done) {
            List<Long> revisions = f.get(2, java.util.concurrent.TimeUnit.MINUTES);
            assertThat(revisions).as("one writer's transactions in order").isSorted();
            all.addAll(revisions);
        }
        pool.shutdown();
        assertThat(all).as("no two transactions answered with one revision").hasSize(writers * increments);
        assertThat(s(kv.get(counter).join().orElseThrow().value())).isEqualTo(Integer.toString(writers * increments));
        for (int w = 0; w < writers; w++) {
            assertThat(s(kv.get(p + "own-" + w).join().orElseThrow().value())).isEqualTo(Integer.toString(increments - 1));
        }
    }

    @Test
    void aMissingKeyReadsAsEmpty() {
        assertThat(kv.get(p + "missing").join()).isEmpty();
    }

    @Test
    void putsAdvanceRevisionsAndKeepTheCreateRevision() {
        TxnResult first = put(p + "k", "v1");
        TxnResult second = put(p + "k", "v2");
        assertThat(second.revision()).isGreaterThan(first.revision());
        KeyValue v = kv.get(p + "k").join().orElseThrow();
        assertThat(s(v.value())).isEqualTo("v2");
        assertThat(v.createRevision()).isEqualTo(first.revision());
        assertThat(v.modRevision()).isEqualTo(second.revision());
    }

    @Test
    void aGuardedTransactionFailsWhenTheKeyMovedAndWritesNothing() {
        put(p + "head", "1");
        long read = kv.get(p + "head").join().orElseThrow().modRevision();
        put(p + "head", "2"); // someone else
        TxnResult result = kv.txn(List.of(new KvGuard(p + "head", read)),
                List.of(new KvOp.Put(p + "head", b("3")), new KvOp.Put(p + "other", b("x")))).join();
        assertThat(result.succeeded()).isFalse();
        assertThat(s(kv.get(p + "head").join().orElseThrow().value())).isEqualTo("2");
        assertThat(kv.get(p + "other").join()).isEmpty();
    }

    @Test
    void anAbsentGuardLetsExactlyOneOfManyConcurrentCreatorsWin() throws Exception {
        int creators = 8;
        ExecutorService pool = Executors.newFixedThreadPool(creators);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> outcomes = new ArrayList<>();
        for (int i = 0; i < creators; i++) {
            String value = "creator-" + i;
            outcomes.add(pool.submit(() -> {
                go.await();
                return kv.txn(List.of(KvGuard.absent(p + "once")), List.of(new KvOp.Put(p + "once", b(value))))
                        .join().succeeded();
            }));
        }
        go.countDown();
        int won = 0;
        for (Future<Boolean> f : outcomes) {
            won += f.get(30, TimeUnit.SECONDS) ? 1 : 0;
        }
        pool.shutdown();
        assertThat(won).isEqualTo(1);
    }

    @Test
    void aDeleteInATransactionRemovesTheKey() {
        put(p + "gone", "x");
        assertThat(kv.txn(List.of(), List.of(new KvOp.Delete(p + "gone"), new KvOp.Delete(p + "never"))).join()
                .succeeded()).isTrue();
        assertThat(kv.get(p + "gone").join()).isEmpty();
    }

    @Test
    void rangeReadsEveryKeyUnderThePrefixInKeyOrder() {
        // More keys than one etcd page, written 100 a transaction.
        List<String> expected = new ArrayList<>();
        for (int batch = 0; batch < 12; batch++) {
            List<KvOp> ops = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                String key = String.format("%srange/%05d", p, batch * 100 + i);
                ops.add(new KvOp.Put(key, b("v" + i)));
                expected.add(key);
            }
            Collections.shuffle(ops);
            kv.txn(List.of(), ops).join();
        }
        put(p + "rangeX", "outside"); // shares the text prefix "range" but not "range/"
        KvRange range = kv.range(p + "range/").join();
        assertThat(range.entries()).extracting(KeyValue::key).containsExactlyElementsOf(expected);
        assertThat(range.revision()).isGreaterThanOrEqualTo(range.entries().get(1199).modRevision());
    }

    @Test
    void rangeBetweenKeysReadsFromTheFirstUpToButNotTheLastAcrossPages() {
        List<KvOp> ops = new ArrayList<>();
        for (int i = 0; i < 1100; i++) {
            ops.add(new KvOp.Put(String.format("%sbetween/%05d", p, i), b("v" + i)));
            if (ops.size() == 100) {
                kv.txn(List.of(), ops).join();
                ops.clear();
            }
        }
        KvRange part = kv.range(p + "between/00007", p + "between/01093").join();
        assertThat(part.entries()).hasSize(1086);
        assertThat(part.entries().get(0).key()).isEqualTo(p + "between/00007");
        assertThat(part.entries().get(1085).key()).isEqualTo(p + "between/01092");
        assertThat(kv.range(p + "between/00009", p + "between/00009").join().entries()).isEmpty();
        assertThat(kv.range(p + "between/00009", p + "between/00002").join().entries()).isEmpty();
        assertThat(kv.range(p + "between/02000", p + "between/03000").join().entries()).isEmpty();
    }

    @Test
    void getAllWithRangesReadsKeysAndTheFirstKeysOfEachRangeAtOneRevision() {
        for (int i = 0; i < 10; i++) {
            put(String.format("%sr/a/%02d", p, i), "a" + i);
            put(String.format("%sr/b/%02d", p, i), "b" + i);
        }
        TxnResult last = put(p + "single", "s");
        KvRange read = kv.getAll(List.of(p + "single", p + "missing"), List.of(
                new KeyRange(p + "r/a/03", p + "r/a/99", 4),
                new KeyRange(p + "r/b/08", p + "r/b/99", 5),
                new KeyRange(p + "r/b/05", p + "r/b/05", 5))).join();
        assertThat(read.entries()).extracting(KeyValue::key).containsExactly(p + "r/a/03", p + "r/a/04",
                p + "r/a/05", p + "r/a/06", p + "r/b/08", p + "r/b/09", p + "single");
        assertThat(read.revision()).isGreaterThanOrEqualTo(last.revision());
    }

    @Test
    void getAllReadsTheKeysThatExistAtOneRevision() {
        put(p + "a", "1");
        TxnResult last = put(p + "c", "3");
        KvRange read = kv.getAll(List.of(p + "c", p + "b", p + "a")).join();
        assertThat(read.entries()).extracting(KeyValue::key).containsExactly(p + "a", p + "c");
        assertThat(read.revision()).isGreaterThanOrEqualTo(last.revision());
    }

    @Test
    void aTransactionOverTheOpLimitIsRefusedBeforeItIsSent() {
        List<KvOp> ops = new ArrayList<>();
        for (int i = 0; i <= kv.maxTxnOps(); i++) {
            ops.add(new KvOp.Put(p + "many/" + i, b("x")));
        }
        assertThatThrownBy(() -> kv.txn(List.of(), ops)).isInstanceOf(IllegalArgumentException.class);
        List<KvOp> fits = ops.subList(0, kv.maxTxnOps());
        assertThat(kv.txn(List.of(), fits).join().succeeded()).isTrue();
    }

    @Test
    void aWatchDeliversEveryChangeAfterItsRevisionInOrderIncludingEarlierOnes() throws Exception {
        long start = put(p + "w/0", "before").revision();
        put(p + "w/1", "after-start-1");
        put(p + "elsewhere", "not watched");
        List<KvEvent> seen = new CopyOnWriteArrayList<>();
        CountDownLatch all = new CountDownLatch(4);
        try (AutoCloseable watch = kv.watch(p + "w/", start, listener(seen, all))) {
            put(p + "w/2", "after-watch");
            kv.txn(List.of(), List.of(new KvOp.Delete(p + "w/0"))).join();
            put(p + "w/1", "again");
            assertThat(all.await(10, TimeUnit.SECONDS)).as("4 events arrive").isTrue();
        }
        assertThat(seen).extracting(KvEvent::key).containsExactly(p + "w/1", p + "w/2", p + "w/0", p + "w/1");
        assertThat(seen).extracting(KvEvent::type).containsExactly(KvEvent.Type.PUT, KvEvent.Type.PUT,
                KvEvent.Type.DELETE, KvEvent.Type.PUT);
        assertThat(s(seen.get(3).value())).isEqualTo("again");
        for (int i = 1; i < seen.size(); i++) {
            assertThat(seen.get(i).revision()).isGreaterThan(seen.get(i - 1).revision());
        }
    }

    @Test
    void aClosedWatchDeliversNothingMore() throws Exception {
        long start = put(p + "c/0", "x").revision();
        List<KvEvent> seen = new CopyOnWriteArrayList<>();
        CountDownLatch first = new CountDownLatch(1);
        AutoCloseable watch = kv.watch(p + "c/", start, listener(seen, first));
        put(p + "c/1", "seen");
        assertThat(first.await(10, TimeUnit.SECONDS)).isTrue();
        watch.close();
        put(p + "c/2", "not seen");
        CountDownLatch marker = new CountDownLatch(1);
        try (AutoCloseable other = kv.watch(p + "c/", start, listener(new CopyOnWriteArrayList<>(), marker))) {
            assertThat(marker.await(10, TimeUnit.SECONDS)).isTrue(); // the store did deliver to a live watch
        }
        Thread.sleep(200);
        assertThat(seen).extracting(KvEvent::key).containsExactly(p + "c/1");
    }

    @Test
    void aLeasedKeyLivesWhileTheLeaseIsKeptAndGoesWhenItIsClosed() throws Exception {
        KvLease lease = kv.grantLease(Duration.ofSeconds(1)).join();
        kv.txn(List.of(), List.of(new KvOp.Put(p + "node", b("alive"), lease.id()))).join();
        Thread.sleep(2_500); // beyond the TTL: only keep-alives hold it
        assertThat(kv.get(p + "node").join()).isPresent();
        assertThat(lease.lost()).isNotDone();
        List<KvEvent> seen = new CopyOnWriteArrayList<>();
        CountDownLatch deleted = new CountDownLatch(1);
        long now = kv.get(p + "node").join().orElseThrow().modRevision();
        try (AutoCloseable watch = kv.watch(p + "node", now, listener(seen, deleted))) {
            lease.close();
            assertThat(deleted.await(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(seen.get(0).type()).isEqualTo(KvEvent.Type.DELETE);
        assertThat(kv.get(p + "node").join()).isEmpty();
    }

    @Test
    void aSessionLeaseLivesOnlyWhileItIsRenewed() throws Exception {
        long lease = kv.grantSessionLease(Duration.ofSeconds(2)).join();
        kv.txn(List.of(), List.of(new KvOp.Put(p + "member", b("m"), lease))).join();
        for (int i = 0; i < 8; i++) { // 4 s, twice the TTL: only renewals hold it
            Thread.sleep(500);
            assertThat(kv.renewLease(lease).join()).isTrue();
        }
        assertThat(kv.get(p + "member").join()).isPresent();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (kv.get(p + "member").join().isPresent() && System.nanoTime() < deadline) {
            Thread.sleep(100); // no renewals now: the store expires it on its own
        }
        assertThat(kv.get(p + "member").join()).as("the key of an expired session lease").isEmpty();
        assertThat(kv.renewLease(lease).join()).as("renewing an expired lease").isFalse();
        kv.revokeLease(lease).join(); // already gone: not an error
    }

    @Test
    void revokingASessionLeaseDeletesItsKeysAtOnce() {
        long lease = kv.grantSessionLease(Duration.ofSeconds(30)).join();
        kv.txn(List.of(), List.of(new KvOp.Put(p + "a", b("1"), lease), new KvOp.Put(p + "b", b("2"), lease))).join();
        kv.revokeLease(lease).join();
        assertThat(kv.range(p).join().entries()).isEmpty();
        assertThat(kv.renewLease(lease).join()).isFalse();
    }

    @Test
    void aPutWithAnUnknownLeaseFails() {
        CompletableFuture<TxnResult> result = kv.txn(List.of(),
                List.of(new KvOp.Put(p + "x", b("y"), 0x7fff_ffff_0000L)));
        assertThatThrownBy(result::join).hasCauseInstanceOf(io.strata.metadata.MetadataException.class);
        assertThat(kv.get(p + "x").join()).isEmpty();
    }

    @Test
    void compactedHistoryBreaksOlderWatchesAndKeepsTheData() throws Exception {
        long old = put(p + "h/0", "first").revision();
        put(p + "h/0", "second");
        long kept = put(p + "h/1", "third").revision();
        kv.compact(kept).join();
        kv.compact(kept).join(); // again: already compacted, not an error
        assertThat(s(kv.get(p + "h/0").join().orElseThrow().value())).isEqualTo("second");
        CountDownLatch broken = new CountDownLatch(1);
        try (AutoCloseable watch = kv.watch(p + "h/", old, new KvWatchListener() {
            @Override
            public void onEvents(List<KvEvent> events) {
            }

            @Override
            public void onBroken(Throwable cause) {
                broken.countDown();
            }
        })) {
            assertThat(broken.await(10, TimeUnit.SECONDS)).as("a watch from before the compaction breaks").isTrue();
        }
        List<KvEvent> seen = new CopyOnWriteArrayList<>();
        CountDownLatch next = new CountDownLatch(1);
        try (AutoCloseable watch = kv.watch(p + "h/", kept, listener(seen, next))) {
            put(p + "h/2", "fourth");
            assertThat(next.await(10, TimeUnit.SECONDS)).as("a watch from the compacted revision works").isTrue();
        }
        assertThat(seen).extracting(KvEvent::key).containsExactly(p + "h/2");
    }

    protected static KvWatchListener listener(List<KvEvent> seen, CountDownLatch latch) {
        return new KvWatchListener() {
            @Override
            public void onEvents(List<KvEvent> events) {
                for (KvEvent e : events) {
                    seen.add(e);
                    latch.countDown();
                }
            }

            @Override
            public void onBroken(Throwable cause) {
            }
        };
    }
}
