package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.ClusterDescription;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.CreateTopicRequest;
import io.strata.api.v1.DescribeClusterRequest;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.NodeDescription;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The foundation's end-to-end path across processes: an ingest node and a fetch node (separate server
 * processes) against a real etcd and a real S3-compatible server. Concurrent producers write 10,000 records
 * over several partitions; every acknowledged record is read back exactly once, at the offset it was
 * acknowledged with, offsets dense and each producer's order kept; then both nodes restart and everything
 * reads back the same, and new records continue the offsets.
 */
class ProduceConsumeAcrossNodesTest {
    private static final int PRODUCERS = 4;
    private static final int RECORDS_PER_PRODUCER = 2_500;
    private static final int BATCH = 50;
    private static final Map<String, Integer> TOPICS = Map.of("orders", 4, "events", 3);

    @TempDir
    Path work;
    private StrataCluster cluster;

    private record Acked(String topic, int partition, long offset) {
    }

    @Test
    void recordsProducedOnOneNodeAreConsumedCompleteAndInOrderOnAnotherAndSurviveRestarts() throws Exception {
        cluster = new StrataCluster(work);
        List<StrataProcess> together = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                cluster.prepare("fetch-1", "fetch", Map.of()));
        StrataProcess ingest = together.get(0);
        StrataProcess fetch = together.get(1);

        AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(channel(ingest));
        TOPICS.forEach((name, partitions) -> admin.createTopic(
                CreateTopicRequest.newBuilder().setName(name).setPartitions(partitions).build()));

        ClusterDescription description = ClusterServiceGrpc.newBlockingStub(channel(fetch))
                .describeCluster(DescribeClusterRequest.getDefaultInstance());
        assertThat(description.getNodesList()).extracting(NodeDescription::getAddress)
                .contains(ingest.address(), fetch.address());

        Map<Acked, String> acked = produceConcurrently(ProducerServiceGrpc.newBlockingStub(channel(ingest)));
        assertThat(acked).hasSize(PRODUCERS * RECORDS_PER_PRODUCER);

        assertConsumedExactly(FetchServiceGrpc.newBlockingStub(channel(fetch)), acked);

        // Unknown topic: a clear status, nothing stored.
        assertThatThrownBy(() -> ProducerServiceGrpc.newBlockingStub(channel(ingest)).produce(request("nope", 0,
                List.of("x"), null))).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

        // Restart both roles as new processes: everything is still there, and offsets continue densely.
        ingest.stop();
        fetch.stop();
        List<StrataProcess> restarted = cluster.startTogether(cluster.prepare("ingest-2", "ingest", Map.of()),
                cluster.prepare("fetch-2", "fetch", Map.of()));
        StrataProcess ingest2 = restarted.get(0);
        StrataProcess fetch2 = restarted.get(1);
        assertConsumedExactly(FetchServiceGrpc.newBlockingStub(channel(fetch2)), acked);

        ProduceResponse more = ProducerServiceGrpc.newBlockingStub(channel(ingest2))
                .produce(request("orders", 0, List.of("after-restart"), null));
        Map<Acked, String> all = new HashMap<>(acked);
        long expectedOffset = acked.keySet().stream().filter(a -> a.topic().equals("orders") && a.partition() == 0)
                .count();
        assertThat(more.getAppends(0).getBaseOffset()).isEqualTo(expectedOffset);
        all.put(new Acked("orders", 0, expectedOffset), "after-restart");
        assertConsumedExactly(FetchServiceGrpc.newBlockingStub(channel(fetch2)), all);
    }

    /** Each producer sends its records in order, batch after batch; keyed batches and explicit partitions mix. */
    private Map<Acked, String> produceConcurrently(ProducerServiceGrpc.ProducerServiceBlockingStub stub)
            throws Exception {
        Map<Acked, String> acked = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(PRODUCERS);
        List<Future<?>> done = new ArrayList<>();
        for (int producer = 0; producer < PRODUCERS; producer++) {
            int p = producer;
            done.add(pool.submit(() -> {
                for (int batch = 0; batch < RECORDS_PER_PRODUCER / BATCH; batch++) {
                    String topic = batch % 2 == 0 ? "orders" : "events";
                    List<String> values = new ArrayList<>();
                    for (int i = 0; i < BATCH; i++) {
                        values.add(String.format("p%d-%06d", p, batch * BATCH + i));
                    }
                    boolean keyed = batch % 3 == 0;
                    ProduceRequest request = keyed ? request(topic, null, values, "key-" + p)
                            : request(topic, (p + batch) % TOPICS.get(topic), values, null);
                    ProduceResponse response = stub.withDeadlineAfter(30, TimeUnit.SECONDS).produce(request);
                    assertThat(response.getAppendsList()).hasSize(1); // one key or one partition: one append
                    PartitionAppend append = response.getAppends(0);
                    assertThat(append.getRecordCount()).isEqualTo(BATCH);
                    for (int i = 0; i < BATCH; i++) {
                        String previous = acked.put(new Acked(topic, append.getPartition(), append.getBaseOffset() + i),
                                values.get(i));
                        assertThat(previous).as("offset acknowledged twice").isNull();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
        return acked;
    }

    private void assertConsumedExactly(FetchServiceGrpc.FetchServiceBlockingStub fetch, Map<Acked, String> acked) {
        Map<String, Map<Integer, Long>> expectedEnds = new HashMap<>();
        acked.keySet().forEach(a -> expectedEnds.computeIfAbsent(a.topic(), t -> new HashMap<>())
                .merge(a.partition(), a.offset() + 1, Math::max));
        int total = 0;
        for (var topic : TOPICS.entrySet()) {
            for (int partition = 0; partition < topic.getValue(); partition++) {
                long end = expectedEnds.getOrDefault(topic.getKey(), Map.of()).getOrDefault(partition, 0L);
                List<ConsumedRecord> records = StrataCluster.consume(fetch, topic.getKey(), partition, end);
                Map<Integer, Integer> lastSeqPerProducer = new HashMap<>();
                for (int i = 0; i < records.size(); i++) {
                    ConsumedRecord r = records.get(i);
                    assertThat(r.getOffset()).as("dense offsets in %s/%d", topic.getKey(), partition).isEqualTo(i);
                    String value = r.getValue().toString(StandardCharsets.UTF_8);
                    assertThat(value).isEqualTo(acked.get(new Acked(topic.getKey(), partition, r.getOffset())));
                    if (value.startsWith("p")) {
                        int producer = Integer.parseInt(value.substring(1, value.indexOf('-')));
                        int seq = Integer.parseInt(value.substring(value.indexOf('-') + 1));
                        Integer last = lastSeqPerProducer.put(producer, seq);
                        assertThat(last == null || last < seq).as("producer order in %s/%d", topic.getKey(), partition)
                                .isTrue();
                    }
                }
                total += records.size();
            }
        }
        assertThat(total).isEqualTo(acked.size());
    }

    private static ProduceRequest request(String topic, Integer partition, List<String> values, String key) {
        TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(topic);
        if (partition != null) {
            entry.setPartition(partition);
        }
        for (String v : values) {
            Record.Builder r = Record.newBuilder().setValue(ByteString.copyFromUtf8(v));
            if (key != null) {
                r.setKey(ByteString.copyFromUtf8(key));
            }
            entry.addRecords(r);
        }
        return ProduceRequest.newBuilder().addEntries(entry).build();
    }

    private io.grpc.ManagedChannel channel(StrataProcess node) {
        return cluster.channel(node);
    }

    @AfterEach
    void stopAll() {
        if (cluster != null) {
            cluster.close();
        }
    }
}
