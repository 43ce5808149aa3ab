package io.strata.kafka.admin;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.cluster.Broker;
import io.strata.kafka.cluster.Brokers;
import io.strata.metadata.PartitionId;
import io.strata.metadata.StoredSizes;
import io.strata.metadata.Topic;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeLogDirs, which Kafka UI, AKHQ and {@code kafka-log-dirs.sh} ask every broker to size topics: each broker
 * answers one log directory, the object store, holding the partitions Metadata names it the leader of (with no
 * zone), so a tool that sums over brokers counts each partition once. A partition's size is what it stores in
 * the bucket as compaction last measured it from the index (0 before its first pass); the bucket has no free
 * space to report (-1). Needs describe on the cluster, as Kafka's does.
 */
public final class DescribeLogDirsApi implements KafkaApi {
    /** The one log directory every broker reports: storage is the bucket, shared, not the broker's disk. */
    public static final String LOG_DIR = "strata-object-store";

    private final KafkaBackends backends;
    private final Brokers brokers;

    public DescribeLogDirsApi(KafkaBackends backends, Brokers brokers) {
        this.backends = backends;
        this.brokers = brokers;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.DESCRIBE_LOG_DIRS;
    }

    @Override
    public short minVersion() {
        return 1; // v0 is gone from Kafka 4's clients and brokers
    }

    @Override
    public short maxVersion() {
        return 4; // the versions checked; a newer library's next one is offered only once it is
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        DescribeLogDirsRequestData data = (DescribeLogDirsRequestData) request.body().data();
        Map<String, Set<Integer>> asked = null; // null: every topic, every partition
        if (data.topics() != null) {
            asked = new HashMap<>();
            for (DescribeLogDirsRequestData.DescribableLogDirTopic t : data.topics()) {
                asked.computeIfAbsent(t.topic(), k -> new HashSet<>()).addAll(t.partitions());
            }
        }
        Map<String, Set<Integer>> wanted = asked;
        return backends.metadata().listTopics().thenCompose(topics -> {
            int shards = backends.metadata().cluster().shards();
            Broker self = brokers.self();
            Map<Topic, List<Integer>> led = new java.util.LinkedHashMap<>();
            for (Topic t : topics) {
                if (wanted != null && !wanted.containsKey(t.name())) {
                    continue;
                }
                for (int p = 0; p < t.partitions(); p++) {
                    Broker leader = brokers.leader(t.topicId(), p, shards);
                    if (leader != null && leader.id() == self.id() && (wanted == null || wanted.get(t.name()).contains(p))) {
                        led.computeIfAbsent(t, k -> new java.util.ArrayList<>()).add(p);
                    }
                }
            }
            // Sizes that cannot be read are the log directory's error, not partitions of 0 bytes.
            return backends.metadata().compaction().readSizes().thenApply(StoredSizes::of)
                    .handle((sizes, failure) -> sizes != null ? answer(led, sizes) : unreadable());
        });
    }

    private static ApiMessage unreadable() {
        return new DescribeLogDirsResponseData().setErrorCode(Errors.NONE.code()).setResults(List.of(
                new DescribeLogDirsResponseData.DescribeLogDirsResult().setErrorCode(Errors.KAFKA_STORAGE_ERROR.code())
                        .setLogDir(LOG_DIR).setTotalBytes(-1).setUsableBytes(-1)));
    }

    private static ApiMessage answer(Map<Topic, List<Integer>> led, StoredSizes sizes) {
        DescribeLogDirsResponseData.DescribeLogDirsResult dir = new DescribeLogDirsResponseData.DescribeLogDirsResult()
                .setErrorCode(Errors.NONE.code()).setLogDir(LOG_DIR).setTotalBytes(-1).setUsableBytes(-1);
        led.forEach((topic, partitions) -> {
            DescribeLogDirsResponseData.DescribeLogDirsTopic t = new DescribeLogDirsResponseData.DescribeLogDirsTopic()
                    .setName(topic.name());
            for (int p : partitions) {
                t.partitions().add(new DescribeLogDirsResponseData.DescribeLogDirsPartition().setPartitionIndex(p)
                        .setPartitionSize(sizes.bytes(new PartitionId(topic.topicId(), p))).setOffsetLag(0)
                        .setIsFutureKey(false));
            }
            dir.topics().add(t);
        });
        return new DescribeLogDirsResponseData().setErrorCode(Errors.NONE.code()).setResults(List.of(dir));
    }
}
