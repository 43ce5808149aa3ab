package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.Record;
import io.strata.api.v1.SubscribeRequest;
import io.strata.api.v1.SubscribeResponse;
import io.strata.api.v1.TopicPartitionRecords;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What SIGTERM does to a node (as Kubernetes stops a pod): an ingest node commits the produce calls it has
 * taken and answers them before it exits; a fetch node ends its open streams with UNAVAILABLE, which
 * consumers retry elsewhere. Checked on raw gRPC calls, without a client that would retry and hide a loss.
 */
class NodeShutdownTest {
    @TempDir
    Path work;
    private StrataCluster cluster;

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void aProduceCallInFlightAtSigtermIsCommittedAndAnsweredBeforeTheNodeExits() throws Exception {
        // A long linger: the record waits in the open block when SIGTERM comes.
        cluster = new StrataCluster(work).set("strata.ingest.block-linger", "20s");
        List<StrataProcess> together = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                cluster.prepare("fetch-1", "fetch", Map.of()));
        StrataProcess ingest = together.get(0);
        StrataProcess fetch = together.get(1);
        cluster.createTopic(ingest, "drained", 1);
        CompletableFuture<ProduceResponse> answer = CompletableFuture.supplyAsync(() ->
                ProducerServiceGrpc.newBlockingStub(cluster.channel(ingest)).withDeadlineAfter(60, TimeUnit.SECONDS)
                        .produce(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder()
                                .setTopic("drained").setPartition(0)
                                .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("in flight"))))
                                .build()));
        Thread.sleep(1_500);
        assertThat(answer).as("still waiting for its block").isNotDone();

        long stopping = System.nanoTime();
        ingest.stop();
        double seconds = (System.nanoTime() - stopping) / 1e9;

        ProduceResponse response = answer.get(5, TimeUnit.SECONDS);
        assertThat(response.hasError()).as(response.toString()).isFalse();
        assertThat(response.getAppends(0).getBaseOffset()).isZero();
        assertThat(seconds).as("exited without waiting out the linger").isLessThan(15);
        // What a newcomer reads: a node that started and stopped cleanly did warn that Quarkus cannot make
        // virtual threads on Java 17, and that its store closed under the users-and-ACLs watch.
        assertThat(ingest.logTail(1_000)).as("the node's log").doesNotContain("virtual threads")
                .doesNotContain("the watch of users and ACLs broke");
        assertThat(StrataCluster.consume(FetchServiceGrpc.newBlockingStub(cluster.channel(fetch)), "drained", 0, 1))
                .extracting(r -> r.getValue().toStringUtf8()).containsExactly("in flight");
    }

    @Test
    void aFetchNodeEndsItsOpenStreamsWithUnavailableWhenItStops() throws Exception {
        cluster = new StrataCluster(work);
        List<StrataProcess> together = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                cluster.prepare("fetch-1", "fetch", Map.of()));
        StrataProcess ingest = together.get(0);
        StrataProcess fetch = together.get(1);
        cluster.createTopic(ingest, "streamed", 1);
        CompletableFuture<Status> ended = new CompletableFuture<>();
        // At the end of an empty partition: the stream waits for records that never come.
        FetchServiceGrpc.newStub(cluster.channel(fetch)).subscribe(SubscribeRequest.newBuilder().setTopic("streamed")
                .setPartition(0).setOffset(0).build(), new StreamObserver<SubscribeResponse>() {
                    @Override
                    public void onNext(SubscribeResponse value) {
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        ended.complete(Status.OK);
                    }
                });
        Thread.sleep(1_500);
        assertThat(ended).isNotDone();

        fetch.stop();

        Status status = ended.get(10, TimeUnit.SECONDS);
        assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(status.getDescription()).contains("stopping");
        assertThat(fetch.logTail(30)).contains("ended 1 subscription streams");
        // At -Xmx512m the default memory tier (256 MiB) is cut to a quarter of the heap: the heap was sized, not
        // the tier, so nothing is warned; the size used is said once.
        assertThat(fetch.logTail(1_000)).as("the node's log").doesNotContain("strata.fetch.cache-max-bytes")
                .contains("chunk cache: 134217728 bytes in memory");
    }
}
