package io.strata.kafka.txn;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.transactions.TransactionRecord;
import io.strata.transactions.TransactionRecord.Outcome;
import io.strata.transactions.TransactionRecord.State;
import io.strata.transactions.TxnPartition;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class WriteTxnMarkersApiTest {
    /** Producer 42's open transaction under Kafka epoch 3 (its fifth), holding partitions 0 and 3 of topic 1. */
    private static final TransactionRecord OPEN = new TransactionRecord("etl", 42, 3, 5, 42, 3L << 32 | 5,
            State.ONGOING, 60_000, 1_000, List.of(new TxnPartition(1, 0, 10), new TxnPartition(1, 3, 0)), List.of(),
            Outcome.NONE, 1_000);
    private static final Map<Long, List<TransactionRecord>> BY_PRODUCER = Map.of(42L, List.of(OPEN));

    @Test
    void anAbortOfTheProducersOpenTransactionOnAPartitionItHoldsAbortsThatTransaction() {
        assertThat(WriteTxnMarkersApi.decide(42, (short) 3, false, 1, 0, BY_PRODUCER))
                .isEqualTo(new WriteTxnMarkersApi.Decision.Abort(OPEN));
    }

    @Test
    void anAbortWhereNothingOfTheProducersIsOpenChangesNothingAndSucceeds() {
        assertThat(WriteTxnMarkersApi.decide(42, (short) 3, false, 1, 1, BY_PRODUCER)).as("a partition it does not hold")
                .isEqualTo(new WriteTxnMarkersApi.Decision.Answer(Errors.NONE));
        assertThat(WriteTxnMarkersApi.decide(7, (short) 0, false, 1, 0, BY_PRODUCER)).as("another producer")
                .isEqualTo(new WriteTxnMarkersApi.Decision.Answer(Errors.NONE));
    }

    @Test
    void anAbortUnderAnotherEpochIsRefusedAndACommitMarkerAlways() {
        assertThat(WriteTxnMarkersApi.decide(42, (short) 2, false, 1, 0, BY_PRODUCER))
                .isEqualTo(new WriteTxnMarkersApi.Decision.Answer(Errors.INVALID_PRODUCER_EPOCH));
        assertThat(WriteTxnMarkersApi.decide(42, (short) 3, true, 1, 0, BY_PRODUCER))
                .isEqualTo(new WriteTxnMarkersApi.Decision.Answer(Errors.INVALID_REQUEST));
    }
}
