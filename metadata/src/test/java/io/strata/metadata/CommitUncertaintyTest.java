package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.metadata.codec.MetadataCodec;
import io.strata.metadata.embedded.EmbeddedKvStore;
import io.strata.metadata.kv.ForwardingKvStore;
import io.strata.metadata.kv.KeyRange;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvRange;
import io.strata.metadata.kv.KvStore;
import io.strata.metadata.kv.TxnResult;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commit protocol when the store's answers are lost or late: a commit transaction whose answer was lost
 * may still be applied by the store afterwards, and the commit must then neither store the block twice nor
 * call it failed; a failed read is retried; a topic deleted between a commit's read and its transaction gets
 * nothing. The store is the embedded one behind a wrapper that loses answers and delays transactions, as a
 * timed-out etcd request does.
 */
class CommitUncertaintyTest {
    @TempDir
    Path dir;
    private Faulty kv;
    private KvMetadataStore store;
    private Topic topic;

    @BeforeEach
    void open() {
        kv = new Faulty(EmbeddedKvStore.open(dir));
        store = KvMetadataStore.open(kv, "", 4, Clock.systemUTC(), Duration.ofSeconds(1));
        topic = store.createTopic(new TopicConfig("t", 1, -1, -1)).join();
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static BlockCommit block(String key, PartitionId partition) {
        return new BlockCommit(key, 500, List.of(new BlockChunk(partition, 3, 8, 100, 300, 1_000, 2_000, 7)));
    }

    private long entriesOf(String objectKey) {
        return store.readIndex().join().entries().stream().filter(e -> e.objectKey().equals(objectKey)).count();
    }

    @Test
    void aCommitWhoseLostTransactionIsAppliedBeforeTheRetryReadsIsStoredOnce() {
        store.commitBlock(block("wal/first", topic.partition(0))).join();
        kv.loseNextCommit(held -> kv.beforeNextRead = held); // applied late: just before the retry's read

        ChunkCommit answer = store.commitBlock(block("wal/late", topic.partition(0))).join().get(0);

        assertThat(answer.baseOffset()).isEqualTo(3);
        assertThat(entriesOf("wal/late")).as("index entries of the block").isEqualTo(1);
        assertThat(store.offsets(topic.partition(0)).join().nextOffset()).isEqualTo(6);
    }

    @Test
    void blocksCommittedTogetherWhoseLostTransactionIsAppliedLateAreEachStoredOnce() {
        Topic other = store.createTopic(new TopicConfig("u", 3, -1, -1)).join();
        kv.loseNextCommit(held -> kv.beforeNextRead = held);

        List<List<ChunkCommit>> answers = store.commitBlocks(List.of(block("wal/g1", topic.partition(0)),
                block("wal/g2", other.partition(1)), block("wal/g3", topic.partition(0)))).join();

        assertThat(answers).extracting(a -> a.get(0).baseOffset()).containsExactly(0L, 0L, 3L);
        assertThat(List.of(entriesOf("wal/g1"), entriesOf("wal/g2"), entriesOf("wal/g3"))).containsExactly(1L, 1L, 1L);
        assertThat(store.offsets(topic.partition(0)).join().nextOffset()).isEqualTo(6);
        assertThat(store.offsets(other.partition(1)).join().nextOffset()).isEqualTo(3);
    }

    @Test
    void blocksCommittedTogetherWhoseLostTransactionNeverAppliesAreCommittedByTheRetry() {
        kv.loseNextCommit(held -> { });

        List<List<ChunkCommit>> answers = store.commitBlocks(List.of(block("wal/n1", topic.partition(0)),
                block("wal/n2", topic.partition(0)))).join();

        assertThat(answers).extracting(a -> a.get(0).baseOffset()).containsExactly(0L, 3L);
        assertThat(List.of(entriesOf("wal/n1"), entriesOf("wal/n2"))).containsExactly(1L, 1L);
        assertThat(store.offsets(topic.partition(0)).join().nextOffset()).isEqualTo(6);
    }

    @Test
    void aLostAttemptIsNotTakenForAppliedWhenALaterAttemptWroteTheSameEntryAndMore() {
        // Two partitions of different shards, the idempotent one's shard last (its entry is written last).
        Topic two = store.createTopic(new TopicConfig("two", 8, -1, -1)).join();
        PartitionId plain = two.partition(0);
        PartitionId idem = null;
        for (int p = 1; p < 8; p++) {
            if (store.shardOf(two.partition(p)) < store.shardOf(plain)) {
                plain = two.partition(p);
            }
        }
        for (int p = 0; p < 8 && idem == null; p++) {
            if (store.shardOf(two.partition(p)) > store.shardOf(plain)) {
                idem = two.partition(p);
            }
        }
        assertThat(idem).as("a partition of a later shard").isNotNull();
        PartitionId gapped = idem;
        long producer = store.allocateProducerId().join();
        store.commitBlock(idempotent("wal/seq0", gapped, producer, 0)).join();
        KvMetadataStore other = KvMetadataStore.open(kv.delegate(), "", 4, Clock.systemUTC(), Duration.ofSeconds(1));
        // Attempt 1 finds sequence 6 past a gap (3 is next) and writes only the plain chunk's entry; its answer
        // is lost and it never applies. Another node then stores 3..5, so attempt 2 appends 6 as well, writing
        // the same entry for the plain chunk and one more; its answer is lost, and it applies.
        kv.loseNextCommit(first -> kv.beforeNextRead = () -> {
            other.commitBlock(idempotent("wal/other", gapped, producer, 3)).join();
            kv.loseNextCommit(second -> kv.beforeNextRead = second);
        });

        List<ChunkCommit> answers = store.commitBlock(new BlockCommit("wal/both", 1_000, List.of(
                new BlockChunk(plain, 3, 8, 100, 300, 1_000, 2_000, 7),
                idempotent("-", gapped, producer, 6).chunks().get(0)))).join();

        assertThat(answers.get(1).batches()).as("the answers of the attempt that was applied")
                .containsExactly(new BatchOutcome.Appended(6));
        assertThat(store.offsets(gapped).join().nextOffset()).isEqualTo(9);
        assertThat(entriesOf("wal/both")).isEqualTo(2);
        other.close();
    }

    private static BlockCommit idempotent(String key, PartitionId partition, long producer, long sequence) {
        return new BlockCommit(key, 500, List.of(new BlockChunk(partition, 3, 8, 100, 300, 1_000, 2_000, 7,
                List.of(new ProducerBatch(producer, sequence, 0, 3)))));
    }

    @Test
    void aCommitWhoseLostTransactionIsAppliedBetweenTheRetrysReadAndItsTransactionIsStoredOnce() {
        kv.loseNextCommit(held -> kv.afterNextRead = held);

        ChunkCommit answer = store.commitBlock(block("wal/later", topic.partition(0))).join().get(0);

        assertThat(answer.baseOffset()).isZero();
        assertThat(entriesOf("wal/later")).isEqualTo(1);
        assertThat(store.offsets(topic.partition(0)).join().nextOffset()).isEqualTo(3);
    }

    @Test
    void aCommitWhoseLostTransactionNeverAppliesIsCommittedByItsRetry() {
        kv.loseNextCommit(held -> { });

        ChunkCommit answer = store.commitBlock(block("wal/lost", topic.partition(0))).join().get(0);

        assertThat(answer.baseOffset()).isZero();
        assertThat(entriesOf("wal/lost")).isEqualTo(1);
    }

    @Test
    void aLostTransactionAppliedLateWhoseEntryIsCompactedAwayIsReportedUnknownNotStoredAgain() {
        kv.loseNextCommit(held -> kv.beforeNextRead = () -> {
            held.run(); // applied late...
            // ...and its WAL entry expired by compaction before the retry reads it (the log start moves past it)
            int shard = store.shardOf(topic.partition(0));
            kv.delegate().range("/index/").join().entries().stream()
                    .filter(e -> !e.key().endsWith("/state"))
                    .forEach(e -> kv.delegate().txn(List.of(), List.of(new KvOp.Delete(e.key()))).join());
            kv.delegate().txn(List.of(), List.of(new KvOp.Put(new KeyLayout("").indexState(shard),
                    MetadataCodec.encode(new ShardState(KeyLayout.COMPACTION_SEQUENCE_BASE,
                            Map.of(topic.partition(0), 3L), Map.of(), ProducerSnapshotRef.empty(1))))))
                    .join();
        });

        assertThatThrownBy(() -> store.commitBlock(block("wal/compacted", topic.partition(0))).join())
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(CommitOutcomeUnknownException.class);
        assertThat(entriesOf("wal/compacted")).as("not stored again").isZero();
    }

    @Test
    void aCommitWhoseAnswersAreLostUntilTheBudgetEndsSaysItsOutcomeIsUnknown() {
        kv.loseAllCommits = true;
        assertThatThrownBy(() -> store.commitBlock(block("wal/unknown", topic.partition(0))).join())
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(CommitOutcomeUnknownException.class);
    }

    @Test
    void aFailedReadOfTheHeadsIsRetried() {
        kv.failedReads.set(2);
        ChunkCommit answer = store.commitBlock(block("wal/read", topic.partition(0))).join().get(0);
        assertThat(answer.baseOffset()).isZero();
        assertThat(kv.failedReads.get()).isZero();
    }

    @Test
    void aTopicDeletedBetweenACommitsReadAndItsTransactionGetsNothing() {
        store.commitBlock(block("wal/before", topic.partition(0))).join();
        kv.beforeNextCommit = () -> store.deleteTopic("t").join();

        ChunkCommit answer = store.commitBlock(block("wal/raced", topic.partition(0))).join().get(0);

        assertThat(answer.refusal()).isNotNull();
        assertThat(answer.refusal().reason()).isEqualTo(BatchOutcome.Reason.TOPIC_DELETED);
        assertThat(entriesOf("wal/raced")).isZero();
        assertThat(entriesOf("wal/before")).isEqualTo(1);
    }

    @Test
    void aBlockUploadedLongerAgoThanACommitMayTakeIsNotCommitted() {
        BlockCommit old = new BlockCommit("wal/old", 500, List.of(new BlockChunk(topic.partition(0), 3, 8, 100, 300,
                1_000, 2_000, 7)), List.of(), System.currentTimeMillis() - ShardCommitter.MAX_COMMIT_AGE.toMillis()
                - 1_000);
        assertThatThrownBy(() -> store.commitBlock(old).join()).satisfies(e -> assertThat(e.getCause())
                .isInstanceOf(MetadataException.class).hasMessageContaining("the garbage collector may have taken it"));
        assertThat(entriesOf("wal/old")).isZero();
    }

    /**
     * A node stopped between its commit's read and its transaction, while the collector condemned the block's
     * object, deleted it and removed its marker (absent again, as when the commit read it): the transaction
     * fails, and the read after it finds the block too old to commit.
     */
    @Test
    void aCommitPausedWhileTheCollectorTakesItsObjectIndexesNothing() throws Exception {
        String key = "wal/paused";
        long uploaded = System.currentTimeMillis() - ShardCommitter.MAX_COMMIT_AGE.toMillis() + 500;
        io.strata.metadata.WorkerSession gc = store.compaction().openSession("gc", Duration.ofSeconds(30))
                .join();
        io.strata.metadata.WorkLock lock = gc.tryLock("gc").join().orElseThrow();
        kv.beforeNextCommit = () -> {
            store.compaction().putMarkers(List.of(new io.strata.metadata.GcMarker(key, 1, 1, false)), lock)
                    .join();
            store.compaction().deleteMarkers(List.of(key), lock).join(); // the object deleted, its marker old
            try {
                Thread.sleep(700); // still stopped: the block is now older than a commit may take
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        BlockCommit paused = new BlockCommit(key, 500, List.of(new BlockChunk(topic.partition(0), 3, 8, 100, 300,
                1_000, 2_000, 7)), List.of(), uploaded);
        assertThatThrownBy(() -> store.commitBlock(paused).join()).satisfies(e -> assertThat(e.getCause())
                .isInstanceOf(MetadataException.class).hasMessageContaining("the garbage collector may have taken it"));
        assertThat(entriesOf(key)).isZero();
        gc.close();
    }

    /** A transaction held back: applying it does what the store would have done had the answer come. */
    private record Held(List<KvGuard> guards, List<KvOp> ops, KvStore target) implements Runnable {
        @Override
        public void run() {
            target.txn(guards, ops).join();
        }
    }

    /** The embedded store, with answers lost and transactions delayed on request. Commits are txns with an index put. */
    private static final class Faulty extends ForwardingKvStore {
        final AtomicInteger failedReads = new AtomicInteger();
        volatile Consumer<Runnable> loseNext;
        volatile boolean loseAllCommits;
        volatile Runnable beforeNextRead;
        volatile Runnable afterNextRead;
        volatile Runnable beforeNextCommit;

        Faulty(KvStore kv) {
            super(kv);
        }

        KvStore delegate() {
            return delegate;
        }

        /** The next commit transaction is not applied now and answers a timeout; {@code whenApplied} gets it. */
        void loseNextCommit(Consumer<Runnable> whenApplied) {
            loseNext = whenApplied;
        }

        private static boolean isCommit(List<KvOp> ops) {
            return ops.stream().anyMatch(op -> op instanceof KvOp.Put p && p.key().contains("/index/"));
        }

        @Override
        public CompletableFuture<TxnResult> txn(List<KvGuard> guards, List<KvOp> ops) {
            if (!isCommit(ops)) {
                return delegate.txn(guards, ops);
            }
            Runnable before = beforeNextCommit;
            if (before != null) {
                beforeNextCommit = null;
                before.run();
            }
            if (loseAllCommits) {
                return CompletableFuture.failedFuture(new TimeoutException("answer lost"));
            }
            Consumer<Runnable> lose = loseNext;
            if (lose != null) {
                loseNext = null;
                lose.accept(new Held(guards, ops, delegate));
                return CompletableFuture.failedFuture(new TimeoutException("answer lost"));
            }
            return delegate.txn(guards, ops);
        }

        /** A commit's read of its heads (with the entries past its ledgers), where the faults are injected. */
        @Override
        public CompletableFuture<KvRange> getAll(Collection<String> keys, List<KeyRange> ranges) {
            if (failedReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                return CompletableFuture.failedFuture(new TimeoutException("read failed"));
            }
            Runnable before = beforeNextRead;
            if (before != null) {
                beforeNextRead = null;
                before.run();
            }
            CompletableFuture<KvRange> read = delegate.getAll(keys, ranges);
            Runnable after = afterNextRead;
            if (after != null) {
                afterNextRead = null;
                read.join();
                after.run();
            }
            return read;
        }
    }
}
