package io.strata.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client over real TCP connections to fake nodes that go away and come back: calls any node answers move
 * to the next node, and a consumer carries on through its fetch node's restart.
 */
class NodeFailoverTest {
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private FakeStrata node() {
        FakeStrata fake = new FakeStrata();
        closing.add(fake);
        fake.listen();
        return fake;
    }

    /** {@code count} fake nodes that describe one another as their cluster (in this order). */
    private List<FakeStrata> cluster(int count) {
        List<FakeStrata> nodes = java.util.stream.Stream.generate(this::node).limit(count).toList();
        List<String> addresses = nodes.stream().map(FakeStrata::address).toList();
        nodes.forEach(n -> n.cluster = addresses);
        return nodes;
    }

    private StrataClient client(Duration deadline, String... addresses) {
        StrataClient client = StrataClient.builder().servers(java.util.Arrays.stream(addresses)
                .map(ServerAddress::parse).toList()).deadline(deadline).build();
        closing.add(client);
        return client;
    }

    private static String closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    @Test
    void callsAnyNodeAnswersGoToTheNextAddressWhenTheFirstCannotBeReached() throws Exception {
        FakeStrata live = node();
        live.createTopic("orders", 2);
        StrataClient client = client(Duration.ofSeconds(5), closedPort(), live.address());

        assertThat(client.admin().listTopics()).extracting(TopicInfo::name).containsExactly("orders");
        assertThat(client.admin().describeTopic("orders").partitions()).isEqualTo(2);
    }

    @Test
    void whenNoNodeCanBeReachedTheFailureNamesEveryNodeTried() throws Exception {
        String first = closedPort();
        String second = closedPort();
        StrataClient client = client(Duration.ofSeconds(5), first, second);

        assertThatThrownBy(() -> client.admin().listTopics()).isInstanceOfSatisfying(StrataException.class, e -> {
            assertThat(e.unreachable()).isTrue();
            assertThat(e.nodes()).containsExactly(first, second);
        });
    }

    @Test
    void callsAnyNodeAnswersPassOverANodeThatTakesConnectionsButNeverCompletesOne() throws Exception {
        FakeStrata live = node();
        live.createTopic("orders", 2);
        // A socket nobody accepts on: the kernel completes the connection, no HTTP/2 ever comes (a frozen node).
        try (ServerSocket frozen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String frozenAddress = "127.0.0.1:" + frozen.getLocalPort();

            // Without passing over, each call would wait for the frozen node until its deadline and fail so. A call
            // that must not be carried out twice goes on too: it never reached the frozen node.
            StrataClient creating = client(Duration.ofSeconds(60), frozenAddress, live.address());
            assertThat(creating.admin().createTopic("payments", 1).name()).isEqualTo("payments");
            StrataClient listing = client(Duration.ofSeconds(60), frozenAddress, live.address());
            assertThat(listing.admin().listTopics()).extracting(TopicInfo::name).containsExactly("orders", "payments");
            assertThat(listing.router().isDown(frozenAddress)).as("passed over for a while").isTrue();
        }
    }

