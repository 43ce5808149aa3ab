package io.strata.ingest.block;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.format.LogRecord;
import io.strata.ingest.PartitionBatch;
import io.strata.metadata.OneWriteTransaction;
import io.strata.metadata.PartitionId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenBlockTest {
    @Test
    void aOneWriteRequestOverflowsTheBlockOnlyWithPartitionsItHasNotGotYet() {
        OpenBlock block = new OpenBlock(1, 3);
        int limit = OneWriteTransaction.MAX_PARTITIONS_PER_BLOCK;
        // Transactions of two partitions each until the block holds exactly the limit.
        for (int p = 0; p < limit; p += 2) {
            block.append(batches(p, p + 1), 0, oneWrite(p + 1));
        }

        assertThat(block.oneWriteWouldOverflow(batches(0, 5, limit - 1))).as("partitions it has").isFalse();
        assertThat(block.oneWriteWouldOverflow(batches(3, limit))).as("one more").isTrue();
    }

    @Test
    void aPartitionNamedTwiceInOneRequestCountsOnce() {
        OpenBlock block = new OpenBlock(1, 3);
        int limit = OneWriteTransaction.MAX_PARTITIONS_PER_BLOCK;
        List<Integer> first = new ArrayList<>();
        for (int p = 0; p < limit - 1; p++) {
            first.add(p);
        }
        block.append(batches(first.stream().mapToInt(Integer::intValue).toArray()), 0, oneWrite(1));

        assertThat(block.oneWriteWouldOverflow(batches(limit - 1, limit - 1))).as("the last free one, twice").isFalse();
        assertThat(block.oneWriteWouldOverflow(batches(limit - 1, limit))).as("two new ones").isTrue();
    }

    @Test
    void aBlockHoldingTheMostTransactionsTakesNoOtherOneWrite() {
        OpenBlock block = new OpenBlock(1, 3);
        for (int t = 1; t <= OneWriteTransaction.MAX_PER_BLOCK; t++) {
            block.append(batches(0), 0, oneWrite(t));
        }

        assertThat(block.oneWriteWouldOverflow(batches(0))).isTrue();
    }

    private static List<PartitionBatch> batches(int... partitions) {
        List<PartitionBatch> batches = new ArrayList<>();
        for (int p : partitions) {
            batches.add(new PartitionBatch(batches.size(), "t", new PartitionId(7, p),
                    List.of(new LogRecord(null, new byte[] {1}, List.of(), 1_700_000_000_000L))));
        }
        return batches;
    }

    private static OneWriteTransaction oneWrite(long producerId) {
        return new OneWriteTransaction("txn-" + producerId, producerId, 1, 1, new byte[8]);
    }
}
