package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Transactional producers' batches carry their transaction's epoch (docs/transactions.md): a newer epoch starts
 * its sequences again at 0, an older one than the partition stored is fenced, and the epoch survives a producer
 * snapshot, so compaction never forgets who is fenced.
 */
class TransactionEpochAdmissionTest {
    private static final PartitionId PARTITION = new PartitionId(3, 1);
    private static final long PRODUCER = 42;
    private final ProducerStates states = new ProducerStates();
    private long nextOffset;
    private long now = 1_000;

    /** Which transactions are open: all, unless a test ends one. */
    private ChunkAdmission.OpenTransactions open = (producerId, txnEpoch) -> true;

    /** Admits one chunk of the producer's batch and folds what it appended; answers the batch's outcome. */
    private BatchOutcome send(long epoch, long baseSequence, int count) {
        ProducerBatch batch = new ProducerBatch(PRODUCER, baseSequence, 0, count, epoch);
        BlockChunk chunk = new BlockChunk(PARTITION, count, 8, 100, 300, now, now, 7, List.of(batch));
        ChunkAdmission.Admitted admitted = ChunkAdmission.admit(nextOffset, id -> states.get(PARTITION, id), chunk,
                "wal/x", now, open);
        admitted.appends().forEach(a -> states.fold(a, now));
        nextOffset = admitted.nextOffset();
        now++;
        return admitted.commit().batches().get(0);
    }

    @Test
    void aBatchOfAnOlderEpochThanThePartitionStoredIsFencedAndNothingOfItStored() {
        long first = (1L << 32) | 1;
        long second = (1L << 32) | 2;
        assertThat(send(first, 0, 3)).isInstanceOf(BatchOutcome.Appended.class);
        assertThat(send(second, 3, 2)).as("a later transaction of the producer goes on from its last sequence")
                .isEqualTo(new BatchOutcome.Appended(3));
        BatchOutcome zombie = send(first, 3, 4);
        assertThat(zombie).isInstanceOfSatisfying(BatchOutcome.Rejected.class, r -> {
            assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.PRODUCER_FENCED);
            assertThat(r.message()).startsWith("producer fenced:");
        });
        assertThat(nextOffset).as("the fenced batch got no offsets").isEqualTo(5);
        assertThat(states.get(PARTITION, PRODUCER).epoch()).isEqualTo(second);
    }

    @Test
    void aNewEpochStartsAtSequenceZeroAndRetriesWithinItAreDuplicates() {
        long first = (1L << 32) | 1;
        long second = (2L << 32) | 1;
        assertThat(send(first, 0, 3)).isInstanceOf(BatchOutcome.Appended.class);
        assertThat(send(second, 5, 1)).as("a new epoch past sequence 0")
                .isInstanceOfSatisfying(BatchOutcome.Rejected.class,
                        r -> assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.SEQUENCE_GAP));
        assertThat(send(second, 0, 2)).isEqualTo(new BatchOutcome.Appended(3));
        assertThat(send(second, 0, 2)).as("the same batch again").isEqualTo(new BatchOutcome.Duplicate(3));
        assertThat(send(second, 2, 1)).isEqualTo(new BatchOutcome.Appended(5));
    }

    @Test
    void aLaterTransactionOfTheSameProducerEpochGoesOnFromItsLastSequenceAndANewProducerEpochStartsAtZero() {
        long first = (4L << 32) | 1;
        long next = (4L << 32) | 2;
        assertThat(send(first, 0, 3)).isInstanceOf(BatchOutcome.Appended.class);
        assertThat(send(next, 0, 1)).as("sequences run on across a producer's transactions, as Kafka's")
                .isInstanceOfSatisfying(BatchOutcome.Rejected.class,
                        r -> assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.STALE_SEQUENCE));
        assertThat(send(next, 3, 2)).isEqualTo(new BatchOutcome.Appended(3));
        assertThat(send(next, 3, 2)).as("its retry").isEqualTo(new BatchOutcome.Duplicate(3));
        long bumped = (5L << 32) | 1;
        assertThat(send(bumped, 5, 1)).as("a new producer epoch starts at 0")
                .isInstanceOf(BatchOutcome.Rejected.class);
        assertThat(send(bumped, 0, 1)).isEqualTo(new BatchOutcome.Appended(5));
    }

    @Test
    void aBatchOfATransactionNoLongerOpenIsRefusedButARetryOfOneStoredWhileItWasIsADuplicate() {
        long epoch = (1L << 32) | 1;
        assertThat(send(epoch, 0, 3)).isEqualTo(new BatchOutcome.Appended(0));
        open = (producerId, txnEpoch) -> false; // committed or aborted meanwhile
        assertThat(send(epoch, 3, 2)).as("a straggler sent before the end, committed after it")
                .isInstanceOfSatisfying(BatchOutcome.Rejected.class, r -> {
                    assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.TRANSACTION_NOT_OPEN);
                    assertThat(r.message()).contains("no longer open");
                });
        assertThat(nextOffset).isEqualTo(3);
        assertThat(send(epoch, 0, 3)).as("its answer was lost: the retry is answered with the original's offsets")
                .isEqualTo(new BatchOutcome.Duplicate(0));
    }

    @Test
    void aProducerThatIsIdempotentOnlyIsNeverFenced() {
        assertThat(send(0, 0, 2)).isInstanceOf(BatchOutcome.Appended.class);
        assertThat(send(0, 2, 2)).isInstanceOf(BatchOutcome.Appended.class);
        assertThat(states.get(PARTITION, PRODUCER).epoch()).isZero();
    }

    @Test
    void theEpochSurvivesAProducerSnapshotAndAnIndexEntry() {
        long epoch = (7L << 32) | 3;
        send(epoch, 0, 2);
        byte[] snapshot = io.strata.metadata.codec.MetadataCodec.encodeProducerSnapshot(0, 10, now, states);
        ProducerSnapshotRef ref = new ProducerSnapshotRef("producer-state/0/x", 10, snapshot.length,
                crc32c(snapshot));
        ProducerStates read = io.strata.metadata.codec.MetadataCodec.decodeProducerSnapshot(ref,
                java.nio.ByteBuffer.wrap(snapshot)).states();
        assertThat(read.get(PARTITION, PRODUCER).epoch()).isEqualTo(epoch);

        ProducerAppend append = new ProducerAppend(PARTITION, PRODUCER, 0, 2, 0, epoch);
        IndexEntry entry = new IndexEntry(0, 1, "wal/x", now, List.of(new ChunkRef(PARTITION, "wal/x", 0, 2, 8, 100,
                300, now, now, 7, 2, List.of())), List.of(append));
        byte[] bytes = io.strata.metadata.codec.MetadataCodec.encode(entry);
        IndexEntry back = io.strata.metadata.codec.MetadataCodec.decodeIndexEntry("k", 0, 1, bytes);
        assertThat(back.appends()).containsExactly(append);
        assertThat(back.appends().get(0).transactional()).isTrue();
    }

    private static int crc32c(byte[] bytes) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }
}
