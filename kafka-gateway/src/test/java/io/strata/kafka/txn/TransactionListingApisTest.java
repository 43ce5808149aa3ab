package io.strata.kafka.txn;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.transactions.TransactionRecord;
import io.strata.transactions.TransactionRecord.Outcome;
import io.strata.transactions.TransactionRecord.State;
import io.strata.transactions.TxnPartition;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class TransactionListingApisTest {
    private static final long NOW = 1_000_000;

    private static TransactionRecord record(State state, Outcome last, long startedAt, List<TxnPartition> partitions) {
        return new TransactionRecord("etl", 42, 3, 5, 42, 7, state, 60_000, startedAt, partitions, List.of(), last, NOW);
    }

    @Test
    void anIdsKafkaStateIsItsOpenTransactionsOrHowItsLastOneEnded() {
        assertThat(TransactionListingApis.kafkaState(record(State.READY, Outcome.NONE, 0, List.of()))).isEqualTo("Empty");
        assertThat(TransactionListingApis.kafkaState(record(State.READY, Outcome.COMMITTED, 0, List.of())))
                .isEqualTo("CompleteCommit");
        assertThat(TransactionListingApis.kafkaState(record(State.READY, Outcome.ABORTED, 0, List.of())))
                .isEqualTo("CompleteAbort");
        assertThat(TransactionListingApis.kafkaState(record(State.ONGOING, Outcome.COMMITTED, NOW, List.of())))
                .isEqualTo("Ongoing");
        assertThat(TransactionListingApis.kafkaState(record(State.PREPARE_ABORT, Outcome.NONE, NOW, List.of())))
                .isEqualTo("PrepareAbort");
    }

    @Test
    void aListingKeepsWhatEveryFilterGivenPassesAndADurationOnlyTransactionsRunningLongerThanIt() {
        TransactionRecord open = record(State.ONGOING, Outcome.NONE, NOW - 5_000, List.of());
        TransactionRecord ended = record(State.READY, Outcome.COMMITTED, 0, List.of());
        assertThat(TransactionListingApis.listed(open, Set.of(), Set.of(), -1, NOW)).isTrue();
        assertThat(TransactionListingApis.listed(ended, Set.of(), Set.of(), -1, NOW)).isTrue();
        assertThat(TransactionListingApis.listed(open, Set.of("Ongoing"), Set.of(42L), -1, NOW)).isTrue();
        assertThat(TransactionListingApis.listed(ended, Set.of("Ongoing"), Set.of(), -1, NOW)).isFalse();
        assertThat(TransactionListingApis.listed(open, Set.of(), Set.of(41L), -1, NOW)).isFalse();
        TransactionRecord moved = new TransactionRecord("etl", 43, 0, 1, 42, 7, State.ONGOING, 60_000, NOW - 5_000,
                List.of(), List.of(), Outcome.NONE, NOW);
        assertThat(TransactionListingApis.listed(moved, Set.of(), Set.of(42L), -1, NOW))
                .as("by the producer id its open transaction's records carry").isTrue();
        assertThat(TransactionListingApis.listed(open, Set.of(), Set.of(), 4_999, NOW)).isTrue();
        assertThat(TransactionListingApis.listed(open, Set.of(), Set.of(), 5_000, NOW)).isFalse();
        assertThat(TransactionListingApis.listed(ended, Set.of(), Set.of(), 0, NOW)).as("not running at all").isFalse();
    }

    @Test
    void aRecordThatDoesNotDecodeFailsForGoodAndAStoreOutOfReachIsWorthAskingAgain() {
        assertThat(TransactionListingApis.loadError(new java.util.concurrent.CompletionException(
                new IllegalArgumentException("a transaction record cut short")))).isEqualTo(Errors.UNKNOWN_SERVER_ERROR);
        assertThat(TransactionListingApis.loadError(new java.util.concurrent.CompletionException(
                new java.io.IOException("etcd unreachable")))).isEqualTo(Errors.COORDINATOR_LOAD_IN_PROGRESS);
    }

    @Test
    void aDescriptionNamesAnOpenTransactionsPartitionsByTopicAndLeavesOutTopicsDeletedSince() {
        var open = TransactionListingApis.described(record(State.ONGOING, Outcome.NONE, NOW - 5_000, List.of(
                new TxnPartition(1, 0, 10), new TxnPartition(1, 3, 0), new TxnPartition(2, 1, 4),
                new TxnPartition(9, 0, 0))), Map.of(1L, "orders", 2L, "audit"));
        assertThat(open.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(open.transactionState()).isEqualTo("Ongoing");
        assertThat(open.producerId()).isEqualTo(42);
        assertThat(open.producerEpoch()).isEqualTo((short) 3);
        assertThat(open.transactionTimeoutMs()).isEqualTo(60_000);
        assertThat(open.transactionStartTimeMs()).isEqualTo(NOW - 5_000);
        assertThat(open.topics()).extracting(t -> t.topic() + "=" + t.partitions())
                .containsExactly("orders=[0, 3]", "audit=[1]");

        var ended = TransactionListingApis.described(record(State.READY, Outcome.ABORTED, 0, List.of()), Map.of());
        assertThat(ended.transactionState()).isEqualTo("CompleteAbort");
        assertThat(ended.transactionStartTimeMs()).isEqualTo(-1);
        assertThat(ended.topics()).isEmpty();
    }
}
