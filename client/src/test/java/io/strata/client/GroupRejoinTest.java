package io.strata.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A member whose session ended joins again on its membership's thread: a join held by a frozen node (for as long
 * as the client's deadline) neither holds up the application's polls nor its close.
 */
@Timeout(60)
class GroupRejoinTest {
    private final FakeStrata fake = new FakeStrata();
    private final StrataClient client = fake.client(); // a 10 s deadline: a join held that long

    @AfterEach
    void stop() throws InterruptedException {
        CountDownLatch gate = fake.groups.joinGate;
        if (gate != null) {
            gate.countDown();
        }
        client.close();
        fake.close();
    }

    @Test
    void pollsAnswerWithinTheirTimeoutWhileARejoinIsHeldAndTheMemberReadsOnOnceItJoins() {
        fake.createTopic("orders", 2);
        fake.append("orders", 0, "a");
        fake.append("orders", 1, "b");
        Consumer consumer = client.consumer("orders");
        consumer.subscribe("g");
        assertThat(values(readUntil(consumer, 2))).containsExactlyInAnyOrder("a", "b");
        String first = fake.groups.members().get(0);

        fake.groups.joinGate = new CountDownLatch(1);
        fake.groups.endSession(first);
        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            assertThat(consumer.poll(Duration.ofMillis(200))).as("no partitions while the rejoin is held").isEmpty();
        }
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(fake.groups.joins.get()).as("one rejoin sent, still held: not given up and sent again").isEqualTo(2);
        assertThat(fake.groups.members()).isEmpty();
        // Ten polls of 200 ms, not held for the join's 10 s deadline (a bound on blocking, not a performance figure).
        assertThat(tookMs).isLessThan(client.deadline().toMillis());

        fake.groups.joinGate.countDown();
        fake.append("orders", 0, "c");
        List<ConsumerRecord> after = new ArrayList<>();
        for (int i = 0; i < 50 && !values(after).containsAll(List.of("a", "b", "c")); i++) {
            after.addAll(consumer.poll(Duration.ofMillis(200)));
        }
        assertThat(values(after)).as("the new member's partitions, read from the offset it was given")
                .containsExactlyInAnyOrder("a", "b", "c");
        assertThat(fake.groups.members()).containsExactly("m-2");
        consumer.close();
        assertThat(fake.groups.left).containsExactly("m-2");
    }

    @Test
    void closingWhileARejoinIsHeldReturnsWithoutWaitingForIt() {
        Consumer consumer = memberThatReadOneRecord();
        fake.groups.joinGate = new CountDownLatch(1);
        long start = System.nanoTime();
        fake.groups.endSession(fake.groups.members().get(0));
        pollUntilTheRejoinIsSent(consumer, fake);
        assertThat(fake.groups.joins.get()).as("the rejoin was sent and is held").isEqualTo(2);
        consumer.close();
        // From the session's end to the close, nothing waited for the held join's 10 s deadline.
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(client.deadline().toMillis());
        assertThat(fake.groups.left).as("the ended session is not left again").isEmpty();
    }

    @Test
    void aMemberThatRejoinedInTheBackgroundIsLeftByACloseBeforeAnyPollSawIt() throws Exception {
        fake.createTopic("orders", 1);
        Consumer consumer = client.consumer("orders");
        consumer.subscribe("g");
        consumer.poll(Duration.ofMillis(100));
        fake.groups.joinGate = new CountDownLatch(1);
        fake.groups.endSession(fake.groups.members().get(0));
        pollUntilTheRejoinIsSent(consumer, fake);
        fake.groups.joinGate.countDown();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!fake.groups.streaming("m-2") && System.nanoTime() < until) {
            Thread.sleep(10); // the member's thread joined and opened its stream; no poll has looked since
        }
        assertThat(fake.groups.streaming("m-2")).isTrue();

        consumer.close();
        assertThat(fake.groups.left).as("its partitions move at once, not after its session").containsExactly("m-2");
        assertThat(fake.groups.members()).isEmpty();
    }

    @Test
    void aHeldJoinCancelledByTheCloseIsNotSentOnToTheNextNode() throws Exception {
        try (FakeStrata home = new FakeStrata(); FakeStrata next = new FakeStrata()) {
            String first = home.listen();
            String second = next.listen();
            home.createTopic("orders", 1);
            next.createTopic("orders", 1);
            try (StrataClient two = StrataClient.builder().servers(List.of(ServerAddress.parse(first),
                    ServerAddress.parse(second))).deadline(Duration.ofSeconds(10)).build()) {
                Consumer consumer = two.consumer("orders");
                consumer.subscribe("g");
                assertThat(home.groups.members()).as("joined on the first node").hasSize(1);
                home.groups.joinGate = new CountDownLatch(1);
                home.groups.endSession(home.groups.members().get(0));
                pollUntilTheRejoinIsSent(consumer, home);
                assertThat(home.groups.joins.get()).as("the rejoin, held by the first node").isEqualTo(2);

                consumer.close();
                Thread.sleep(500); // time for a join the close failed to stop to reach the next node
                assertThat(next.groups.joins.get()).as("no member made on the next node by the cancelled join")
                        .isZero();
            } finally {
                home.groups.joinGate.countDown();
            }
        }
    }

    @Test
    void aRejoinRefusedOnceIsTriedAgainWithinTheNextPollHoweverLongItsTimeout() {
        Consumer consumer = memberThatReadOneRecord();
        fake.failsWith.put("strata.v1.GroupService/JoinGroup",
                io.grpc.Status.PERMISSION_DENIED.withDescription("no rule lets User:app join g"));
        fake.groups.endSession(fake.groups.members().get(0));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
            for (int i = 0; i < 50; i++) {
                consumer.poll(Duration.ofMillis(100));
            }
        }).as("the refusal, told at once").isInstanceOf(StrataException.class)
                .hasMessageContaining("no rule lets User:app join g");

        fake.failsWith.clear(); // the rule is granted
        assertThat(values(consumer.poll(Duration.ofSeconds(20))))
                .as("joined again within the poll (after the refusal's pause), its partition read from its start")
                .containsExactly("a");
    }

    /** A member of group g reading topic orders (one partition), which has read its one record "a". */
    private Consumer memberThatReadOneRecord() {
        fake.createTopic("orders", 1);
        fake.append("orders", 0, "a");
        Consumer consumer = client.consumer("orders");
        consumer.subscribe("g");
        readUntil(consumer, 1);
        return consumer;
    }

    /** Polls (100 ms each) until the node got the member's second join, at most 5 s. */
    private static void pollUntilTheRejoinIsSent(Consumer consumer, FakeStrata node) {
        for (int i = 0; i < 50 && node.groups.joins.get() < 2; i++) {
            consumer.poll(Duration.ofMillis(100));
        }
    }

    private static List<ConsumerRecord> readUntil(Consumer consumer, int count) {
        List<ConsumerRecord> records = new ArrayList<>();
        for (int i = 0; i < 50 && records.size() < count; i++) {
            records.addAll(consumer.poll(Duration.ofMillis(200)));
        }
        return records;
    }

    private static List<String> values(List<ConsumerRecord> records) {
        return records.stream().map(r -> new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)).toList();
    }
}
