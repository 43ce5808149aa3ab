package io.strata.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.strata.api.v1.FetchRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConsumerTest {
    private final FakeStrata fake = new FakeStrata();
    private final StrataClient client = fake.client();

    @AfterEach
    void stop() throws InterruptedException {
        client.close();
        fake.close();
    }

    @Test
    void pollReadsEveryAssignedPartitionAndAdvancesEachPosition() {
        fake.createTopic("orders", 3);
        fake.append("orders", 0, "a", "b");
        fake.append("orders", 2, "c");
        Consumer consumer = client.consumer("orders");
        consumer.assignAll();
        consumer.seekToBeginning();

        List<ConsumerRecord> records = new java.util.ArrayList<>();
        for (int i = 0; i < 10 && records.size() < 3; i++) {
            records.addAll(consumer.poll(Duration.ofSeconds(1)));
        }

        assertThat(records).extracting(ConsumerRecord::partition, ConsumerRecord::offset, r -> s(r.value()))
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(0, 0L, "a"),
                        org.assertj.core.groups.Tuple.tuple(0, 1L, "b"),
                        org.assertj.core.groups.Tuple.tuple(2, 0L, "c"));
        assertThat(List.of(consumer.position(0), consumer.position(1), consumer.position(2)))
                .containsExactly(2L, 0L, 1L);
        assertThat(consumer.poll(Duration.ofMillis(50))).isEmpty();
    }

    @Test
    void aPartitionWithoutPositionStartsAtItsEnd() {
        fake.createTopic("orders", 1);
        fake.append("orders", 0, "old");
        Consumer consumer = client.consumer("orders");
        consumer.assign(List.of(0));

        assertThat(consumer.position(0)).isEqualTo(1);
        fake.append("orders", 0, "new");

        assertThat(consumer.poll(Duration.ofSeconds(1))).extracting(r -> s(r.value())).containsExactly("new");
    }

    @Test
    void seekToBeginningStartsAtTheLogStartNotAtZero() {
        fake.createTopic("orders", 1);
        fake.append("orders", 0, "r0", "r1", "r2", "r3", "r4");
        fake.truncate("orders", 0, 3);
        Consumer consumer = client.consumer("orders");
        consumer.assign(List.of(0));
        consumer.seekToBeginning();

        assertThat(consumer.poll(Duration.ofSeconds(1))).extracting(ConsumerRecord::offset).containsExactly(3L, 4L);
    }

    @Test
    void aPartitionWithMoreToReadIsFetchedAgainBeforeTheNextPoll() {
        fake.createTopic("orders", 1);
        fake.append("orders", 0, "a0", "a1", "a2");
        Consumer consumer = client.consumer("orders", new ConsumerConfig(1, Duration.ofSeconds(30)));
        consumer.assign(List.of(0));
        consumer.seekToBeginning();

        assertThat(consumer.poll(Duration.ofSeconds(1))).extracting(r -> s(r.value())).containsExactly("a0");
        // The answer said the partition goes on: the next fetch was sent before the poll answered, without
        // a long-poll wait (records are there), so the next poll finds its answer waiting.
        for (long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
             fake.fetchRequests.size() < 2 && System.nanoTime() < until; ) {
            Thread.onSpinWait();
        }
        assertThat(fake.fetchRequests.get(1).getOffset()).isEqualTo(1);
        assertThat(fake.fetchRequests.get(1).getMaxWaitMs()).isZero();
        assertThat(consumer.poll(Duration.ofSeconds(1))).extracting(r -> s(r.value())).containsExactly("a1");
        assertThat(consumer.poll(Duration.ofSeconds(1))).extracting(r -> s(r.value())).containsExactly("a2");
        // At the end nothing is fetched ahead: the next fetch is the next poll's, and it long-polls.
        assertThat(fake.fetchRequests).hasSize(3);
        assertThat(consumer.poll(Duration.ofMillis(300))).isEmpty();
        assertThat(fake.fetchRequests.get(3).getMaxWaitMs()).isPositive();
    }

    @Test
    void seekMovesOnlyThatPartition() {
        fake.createTopic("orders", 2);
        fake.append("orders", 0, "a0", "a1", "a2");
        fake.append("orders", 1, "b0", "b1");
        Consumer consumer = client.consumer("orders");
        consumer.assignAll();
        consumer.seek(0, 2);

        assertThat(consumer.poll(Duration.ofSeconds(1))).extracting(r -> s(r.value())).containsExactly("a2");
        assertThat(consumer.position(1)).isEqualTo(2);
    }

    @Test
    void pollLongPollsAndAnswersAsSoonAsARecordArrives() throws Exception {
        fake.createTopic("orders", 1);
        Consumer consumer = client.consumer("orders");
        consumer.assign(List.of(0));
        consumer.position(0);

        CompletableFuture<Void> later = CompletableFuture.runAsync(() -> fake.append("orders", 0, "late"),
                CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS));
        long start = System.nanoTime();
        List<ConsumerRecord> records = consumer.poll(Duration.ofSeconds(20));
        later.get();

        assertThat(records).extracting(r -> s(r.value())).containsExactly("late");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(fake.fetchRequests).extracting(FetchRequest::getMaxWaitMs).allMatch(ms -> ms > 10_000);
    }

    @Test
    void pollAnswersEmptyWhenNothingArrivesWithinTheTimeout() {
        fake.createTopic("orders", 2);
        Consumer consumer = client.consumer("orders");
        consumer.assignAll();

        long start = System.nanoTime();
        assertThat(consumer.poll(Duration.ofMillis(300))).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(290));
    }

    @Test
    void seekToTimestampStartsEachPartitionAtItsFirstRecordAtOrAfterTheTime() {
        fake.createTopic("orders", 2);
        fake.append("orders", 0, "a", "b", "c", "d"); // timestamps 0, 1000, 2000, 3000
        fake.append("orders", 1, "x");                // timestamp 0
        Consumer consumer = client.consumer("orders");
        consumer.assignAll();

        consumer.seekToTimestamp(1500);

        assertThat(consumer.position(0)).isEqualTo(2);
        assertThat(consumer.position(1)).as("none at or after: the end").isEqualTo(1);
        List<ConsumerRecord> records = new java.util.ArrayList<>();
        for (int i = 0; i < 10 && records.size() < 2; i++) {
            records.addAll(consumer.poll(Duration.ofMillis(200)));
        }
        assertThat(records).extracting(r -> s(r.value())).containsExactly("c", "d");
        consumer.close();
    }

    @Test
    void aRecordOnOnePartitionIsNotHeldUpByALongPollOnAnother() throws Exception {
        fake.createTopic("orders", 3);
        Consumer consumer = client.consumer("orders");
        consumer.assignAll();
        consumer.assignment().forEach(consumer::position);

        CompletableFuture<Void> later = CompletableFuture.runAsync(() -> fake.append("orders", 2, "late"),
                CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS));
        long start = System.nanoTime();
        List<ConsumerRecord> records = consumer.poll(Duration.ofSeconds(20));
        later.get();

        assertThat(records).extracting(ConsumerRecord::partition, r -> s(r.value()))
                .containsExactly(org.assertj.core.groups.Tuple.tuple(2, "late"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(fake.fetchRequests).extracting(FetchRequest::getPartition).contains(0, 1, 2);
        consumer.close();
    }

    @Test
    void anUnknownTopicFailsWithTheServersDescription() {
        Consumer consumer = client.consumer("nope");
        consumer.assign(List.of(0));

        assertThatThrownBy(() -> consumer.poll(Duration.ofMillis(100)))
                .isInstanceOfSatisfying(StrataException.class, e -> {
                    assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.description()).isEqualTo("unknown topic 'nope'");
                });
    }

    @Test
    void pollingWithoutAnAssignmentIsRefused() {
        assertThatThrownBy(() -> client.consumer("orders").poll(Duration.ZERO)).isInstanceOf(IllegalStateException.class);
    }

    private static String s(byte[] bytes) {
        return new String(bytes, UTF_8);
    }
}
