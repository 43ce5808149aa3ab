package io.strata.server.txn;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.CheckBackAnswer;
import io.strata.api.v1.CheckBackRequest;
import io.strata.api.v1.HalfCheck;
import io.strata.api.v1.HalfDecision;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.security.Identity;
import io.strata.security.Need;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Producers' check-back streams on one node, over the embedded metadata store: a stream is sent its group's checks
 * of topics its principal may produce to and its answers decide them; a principal that may not produce as the group
 * is refused; the node says it holds the group's streams exactly while it holds one.
 */
class CheckBackStreamsTest {
    private static final Identity SHOP = Identity.user("shop-app", List.of(), "test");
    private static final Identity OTHER = Identity.user("other", List.of(), "test");
    @TempDir
    Path dir;
    private MetadataStore metadata;
    private ScheduledExecutorService timer;
    private CheckBackStreams streams;

    /** A producer's end of a stream: what it was sent, and how it ended. */
    private static final class Producer implements StreamObserver<HalfCheck> {
        final List<HalfCheck> checks = new CopyOnWriteArrayList<>();
        volatile Throwable error;
        volatile boolean completed;
        StreamObserver<CheckBackRequest> requests;

        @Override
        public void onNext(HalfCheck check) {
            checks.add(check);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
            completed = true;
        }
    }

    @BeforeEach
    void start() {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 4);
        timer = Executors.newSingleThreadScheduledExecutor();
        // SHOP may produce as group "shop" and to topic "orders"; OTHER to "orders" only.
        streams = new CheckBackStreams(metadata, "node-1", address -> {
            throw new AssertionError("no other node");
        }, (who, need) -> need.equals(Need.topic(io.strata.metadata.security.AclOperation.PRODUCE, "orders"))
                || (who.equals(SHOP) && need.name().equals("shop")), timer);
    }

    @AfterEach
    void stop() {
        streams.close();
        timer.shutdownNow();
        metadata.close();
    }

    private Producer open(Identity who, String group) {
        Producer p = new Producer();
        p.requests = streams.open(p, who);
        p.requests.onNext(CheckBackRequest.newBuilder().setProducerGroup(group).build());
        return p;
    }

    private static HalfCheck check(String topic) {
        return HalfCheck.newBuilder().setId("h-1-0-7").setTopic(topic).setPartition(0).build();
    }

    private List<String> registered() {
        return metadata.halves().producerNodes("shop").join();
    }

    /** The nodes registered for group "shop" once they are {@code expected} (or after 10 s). */
    private List<String> registered(List<String> expected) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!registered().equals(expected) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        return registered();
    }

    @Test
    void aStreamIsSentItsGroupsChecksAndItsAnswerDecidesThem() throws Exception {
        Producer producer = open(SHOP, "shop");
        assertThat(registered(List.of("node-1"))).as("the node holds the group's streams").containsExactly("node-1");

        var answer = streams.askLocal("shop", check("orders"));
        assertThat(producer.checks).hasSize(1);
        producer.requests.onNext(CheckBackRequest.newBuilder().setAnswer(CheckBackAnswer.newBuilder()
                .setCheckId(producer.checks.get(0).getCheckId()).setDecision(HalfDecision.HALF_DECISION_COMMIT)).build());
        assertThat(answer.get(5, TimeUnit.SECONDS)).isEqualTo(HalfDecision.HALF_DECISION_COMMIT);

        assertThat(streams.askLocal("shop", check("payments"))).as("a topic it may not produce to: nobody to ask")
                .isNull();
        assertThat(streams.askLocal("other-group", check("orders"))).isNull();
        assertThat(streams.check("other-group", check("orders")).get(5, TimeUnit.SECONDS))
                .as("no producer of the group anywhere").isEqualTo(HalfDecision.HALF_DECISION_UNKNOWN);

        var unanswered = streams.askLocal("shop", check("orders"));
        producer.requests.onCompleted(); // the producer goes: what it owed is unknown
        assertThat(unanswered.get(5, TimeUnit.SECONDS)).isEqualTo(HalfDecision.HALF_DECISION_UNKNOWN);
        assertThat(producer.completed).isTrue();
        assertThat(registered(List.of())).as("withdrawn with the group's last stream").isEmpty();
    }

    @Test
    void aPrincipalThatMayNotProduceAsTheGroupIsRefusedItsChecks() {
        Producer intruder = open(OTHER, "shop");
        assertThat(Status.fromThrowable(intruder.error).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        intruder.requests.onNext(CheckBackRequest.newBuilder().setProducerGroup("shop").build()); // ignored
        assertThat(streams.askLocal("shop", check("orders"))).isNull();
        Producer nameless = open(SHOP, "a/b");
        assertThat(Status.fromThrowable(nameless.error).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(registered()).isEmpty();
    }

    @Test
    void aGroupLeftAndJoinedAgainWhileItsRegistrationIsUnderWayIsRegisteredOnceAndWithdrawnAtItsEnd()
            throws Exception {
        for (int i = 0; i < 20; i++) {
            open(SHOP, "shop").requests.onCompleted();
        }
        Producer last = open(SHOP, "shop");
        assertThat(registered(List.of("node-1"))).containsExactly("node-1");
        last.requests.onCompleted();
        Thread.sleep(Duration.ofSeconds(1).toMillis()); // any registration still under way lands, and is withdrawn
        assertThat(registered(List.of())).as("no registration outlives the group's streams").isEmpty();
    }
}
