package io.strata.metadata.txn;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.MetadataStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every metadata adapter keeps transactions alike; subclasses say how to open a fresh store. */
public abstract class TransactionStoreContract {
    protected MetadataStore store;
    protected TransactionStore transactions;

    protected abstract MetadataStore newStore();

    @BeforeEach
    void open() {
        store = newStore();
        transactions = store.transactions();
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aRecordIsWrittenOnlyOverTheRevisionItWasDecidedOn() {
        assertThat(transactions.load("orders-writer").join()).isEmpty();
        long first = transactions.save("orders-writer", bytes("one"), 0).join().orElseThrow();
        assertThat(transactions.save("orders-writer", bytes("again"), 0).join()).as("it exists now").isEmpty();
        long second = transactions.save("orders-writer", bytes("two"), first).join().orElseThrow();
        assertThat(transactions.save("orders-writer", bytes("stale"), first).join()).as("decided on an old revision")
                .isEmpty();
        TransactionStore.Stored read = transactions.load("orders-writer").join().orElseThrow();
        assertThat(new String(read.record(), StandardCharsets.UTF_8)).isEqualTo("two");
        assertThat(read.revision()).isEqualTo(second);
    }

    @Test
    void aTransactionIsOpenExactlyFromTheRecordThatOpensItToTheOneThatEndsIt() {
        TransactionStore.Open first = new TransactionStore.Open(7, (1L << 32) | 1);
        TransactionStore.Open second = new TransactionStore.Open(7, (1L << 32) | 2);
        long r1 = transactions.save("etl", bytes("begun"), 0, null, first).join().orElseThrow();
        assertThat(transactions.isOpen(first).join()).isTrue();
        assertThat(transactions.save("etl", bytes("lost race"), 0, first, second).join()).isEmpty();
        assertThat(transactions.isOpen(first).join()).as("a refused write changes nothing").isTrue();
        assertThat(transactions.isOpen(second).join()).isFalse();
        long r2 = transactions.save("etl", bytes("added"), r1, first, first).join().orElseThrow();
        assertThat(transactions.isOpen(first).join()).as("still the same transaction").isTrue();
        long r3 = transactions.save("etl", bytes("next"), r2, first, second).join().orElseThrow();
        assertThat(transactions.isOpen(first).join()).isFalse();
        assertThat(transactions.isOpen(second).join()).isTrue();
        transactions.save("etl", bytes("committed"), r3, second, null).join().orElseThrow();
        assertThat(transactions.isOpen(second).join()).isFalse();
    }

    @Test
    void aRecordIsRemovedOnlyAtTheRevisionItWasDecidedOn() {
        long first = transactions.save("idle", bytes("1"), 0).join().orElseThrow();
        long second = transactions.save("idle", bytes("2"), first).join().orElseThrow();
        assertThat(transactions.delete("idle", first).join()).as("moved since").isFalse();
        assertThat(transactions.load("idle").join()).isPresent();
        assertThat(transactions.delete("idle", second).join()).isTrue();
        assertThat(transactions.load("idle").join()).isEmpty();
    }

    @Test
    void everyIdIsListedByItsNameEvenOneWithSlashes() {
        transactions.save("a", bytes("1"), 0).join();
        transactions.save("team/b", bytes("2"), 0).join();
        assertThat(transactions.list().join()).extracting(TransactionStore.Named::transactionalId)
                .containsExactlyInAnyOrder("a", "team/b");
        assertThat(transactions.load("team/b").join()).isPresent();
    }

    @Test
    void marksOfMorePartitionsThanOneMetadataTransactionTakesAreAllWrittenReadAndForgotten() {
        int many = 300; // more marks than one metadata transaction takes (128 operations)
        List<TransactionStore.Aborted> marks = new ArrayList<>();
        IntStream.range(0, many).forEach(p -> marks.add(new TransactionStore.Aborted(9, p, 1234, (3L << 32) | 2,
                100 + p)));
        transactions.markAborted(marks).join();
        transactions.markAborted(marks.subList(0, 10)).join(); // again: changes nothing
        assertThat(transactions.allAborted().join()).containsExactlyInAnyOrderElementsOf(marks);
        assertThat(transactions.aborted(9, 7).join()).containsExactly(marks.get(7));
        assertThat(transactions.aborted(9, 70).join()).containsExactly(marks.get(70));
        assertThat(transactions.aborted(8, 7).join()).isEmpty();
        transactions.forgetAborted(marks.subList(0, 200)).join();
        assertThat(transactions.allAborted().join()).containsExactlyInAnyOrderElementsOf(marks.subList(200, many));
    }

    @Test
    void twoAbortsOnOnePartitionAreTwoMarks() {
        TransactionStore.Aborted first = new TransactionStore.Aborted(9, 0, 1234, 1, 10);
        TransactionStore.Aborted second = new TransactionStore.Aborted(9, 0, 1234, 2, 40);
        TransactionStore.Aborted other = new TransactionStore.Aborted(9, 0, 99, 1, 12);
        transactions.markAborted(List.of(first, second, other)).join();
        assertThat(transactions.aborted(9, 0).join()).containsExactlyInAnyOrder(first, second, other);
    }

    @Test
    void aSnapshotAndAWatchFromItSeeEveryRecordAndMarkOnce() throws Exception {
        transactions.save("before", bytes("1"), 0).join();
        TransactionStore.Aborted early = new TransactionStore.Aborted(9, 0, 1, 1, 5);
        transactions.markAborted(List.of(early)).join();
        TransactionStore.Snapshot snapshot = transactions.snapshot().join();
        assertThat(snapshot.records()).extracting(TransactionStore.Named::transactionalId).containsExactly("before");
        assertThat(snapshot.marks()).containsExactly(early);
        java.util.concurrent.BlockingQueue<String> seen = new java.util.concurrent.LinkedBlockingQueue<>();
        try (AutoCloseable watch = transactions.watch(snapshot.revision(), new TransactionStore.Listener() {
            @Override
            public void onRecord(String transactionalId, byte[] record) {
                seen.add("record " + transactionalId + "=" + (record == null ? "gone" : new String(record,
                        StandardCharsets.UTF_8)));
            }

            @Override
            public void onMark(TransactionStore.Aborted mark, boolean present) {
                seen.add("mark " + mark.partition() + "/" + mark.txnEpoch() + (present ? " at " + mark.startOffset()
                        : " gone"));
            }

            @Override
            public void onBroken(Throwable cause) {
                seen.add("broken");
            }
        })) {
            transactions.save("after", bytes("2"), 0).join();
            transactions.markAborted(List.of(new TransactionStore.Aborted(9, 3, 1, 2, 40))).join();
            transactions.forgetAborted(List.of(early)).join();
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                got.add(seen.poll(10, java.util.concurrent.TimeUnit.SECONDS));
            }
            assertThat(got).containsExactly("record after=2", "mark 3/2 at 40", "mark 0/1 gone");
        }
    }
}