    @Test
    void aCallWaitingForAConnectionThatIsNeverMadeFailsUnavailableAndItsNodeIsPassedOver() throws Exception {
        FakeStrata live = node();
        try (ServerSocket frozen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String frozenAddress = "127.0.0.1:" + frozen.getLocalPort();
            StrataClient client = client(Duration.ofSeconds(60), live.address(), frozenAddress);

            // As a produce or a fetch routed there is: without the watchdog it would wait out its 60 s deadline.
            // (A client that knows no other node waits: there is nowhere else to go.)
            assertThatThrownBy(() -> io.strata.api.v1.ClusterServiceGrpc.newBlockingStub(
                    client.router().channelTo(frozenAddress)).withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS)
                    .describeCluster(io.strata.api.v1.DescribeClusterRequest.getDefaultInstance()))
                    .satisfies(e -> assertThat(StrataException.from(e).code()).isEqualTo(Status.Code.UNAVAILABLE));
            assertThat(client.router().isDown(frozenAddress)).isTrue();
        }
    }

    @Test
    void aConsumerLooksItsStartUpOnTheNextFetchNodeWhenItsOwnTakesConnectionsButNeverCompletesOne() throws Exception {
        FakeStrata live = node();
        try (ServerSocket frozen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String frozenAddress = "127.0.0.1:" + frozen.getLocalPort();
            live.cluster = List.of(live.address(), frozenAddress);
            // Enough partitions that the frozen node ranks first for one.
            int count = 1;
            while (rankedFirst(frozenAddress, live.cluster, count).isEmpty()) {
                count++;
            }
            int partition = rankedFirst(frozenAddress, live.cluster, count).get(0);
            live.createTopic("orders", count);
            live.append("orders", partition, "r0", "r1");
            StrataClient client = client(Duration.ofSeconds(60), live.address());
            Consumer consumer = client.consumer("orders");
            consumer.assign(List.of(partition));
            consumer.seekToBeginning();

            // Without passing over, the lookup would wait for the frozen node until its deadline.
            assertThat(consumer.position(partition)).isZero();
            assertThat(client.router().isDown(frozenAddress)).as("passed over as unreachable").isTrue();
            List<String> read = new ArrayList<>();
            pollUntil(consumer, read, 2);
            assertThat(read).containsExactly("r0", "r1");
        }
    }

    @Test
    void aNodeThatAnswersUnavailableIsPassedOverForOneThatServesTheCall() {
        FakeStrata withoutRole = node();
        FakeStrata withRole = node();
        withoutRole.refused.add("strata.v1.AdminService/ListOffsets");
        for (FakeStrata n : List.of(withoutRole, withRole)) {
            n.createTopic("orders", 1);
        }
        withRole.append("orders", 0, "a", "b");
        StrataClient client = client(Duration.ofSeconds(5), withoutRole.address(), withRole.address());

        assertThat(client.admin().listOffsets("orders", 0, OffsetQuery.latest()).offset()).isEqualTo(2);
        // The node that answered is home now: the next call goes there first.
        assertThat(client.admin().listOffsets("orders", 0, OffsetQuery.latest()).offset()).isEqualTo(2);
    }

    @Test
    void aCallThatMayBeRepeatedGoesOnToTheNextNodeWhenOneCannotServeItNowAndOneThatMayNotDoesNot() {
        for (Status.Code code : List.of(Status.Code.CANCELLED, Status.Code.RESOURCE_EXHAUSTED)) {
            FakeStrata busy = node();
            FakeStrata serving = node();
            busy.failsWith.put("strata.v1.AdminService/ListOffsets", Status.fromCode(code).withDescription("busy"));
            busy.failsWith.put("strata.v1.AdminService/CreateTopic", Status.fromCode(code).withDescription("busy"));
            for (FakeStrata n : List.of(busy, serving)) {
                n.createTopic("orders", 1);
            }
            serving.append("orders", 0, "a", "b", "c");
            StrataClient client = client(Duration.ofSeconds(5), busy.address(), serving.address());

            assertThat(client.admin().listOffsets("orders", 0, OffsetQuery.latest()).offset()).as(code.name())
                    .isEqualTo(3);
            // Creating a topic is not repeated elsewhere once a node may have done it: that node's answer stands.
            StrataClient fresh = client(Duration.ofSeconds(5), busy.address(), serving.address());
            assertThatThrownBy(() -> fresh.admin().createTopic("payments", 1)).as(code.name())
                    .isInstanceOfSatisfying(StrataException.class, e -> assertThat(e.code()).isEqualTo(code));
            assertThat(serving.topicNames()).as(code.name()).doesNotContain("payments");
        }
    }

    @Test
    void aNodeThatAnswersSomethingElseIsTheAnswerAndNoOtherNodeIsAsked() {
        FakeStrata first = node();
        FakeStrata second = node();
        second.createTopic("orders", 1);
        StrataClient client = client(Duration.ofSeconds(5), first.address(), second.address());

        assertThatThrownBy(() -> client.admin().describeTopic("orders"))
                .isInstanceOfSatisfying(StrataException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void aConsumerCarriesOnThroughItsFetchNodesRestartAndSkipsNothing() throws Exception {
        FakeStrata node = node();
        Consumer consumer = readingFromTheStart(node, "r0", "r1");
        List<String> read = new ArrayList<>();
        pollUntil(consumer, read, 2);

        node.stopListening();
        node.append("orders", 0, "r2");
        long downUntil = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < downUntil) {
            assertThat(consumer.poll(Duration.ofMillis(200))).isEmpty(); // no node: nothing, and no failure
        }
        node.listen();
        node.append("orders", 0, "r3");
        pollUntil(consumer, read, 4);

        assertThat(read).containsExactly("r0", "r1", "r2", "r3");
    }

    @Test
    void batchesOnStreamsAStoppingNodeResetsAreSentAgainAndStoredOnce() throws Exception {
        FakeStrata node = node();
        node.createTopic("orders", 1);
        Producer producer = client(Duration.ofSeconds(20), node.address()).producer();
        producer.send("orders", null, null, "r0".getBytes(UTF_8)).get(10, TimeUnit.SECONDS); // its stream is open
        // The node's gRPC server resets its streams (RST_STREAM INTERNAL_ERROR, which gRPC reports as INTERNAL) until
        // it takes calls again, as a restarting node's does: the batches were never answered, so they are not failed.
        node.callsRefusedByTransport = true;
        List<java.util.concurrent.CompletableFuture<RecordMetadata>> sends = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            sends.add(producer.send("orders", null, null, ("r" + i).getBytes(UTF_8)));
        }
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (node.refusedByTransport.get() == 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(node.refusedByTransport.get()).as("frames the stopping node refused").isPositive();
        Thread.sleep(300);
        node.callsRefusedByTransport = false;

        for (var sent : sends) {
            sent.get(20, TimeUnit.SECONDS);
        }
        assertThat(node.values("orders", 0)).containsExactly("r0", "r1", "r2", "r3", "r4", "r5");
    }

    @Test
    void aFetchNodeThatCannotServeNowIsAskedAgainAndTheConsumerReadsOnWithoutFailing() throws Exception {
        FakeStrata node = node();
        Consumer consumer = readingFromTheStart(node, "r0", "r1");
        // What a node answers while it restarts, times out on its store, or fails on its side.
        for (Status.Code code : List.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED, Status.Code.INTERNAL,
                Status.Code.UNKNOWN, Status.Code.RESOURCE_EXHAUSTED)) {
            node.fetchFailures.add(Status.fromCode(code).withDescription("failing fetch"));
        }
        List<String> read = new ArrayList<>();

        pollUntil(consumer, read, 2);

        assertThat(read).containsExactly("r0", "r1");
        assertThat(node.fetchFailures).isEmpty();
    }

    @Test
    void aFetchNodeThatAnswersButKeepsFailingIsPassedOverForTheNextFetchNode() throws Exception {
        List<FakeStrata> both = cluster(2);
        FakeStrata failing = both.get(0);
        FakeStrata serving = both.get(1);
        for (FakeStrata n : both) {
            n.createTopic("orders", 1);
            n.append("orders", 0, "r0", "r1");
        }
        StrataClient client = client(Duration.ofSeconds(20), failing.cluster.toArray(String[]::new));
        Consumer consumer = client.consumer("orders");
        consumer.assign(List.of(0));
        consumer.seekToBeginning();
        consumer.position(0);
        // Both nodes answer fetches with failures of their own (as a node whose store calls time out does),
        // staying reachable; then the one asked first keeps failing and the other recovers: only passing the
        // failing one over reaches the records.
        for (FakeStrata n : both) {
            n.fetchRequests.clear();
        }
        for (int i = 0; i < 1_000; i++) {
            failing.fetchFailures.add(Status.INTERNAL.withDescription("failing fetch"));
            serving.fetchFailures.add(Status.DEADLINE_EXCEEDED.withDescription("failing fetch"));
        }
        List<String> read = new ArrayList<>();
        long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (failing.fetchRequests.isEmpty() && serving.fetchRequests.isEmpty() && System.nanoTime() < until) {
            consumer.poll(Duration.ofMillis(100));
        }
        FakeStrata first = failing.fetchRequests.isEmpty() ? serving : failing;
        FakeStrata second = first == failing ? serving : failing;
        second.fetchFailures.clear();

        pollUntil(consumer, read, 2);

        assertThat(read).containsExactly("r0", "r1");
        assertThat(first.fetchRequests).isNotEmpty();
        assertThat(second.fetchRequests).isNotEmpty();
    }

    @Test
    void aPartitionWhoseFetchNodeIsDownIsReadFromTheNextNodeInItsRankingNotOneFurther() throws Exception {
        List<FakeStrata> nodes = cluster(3);
        List<String> addresses = nodes.get(0).cluster;
        for (FakeStrata n : nodes) {
            n.createTopic("orders", 1);
            n.append("orders", 0, "r0", "r1");
        }
        // Each fake gives its first topic id 1: partition 0's ranking, as the client computes it.
        List<String> ranked = io.strata.format.Sharding.rank(io.strata.format.Sharding.partitionKey(1, 0), addresses);
        java.util.function.Function<String, FakeStrata> byAddress = a -> nodes.stream()
                .filter(n -> n.address().equals(a)).findFirst().orElseThrow();
        byAddress.apply(ranked.get(0)).stopListening();
        Consumer consumer = client(Duration.ofSeconds(20), ranked.get(1)).consumer("orders");
        consumer.assign(List.of(0));
        consumer.seekToBeginning();
        List<String> read = new ArrayList<>();

        pollUntil(consumer, read, 2);

        assertThat(read).containsExactly("r0", "r1");
        assertThat(byAddress.apply(ranked.get(1)).fetchRequests).as("the next node in the ranking").isNotEmpty();
        assertThat(byAddress.apply(ranked.get(2)).fetchRequests).as("the one after it").isEmpty();
    }

    @Test
    void aFetchAnsweredWithAFailureAnyNodeWouldGiveFailsThePollAtOnce() throws Exception {
        FakeStrata node = node();
        Consumer consumer = readingFromTheStart(node, "r0");
        consumer.position(0);
        node.fetchFailures.add(Status.PERMISSION_DENIED.withDescription("not allowed to read orders"));

        // Within the poll: a fetch asked again would have left the poll empty, not failed.
        assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(5))).isInstanceOfSatisfying(StrataException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    @Test
    void aFetchNodeThatKeepsFailingOnItsSideFailsThePollOnceAWholeDeadlinePassedWithoutAnAnswer() throws Exception {
        FakeStrata node = node();
        node.createTopic("orders", 1);
        Consumer consumer = client(Duration.ofSeconds(2), node.address()).consumer("orders");
        consumer.assign(List.of(0));
        consumer.seekToBeginning();
        consumer.position(0);
        for (int i = 0; i < 10_000; i++) {
            node.fetchFailures.add(Status.INTERNAL.withDescription("failing fetch"));
        }

        long start = System.nanoTime();
        StrataException failure = firstFailure(() -> assertThat(consumer.poll(Duration.ofMillis(200))).isEmpty());

        assertThat(failure).isNotNull();
        assertThat(failure.code()).isEqualTo(Status.Code.INTERNAL);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        assertThat(node.fetchRequests).as("fetches asked again meanwhile").hasSizeGreaterThan(1);
    }

    @Test
    void aConsumerFailsOnlyOnceNoFetchNodeAnsweredForAWholeDeadline() throws Exception {
        FakeStrata node = node();
        node.createTopic("orders", 1);
        StrataClient client = client(Duration.ofSeconds(2), node.address());
        Consumer consumer = client.consumer("orders");
        consumer.assign(List.of(0));
        consumer.seekToBeginning();
        consumer.position(0);
        node.stopListening();

        long start = System.nanoTime();
        StrataException failure = firstFailure(() -> consumer.poll(Duration.ofMillis(200)));

        assertThat(failure).isNotNull();
        assertThat(failure.code()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aShareMemberTakesRecordsThroughNodesThatCannotServeNowAndPassesOverTheOneThatKeepsFailing() throws Exception {
        List<FakeStrata> both = cluster(2);
        FakeStrata failing = both.get(0);
        FakeStrata serving = both.get(1);
        for (FakeStrata n : both) {
            n.createTopic("jobs", 2);
            n.append("jobs", 0, "a0", "a1");
            n.append("jobs", 1, "b0", "b1");
        }
        // What a node answers while it restarts, times out on its store, or fails on its side; then one node keeps
        // failing: only passing it over reaches the partitions it ranks first for.
        for (Status.Code code : List.of(Status.Code.DEADLINE_EXCEEDED, Status.Code.INTERNAL, Status.Code.UNKNOWN,
                Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAVAILABLE, Status.Code.ABORTED)) {
            serving.shares.fetchFailures.add(Status.fromCode(code).withDescription("failing share fetch"));
        }
        for (int i = 0; i < 1_000; i++) {
            failing.shares.fetchFailures.add(Status.INTERNAL.withDescription("failing share fetch"));
        }
        ShareConsumer member = client(Duration.ofSeconds(20), failing.cluster.toArray(String[]::new)).consumer("jobs")
                .share("workers");
        closing.add(member);

        List<ShareRecord> taken = takeAtLeast(member, 4);

        assertThat(taken).extracting(r -> new String(r.value(), UTF_8)).containsExactlyInAnyOrder("a0", "a1", "b0",
                "b1");
        assertThat(serving.shares.fetchFailures).as("the serving node's failures, each asked through").isEmpty();
        assertThat(failing.shares.fetchRequests).as("the failing node was asked").isNotEmpty();
    }

    @Test
    void aShareMemberWhoseNodeKeepsFailingOnItsSideFailsItsPollOnceAWholeDeadlinePassed() throws Exception {
        FakeStrata node = node();
        node.createTopic("jobs", 1);
        ShareConsumer member = client(Duration.ofSeconds(2), node.address()).consumer("jobs").share("workers");
        closing.add(member);
        for (int i = 0; i < 10_000; i++) {
            node.shares.fetchFailures.add(Status.INTERNAL.withDescription("failing share fetch"));
        }

        long start = System.nanoTime();
        StrataException failure = firstFailure(() -> assertThat(member.poll(Duration.ofMillis(200))).isEmpty());

        assertThat(failure).isNotNull();
        assertThat(failure.code()).isEqualTo(Status.Code.INTERNAL);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        assertThat(node.shares.fetchRequests).as("fetches asked again meanwhile").hasSizeGreaterThan(1);
    }

    @Test
    void aShareFetchRefusedAsAnyNodeWouldFailsThePollAtOnce() throws Exception {
        FakeStrata node = node();
        node.createTopic("jobs", 1);
        ShareConsumer member = client(Duration.ofSeconds(20), node.address()).consumer("jobs").share("workers");
        closing.add(member);
        node.shares.fetchFailures.add(Status.PERMISSION_DENIED.withDescription("not allowed to take jobs"));

        assertThatThrownBy(() -> member.poll(Duration.ofSeconds(5))).isInstanceOfSatisfying(StrataException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    @Test
    void aShareMembersAnswersGoToTheNextNodeThroughAnyFailureANodeCannotHelpNowEachNamingItsDelivery()
            throws Exception {
        List<FakeStrata> both = cluster(2);
        for (FakeStrata n : both) {
            n.createTopic("jobs", 1);
            n.append("jobs", 0, "a0", "a1", "a2");
        }
        // Partition 0's first node in its ranking, and the next.
        boolean inOrder = !rankedFirst(both.get(0).address(), both.get(0).cluster, 1).isEmpty();
        FakeStrata first = both.get(inOrder ? 0 : 1);
        FakeStrata next = both.get(inOrder ? 1 : 0);
        ShareConsumer member = client(Duration.ofSeconds(20), first.cluster.toArray(String[]::new)).consumer("jobs")
                .share("workers");
        closing.add(member);
        List<ShareRecord> taken = takeAtLeast(member, 3);
        member.accept(taken.get(0));
        first.shares.ackFailures.add(Status.UNAVAILABLE.withDescription("stopping"));

        member.acknowledge();

        assertThat(first.shares.ackRequests).hasSize(1);
        assertThat(next.shares.ackRequests).containsExactly(first.shares.ackRequests.get(0));
        assertThat(next.shares.ackRequests.get(0).getAcks(0).getDeliveryCount()).as("the delivery it answers")
                .isEqualTo(taken.get(0).deliveryCount());

        // Failures that may follow a store (the answers then find their records not held): sent again all the same,
        // on the next node, then on the first again, until one node stores them.
        member.accept(taken.get(1));
        first.shares.ackFailures.add(Status.INTERNAL.withDescription("the store failed after the write"));
        next.shares.ackFailures.add(Status.DEADLINE_EXCEEDED.withDescription("the store is slow"));

        member.acknowledge();

        assertThat(first.shares.ackRequests).hasSize(3);
        assertThat(next.shares.ackRequests).hasSize(2);
        assertThat(first.shares.ackRequests.get(2)).isEqualTo(first.shares.ackRequests.get(1))
                .isEqualTo(next.shares.ackRequests.get(1));

        // A failure any node would give is the call's at once; the answers stay given, and go with the next call.
        member.accept(taken.get(2));
        first.shares.ackFailures.add(Status.PERMISSION_DENIED.withDescription("not allowed to consume jobs"));

        assertThatThrownBy(member::acknowledge).isInstanceOfSatisfying(StrataException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThat(first.shares.ackRequests).hasSize(4);
        assertThat(next.shares.ackRequests).hasSize(2);
        member.acknowledge();
        assertThat(first.shares.ackRequests).hasSize(5);
        assertThat(first.shares.ackRequests.get(4)).isEqualTo(first.shares.ackRequests.get(3));
    }

    @Test
    void aShareMembersAnswersFailOnceNoNodeStoredThemForAWholeDeadline() throws Exception {
        FakeStrata node = node();
        node.createTopic("jobs", 1);
        node.append("jobs", 0, "a0");
        ShareConsumer member = client(Duration.ofSeconds(2), node.address()).consumer("jobs").share("workers");
        closing.add(member);
        member.accept(takeAtLeast(member, 1).get(0));
        for (int i = 0; i < 10_000; i++) {
            node.shares.ackFailures.add(Status.INTERNAL.withDescription("failing acknowledgement"));
        }

        long start = System.nanoTime();
        assertThatThrownBy(member::acknowledge).isInstanceOfSatisfying(StrataException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.INTERNAL));

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        assertThat(node.shares.ackRequests).as("sent again meanwhile, spaced out").hasSizeBetween(3, 100);
        // The answers stay given: the next call sends them. Found not held, they may be the member's own, stored by a
        // call that failed: not counted as answers that came too late.
        node.shares.ackFailures.clear();
        node.shares.answersNotHeld = true;
        int sent = node.shares.ackRequests.size();
        member.acknowledge();
        assertThat(node.shares.ackRequests).hasSize(sent + 1).last().isEqualTo(node.shares.ackRequests.get(0));
        assertThat(member.notHeldLately()).isZero();
        // Answers sent once and found not held are.
        node.append("jobs", 0, "a1");
        member.accept(takeAtLeast(member, 1).get(0));
        member.acknowledge();
        assertThat(member.notHeldLately()).isEqualTo(1);
    }

    @Test
    void aSharePartitionMovedToANodeWithAFetchOutIsAskedThereAtOnceNotAfterThatLongPoll() throws Exception {
        List<FakeStrata> nodes = cluster(2);
        FakeStrata failing = nodes.get(0);
        FakeStrata waiting = nodes.get(1);
        List<String> both = failing.cluster;
        // Partitions that rank each node first: some on each.
        int count = 2;
        while (rankedFirst(failing.address(), both, count).isEmpty() || rankedFirst(waiting.address(), both, count)
                .isEmpty()) {
            count++;
        }
        int moved = rankedFirst(failing.address(), both, count).get(0);
        for (FakeStrata n : nodes) {
            n.createTopic("jobs", count);
            n.append("jobs", moved, "m0");
        }
        for (int i = 0; i < 1_000; i++) {
            failing.shares.fetchFailures.add(Status.INTERNAL.withDescription("failing share fetch"));
        }
        waiting.shares.longPollCapMs = 60_000; // its own partitions are empty: its fetch waits the poll out
        ShareConsumer member = client(Duration.ofSeconds(20), both.toArray(String[]::new)).consumer("jobs")
                .share("workers");
        closing.add(member);

        List<ShareRecord> taken = member.poll(Duration.ofSeconds(5));

        assertThat(taken).extracting(r -> new String(r.value(), UTF_8)).containsExactly("m0");
        // Both fetches went out: the node's own first (the one that long-polls), the moved partitions' after it. The
        // fake may take them in on its threads in either order, and the first after the poll returned.
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (waiting.shares.fetchRequests.size() < 2 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(waiting.shares.fetchRequests).as("the waiting node's own fetch and the moved partitions'")
                .hasSize(2).anySatisfy(r -> assertThat(r.getPartitionsList()).contains(moved))
                .anySatisfy(r -> assertThat(r.getPartitionsList()).doesNotContain(moved));
    }

    /** The partitions of the fake's first topic (id 1), of {@code count}, whose ranking puts {@code node} first. */
    private static List<Integer> rankedFirst(String node, List<String> nodes, int count) {
        List<Integer> out = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            if (io.strata.format.Sharding.rank(io.strata.format.Sharding.partitionKey(1, p), nodes).get(0)
                    .equals(node)) {
                out.add(p);
            }
        }
        return out;
    }

    private static List<ShareRecord> takeAtLeast(ShareConsumer member, int count) {
        List<ShareRecord> taken = new ArrayList<>();
        long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (taken.size() < count && System.nanoTime() < until) {
            taken.addAll(member.poll(Duration.ofMillis(200)));
        }
        assertThat(taken).hasSizeGreaterThanOrEqualTo(count);
        return taken;
    }

    /** A consumer of the node's one-partition topic "orders" (holding {@code values}), from its first record. */
    private Consumer readingFromTheStart(FakeStrata node, String... values) {
        node.createTopic("orders", 1);
        node.append("orders", 0, values);
        Consumer consumer = client(Duration.ofSeconds(20), node.address()).consumer("orders");
        consumer.assign(List.of(0));
        consumer.seekToBeginning();
        return consumer;
    }

    /** Polls until a poll fails, for up to 20 s: its failure, or null. */
    private static StrataException firstFailure(Runnable poll) {
        long start = System.nanoTime();
        while (System.nanoTime() - start < Duration.ofSeconds(20).toNanos()) {
            try {
                poll.run();
            } catch (StrataException e) {
                return e;
            }
        }
        return null;
    }

    private static void pollUntil(Consumer consumer, List<String> read, int count) {
        long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (read.size() < count && System.nanoTime() < until) {
            consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(new String(r.value(), UTF_8)));
        }
        assertThat(read).hasSize(count);
    }
}
