package io.strata.fetch;

import static io.strata.testkit.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.strata.fetch.txn.TransactionsView;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.PartitionId;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.Transactions;
import io.strata.transactions.coordinator.TransactionCoordinator;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fetch node's view of transactions, kept by a watch on the embedded store while the coordinator decides. */
class TransactionsViewTest {
    @TempDir
    Path dir;
    private MetadataStore metadata;
    private ScheduledExecutorService timer;
    private TransactionsView view;
    private TransactionCoordinator coordinator;
    private Topic topic;

    @BeforeEach
    void open() {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 4);
        timer = Executors.newSingleThreadScheduledExecutor();
        topic = metadata.createTopic(new TopicConfig("t", 2, -1, -1)).join();
        coordinator = new TransactionCoordinator(metadata, Transactions.DEFAULT_LIMITS, Clock.systemUTC());
    }

    @AfterEach
    void close() throws Exception {
        if (view != null) {
            view.close();
        }
        timer.shutdownNow();
        metadata.close();
    }


    @Test
    void aPartitionIsStableUpToItsOpenTransactionsStartAndAnAbortedOnesRecordsAreKnown() throws Exception {
        PartitionId p0 = new PartitionId(topic.topicId(), 0);
        PartitionId p1 = new PartitionId(topic.topicId(), 1);
        TransactionCoordinator.Producer before = coordinator.initProducer("early", 60_000).join();
        coordinator.addPartitions("early", before.producerId(), before.producerEpoch(),
                List.of(new TransactionCoordinator.PartitionName("t", 1))).join();
        view = new TransactionsView(metadata.transactions(), timer);
        view.start().join();
        assertThat(view.lastStable(p1, 10)).as("open before the view started: from its snapshot").isZero();
        assertThat(view.lastStable(p0, 10)).isEqualTo(10);

        TransactionCoordinator.Producer p = coordinator.initProducer("tx", 60_000).join();
        TransactionRecord open = coordinator.addPartitions("tx", p.producerId(), p.producerEpoch(),
                List.of(new TransactionCoordinator.PartitionName("t", 0))).join();
        await(() -> view.lastStable(p0, 10) == 0);
        coordinator.commit("tx", p.producerId(), p.producerEpoch()).join();
        await(() -> view.lastStable(p0, 10) == 10);
        assertThat(view.aborted(p0, p.producerId(), open.txnEpoch())).isFalse();

        TransactionRecord second = coordinator.addPartitions("tx", p.producerId(), p.producerEpoch(),
                List.of(new TransactionCoordinator.PartitionName("t", 0))).join();
        coordinator.abort("tx", p.producerId(), p.producerEpoch()).join();
        await(() -> view.aborted(p0, p.producerId(), second.txnEpoch()));
        await(() -> view.lastStable(p0, 10) == 10);
        assertThat(view.aborted(p1, p.producerId(), second.txnEpoch())).as("only where it was").isFalse();
    }
}
