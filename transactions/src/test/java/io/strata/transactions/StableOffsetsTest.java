package io.strata.transactions;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StableOffsetsTest {
    private static final Transactions.Limits LIMITS = Transactions.DEFAULT_LIMITS;
    private final StableOffsets stable = new StableOffsets();

    private static TransactionRecord open(String id, long pid, TxnPartition... partitions) {
        TransactionRecord r = Transactions.init(Optional.empty(), id, 10_000, LIMITS, () -> pid, 0);
        return Transactions.add(r, pid, 0, List.of(partitions), List.of(), LIMITS, 1);
    }

    @Test
    void aPartitionIsHeldAtTheLeastStartOfTheTransactionsOpenOnItUntilTheyEnd() {
        TransactionRecord a = open("a", 1, new TxnPartition(7, 0, 10), new TxnPartition(7, 1, 4));
        TransactionRecord b = open("b", 2, new TxnPartition(7, 0, 15));
        stable.apply("a", a);
        stable.apply("b", b);
        assertThat(stable.lastStable(7, 0, 20)).isEqualTo(10);
        assertThat(stable.lastStable(7, 1, 20)).isEqualTo(4);
        assertThat(stable.lastStable(7, 2, 20)).as("no transaction on it").isEqualTo(20);
        assertThat(stable.apply("a", Transactions.commit(a, 1, 0, 2).record()))
                .containsExactlyInAnyOrder(new StableOffsets.Partition(7, 0), new StableOffsets.Partition(7, 1));
        assertThat(stable.lastStable(7, 0, 20)).isEqualTo(15);
        assertThat(stable.lastStable(7, 1, 20)).isEqualTo(20);
        assertThat(stable.lastStable(7, 0, 12)).as("never past the end").isEqualTo(12);
        stable.apply("b", null);
        assertThat(stable.heldAt(7, 0)).isEmpty();
        assertThat(stable.holding()).isZero();
    }

    @Test
    void anAbortBeingWrittenStillHoldsItsPartitionsAndAddingOneMoreMovesNothingElse() {
        TransactionRecord a = open("a", 1, new TxnPartition(7, 0, 10));
        stable.apply("a", a);
        TransactionRecord wider = Transactions.add(a, 1, 0, List.of(new TxnPartition(7, 3, 30)), List.of(), LIMITS, 2);
        stable.apply("a", wider);
        assertThat(stable.lastStable(7, 0, 50)).isEqualTo(10);
        assertThat(stable.lastStable(7, 3, 50)).isEqualTo(30);
        TransactionRecord aborting = Transactions.abort(wider, 1, 0, 3);
        stable.apply("a", aborting);
        assertThat(stable.lastStable(7, 3, 50)).as("held until the abort is done").isEqualTo(30);
        stable.apply("a", Transactions.abortCompleted(aborting, 4));
        assertThat(stable.lastStable(7, 3, 50)).isEqualTo(50);
    }
}
