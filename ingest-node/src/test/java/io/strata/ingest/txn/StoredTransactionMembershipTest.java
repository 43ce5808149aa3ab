package io.strata.ingest.txn;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.OneWriteTransaction;
import io.strata.metadata.PartitionId;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.Transactions;
import io.strata.transactions.coordinator.TransactionCoordinator;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which whole transactions a node writes in one write, and which of them it chains to one still on its way. */
class StoredTransactionMembershipTest {
    @TempDir
    Path dir;
    private MetadataStore metadata;
    private TransactionCoordinator coordinator;
    private StoredTransactionMembership membership;
    private Set<PartitionId> partitions;

    @BeforeEach
    void start() {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 8);
        coordinator = new TransactionCoordinator(metadata, Transactions.DEFAULT_LIMITS, Clock.systemUTC());
        membership = new StoredTransactionMembership(metadata.transactions(),
                (id, producer, epoch, added) -> coordinator.addForBatches(id, producer, epoch, added));
        Topic topic = metadata.createTopic(new TopicConfig("t", 2, -1, -1)).join();
        partitions = Set.of(topic.partition(0), topic.partition(1));
    }

    @AfterEach
    void stop() {
        metadata.close();
    }

    @Test
    void theNextTransactionsAreChainedWhileThoseBeforeThemAreOnTheirWayAndNotOnceTheRecordMovedElsewhere() {
        TransactionCoordinator.Producer p = coordinator.initProducer("c", 60_000).join();
        long first = TransactionRecord.txnEpoch(p.producerEpoch(), 1);

        OneWriteTransaction one = decide(p, first);
        assertThat(one.chained()).as("the next one by the record").isFalse();
        assertThat(one.expectedRevision()).isPositive();
        OneWriteTransaction two = decide(p, first + 1);
        assertThat(two.chained()).as("sent before the first was stored").isTrue();
        assertThat(two.predecessorRecord()).isEqualTo(one.committedRecord());
        assertThat(decide(p, first + 3)).as("not the one after the last decided").isNull();

        store(one); // the first one's block committed: the second still on its way
        OneWriteTransaction three = decide(p, first + 2);
        assertThat(three.chained()).isTrue();
        assertThat(three.predecessorRecord()).isEqualTo(two.committedRecord());

        store(two);
        store(three);
        OneWriteTransaction four = decide(p, first + 3);
        assertThat(four.chained()).as("all before it stored: the next one by the record again").isFalse();

        // Stored, then the next transaction begun on its own (its first requests added their partitions): its last
        // request, holding the rest and the commit, commits an open transaction, not one chained to the last.
        store(four);
        coordinator.addForBatches("c", p.producerId(), first + 4, partitions).join();
        assertThat(decide(p, first + 4)).isNull();
    }

    private OneWriteTransaction decide(TransactionCoordinator.Producer p, long txnEpoch) {
        return membership.inOneWrite("c", p.producerId(), txnEpoch, partitions).join();
    }

    /** Writes the record as the block commit of the transaction's batches does (guarded as it is). */
    private void store(OneWriteTransaction t) {
        long revision = metadata.transactions().load(t.transactionalId()).join().orElseThrow().revision();
        if (t.chained()) {
            assertThat(metadata.transactions().load(t.transactionalId()).join().orElseThrow().record())
                    .isEqualTo(t.predecessorRecord());
        } else {
            assertThat(revision).isEqualTo(t.expectedRevision());
        }
        metadata.transactions().save(t.transactionalId(), t.committedRecord(), revision, null, null).join()
                .orElseThrow();
    }
}
