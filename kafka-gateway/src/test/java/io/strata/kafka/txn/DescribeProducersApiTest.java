package io.strata.kafka.txn;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.kafka.produce.InitProducerIdApi;
import io.strata.metadata.ProducerState;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.TransactionRecord.Outcome;
import io.strata.transactions.TransactionRecord.State;
import io.strata.transactions.TxnPartition;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DescribeProducersApiTest {
    /** Kafka epoch 3, its fifth transaction: the epoch its batches carry. */
    private static final long TXN_EPOCH = 3L << 32 | 5;

    @Test
    void anIdempotentProducerIsShownAtTheEpochTheDoorIssuesItsIdsAtWithNoTransaction() {
        var shown = DescribeProducersApi.describe(new ProducerState(7, 41, 1_234, List.of(), 0), 1, 0, Map.of());
        assertThat(shown.producerId()).isEqualTo(7);
        assertThat(shown.producerEpoch()).isEqualTo(InitProducerIdApi.EPOCH);
        assertThat(shown.lastSequence()).isEqualTo(41);
        assertThat(shown.lastTimestamp()).isEqualTo(1_234);
        assertThat(shown.coordinatorEpoch()).isEqualTo(-1);
        assertThat(shown.currentTxnStartOffset()).isEqualTo(-1);
    }

    @Test
    void aTransactionalProducerShowsItsKafkaEpochAndWhereItsOpenTransactionStartedOnThePartition() {
        TransactionRecord open = new TransactionRecord("etl", 42, 3, 5, 42, TXN_EPOCH, State.ONGOING, 60_000, 1_000,
                List.of(new TxnPartition(1, 0, 10), new TxnPartition(1, 3, 0)), List.of(), Outcome.NONE, 1_000);
        Map<Long, List<TransactionRecord>> byProducer = Map.of(42L, List.of(open));
        ProducerState state = new ProducerState(42, 9, 2_000, List.of(), TXN_EPOCH);

        var onIt = DescribeProducersApi.describe(state, 1, 0, byProducer);
        assertThat(onIt.producerEpoch()).isEqualTo(3);
        assertThat(onIt.currentTxnStartOffset()).isEqualTo(10);
        assertThat(DescribeProducersApi.describe(state, 1, 1, byProducer).currentTxnStartOffset())
                .as("a partition its transaction has not written to").isEqualTo(-1);
        assertThat(DescribeProducersApi.describe(new ProducerState(42, 9, 2_000, List.of(), 3L << 32 | 4), 1, 0,
                byProducer).currentTxnStartOffset()).as("its previous transaction's batches: that one ended")
                .isEqualTo(-1);
    }
}
