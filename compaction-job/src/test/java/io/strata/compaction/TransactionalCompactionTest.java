package io.strata.compaction;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.compaction.CompactionFixture.Rec;
import io.strata.metadata.BatchOutcome;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.PartitionId;
import io.strata.metadata.ProducerAppend;
import io.strata.metadata.ProducerBatch;
import io.strata.metadata.ShardSnapshot;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.Transactions;
import io.strata.transactions.coordinator.TransactionCoordinator;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction merges transactions' records into segments like any others, and the segments carry on the
 * transactional batches read-committed readers still need to leave records out: those of aborted and of open
 * transactions. A committed transaction's batches are dropped (docs/transactions.md, "Compaction").
 */
class TransactionalCompactionTest {
    @TempDir
    Path dir;
    private CompactionFixture f;
    private TransactionCoordinator coordinator;
    private Topic topic;

    @BeforeEach
    void open() {
        f = new CompactionFixture(dir, 1, true);
        coordinator = new TransactionCoordinator(f.metadata, Transactions.DEFAULT_LIMITS, f.clock);
        topic = f.metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
    }

    @AfterEach
    void close() {
        f.close();
    }

    /** Begins a transaction of {@code id} on the partition and writes two records in it; answers its record. */
    private TransactionRecord writeIn(String id) {
        TransactionCoordinator.Producer p = coordinator.initProducer(id, 600_000).join();
        TransactionRecord txn = coordinator.addPartitions(id, p.producerId(), p.producerEpoch(),
                List.of(new TransactionCoordinator.PartitionName("t", 0))).join();
        PartitionId partition = topic.partition(0);
        var committed = f.commit(Map.of(partition, List.of(new Rec(null, id + "-0", f.clock.millis()),
                new Rec(null, id + "-1", f.clock.millis()))), pid -> List.of(new ProducerBatch(txn.txnProducerId(), 0,
                0, 2, txn.txnEpoch())));
        assertThat(committed.get(0).commit().batches().get(0)).isInstanceOf(BatchOutcome.Appended.class);
        f.commit(Map.of(partition, List.of(new Rec(null, "plain", f.clock.millis()))));
        return txn;
    }

    @Test
    void segmentsCarryTheBatchesOfAbortedAndOpenTransactionsAndDropTheCommittedOnes() {
        TransactionRecord aborted = writeIn("a");
        TransactionRecord committed = writeIn("b");
        TransactionRecord open = writeIn("c");
        coordinator.abort("a", aborted.producerId(), aborted.producerEpoch()).join();
        coordinator.commit("b", committed.producerId(), committed.producerEpoch()).join();

        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = f.worker(settings);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();

        ShardSnapshot after = f.metadata.compaction().readShard(0).join();
        assertThat(after.entries()).as("merged into segments").isNotEmpty().allMatch(IndexEntry::isSegment);
        List<ProducerAppend> carried = after.entries().stream().flatMap(e -> e.appends().stream()).toList();
        assertThat(carried).extracting(a -> a.producerId() + "@" + a.epoch() + ":" + a.baseOffset())
                .containsExactlyInAnyOrder(aborted.txnProducerId() + "@" + aborted.txnEpoch() + ":0",
                        open.txnProducerId() + "@" + open.txnEpoch() + ":6");
        assertThat(carried).allMatch(ProducerAppend::transactional);
    }

    /** Writes {@code recs} to {@code partition} in a transaction of {@code id}, begun here; answers its record. */
    private TransactionRecord writeIn(String id, Topic in, List<Rec> recs) {
        TransactionCoordinator.Producer p = coordinator.initProducer(id, 600_000).join();
        TransactionRecord txn = coordinator.addPartitions(id, p.producerId(), p.producerEpoch(),
                List.of(new TransactionCoordinator.PartitionName(in.name(), 0))).join();
        var committed = f.commit(Map.of(in.partition(0), recs), pid -> List.of(new ProducerBatch(txn.txnProducerId(),
                0, 0, recs.size(), txn.txnEpoch())));
        assertThat(committed.get(0).commit().batches().get(0)).isInstanceOf(BatchOutcome.Appended.class);
        return txn;
    }

    private List<String> values(Topic in) {
        return LogReader.read(f.metadata, f.objects, in.partition(0)).records().stream()
                .map(r -> r.offset() + ":" + r.key() + "=" + r.value()).toList();
    }

    /**
     * Key compaction of a transactional topic: an aborted record never replaces the committed value of its key
     * (it goes instead), and records of a transaction still open are not cleaned until it ends. Before
     * transactions wrote to such topics, AddPartitions refused them, since a cleaning kept an aborted value and
     * took the committed one before it away.
     */
    @Test
    void keyCompactionDropsAbortedRecordsAndWaitsForOpenTransactions() {
        Topic kv = f.metadata.createTopic(new TopicConfig("kv", 1, -1, -1, io.strata.metadata.CleanupPolicy.COMPACT,
                60_000)).join();
        long ts = f.clock.millis();
        f.commit(Map.of(kv.partition(0), List.of(new Rec("a", "1", ts), new Rec("b", "1", ts))));
        TransactionRecord aborted = writeIn("x", kv, List.of(new Rec("a", "aborted", ts), new Rec("c", "aborted", ts)));
        coordinator.abort("x", aborted.producerId(), aborted.producerEpoch()).join();
        f.commit(Map.of(kv.partition(0), List.of(new Rec("b", "2", ts))));
        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = f.worker(settings);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        assertThat(values(kv)).as("the aborted records went; a's committed value stayed")
                .containsExactly("0:a=1", "4:b=2");
        assertThat(f.metadata.compaction().readShard(0).join().entries()).flatExtracting(IndexEntry::appends)
                .as("the aborted batch went with its records").isEmpty();

        // A transaction that added the partition holds read-committed readers where the partition then ended,
        // before any record of its own: what those readers see up to there must stay, a value after it or not.
        TransactionCoordinator.Producer holder = coordinator.initProducer("w", 600_000).join();
        coordinator.addPartitions("w", holder.producerId(), holder.producerEpoch(),
                List.of(new TransactionCoordinator.PartitionName("kv", 0))).join();
        f.commit(Map.of(kv.partition(0), List.of(new Rec("a", "plain", ts))));
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        assertThat(values(kv)).as("nothing where readers are held is cleaned").contains("0:a=1");
        coordinator.abort("w", holder.producerId(), holder.producerEpoch()).join();

        TransactionRecord open = writeIn("y", kv, List.of(new Rec("a", "3", ts)));
        f.commit(Map.of(kv.partition(0), List.of(new Rec("b", "3", ts))));
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        assertThat(values(kv)).as("nothing at or after the open transaction is cleaned, nor replaces a value")
                .contains("4:b=2", "5:a=plain", "6:a=3", "7:b=3");

        coordinator.commit("y", open.producerId(), open.producerEpoch()).join();
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        assertThat(values(kv)).as("committed, its record replaces the value before it")
                .containsExactly("6:a=3", "7:b=3");
    }
}
