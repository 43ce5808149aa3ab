package io.strata.kafka;

import io.strata.kafka.cluster.Broker;
import io.strata.kafka.cluster.Brokers;
import io.strata.kafka.cluster.TopicIds;
import io.strata.metadata.Topic;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;

/**
 * Metadata: the nodes with a Kafka listener as brokers, and for each partition the ingest node Strata's own
 * routing prefers as its leader, and as replicas the leader and the fetch node that serves the partition's
 * reads (durability is the object store's, not replicas': every replica is always in sync). Leader epochs are
 * unknown (-1): a Strata partition has no leader to fence, any ingest node may append, so clients send none.
 */
public final class MetadataApi implements KafkaApi {
    private final KafkaBackends backends;
    private final Brokers brokers;
    private final TopicIds topicIds;
    /** Every topic as last listed, answered while the metadata store is out of reach. */
    private volatile List<Topic> lastListed;

    public MetadataApi(KafkaBackends backends, Brokers brokers, TopicIds topicIds) {
        this.backends = backends;
        this.brokers = brokers;
        this.topicIds = topicIds;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.METADATA;
    }



    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        MetadataRequestData data = ((MetadataRequest) request.body()).data();
        String rack = Brokers.rackOfClientId(request.header().clientId());
        CompletableFuture<List<MetadataResponseData.MetadataResponseTopic>> topics;
        boolean all = data.topics() == null || (request.version() == 0 && data.topics().isEmpty());
        if (all) {
            topics = backends.metadata().listTopics().handle((list, e) -> {
                if (e == null) {
                    lastListed = list;
                    return list;
                }
                // The store out of reach: the topics last listed, rather than an answer of no topics at all.
                if (lastListed == null || unavailable(e) != Errors.LEADER_NOT_AVAILABLE) {
                    throw e instanceof java.util.concurrent.CompletionException c ? c
                            : new java.util.concurrent.CompletionException(e);
                }
                return lastListed;
            }).thenApply(list -> {
                List<MetadataResponseData.MetadataResponseTopic> out = new ArrayList<>();
                list.stream().sorted(java.util.Comparator.comparing(Topic::name)).forEach(t -> out.add(describe(t, rack)));
                return out;
            });
        } else {
            List<CompletableFuture<MetadataResponseData.MetadataResponseTopic>> each = new ArrayList<>();
            for (MetadataRequestData.MetadataRequestTopic t : data.topics()) {
                each.add(lookUp(t, rack));
            }
            topics = CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                    .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
        }
        return topics.thenApply(list -> {
            MetadataResponseData response = new MetadataResponseData()
                    .setClusterId(backends.metadata().cluster().clusterId())
                    .setControllerId(brokers.self().id());
            for (Broker b : brokers.all()) {
                response.brokers().add(new MetadataResponseData.MetadataResponseBroker().setNodeId(b.id())
                        .setHost(b.host()).setPort(b.port()).setRack(b.rack()));
            }
            list.forEach(t -> response.topics().add(t));
            return response;
        });
    }

    private CompletableFuture<MetadataResponseData.MetadataResponseTopic> lookUp(
            MetadataRequestData.MetadataRequestTopic requested, String rack) {
        if (requested.name() == null) {
            Uuid id = requested.topicId();
            return topicIds.resolve(null, id, backends.topics()).thenApply(found -> found.map(t -> describe(t, rack))
                    .orElseGet(() -> failed(null, id, Errors.UNKNOWN_TOPIC_ID)))
                    .exceptionally(e -> failed(null, id, unavailable(e)));
        }
        String name = requested.name();
        try {
            org.apache.kafka.common.internals.Topic.validate(name);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(name, Uuid.ZERO_UUID, Errors.INVALID_TOPIC_EXCEPTION));
        }
        // A topic that cannot be looked up now (the metadata store out of reach) is a retriable error of its own,
        // not a failed request: a client treats an unknown server error in Metadata as fatal.
        return backends.topics().get(name).thenApply(found -> found.map(t -> describe(t, rack))
                .orElseGet(() -> failed(name, Uuid.ZERO_UUID, Errors.UNKNOWN_TOPIC_OR_PARTITION)))
                .exceptionally(e -> failed(name, Uuid.ZERO_UUID, unavailable(e)));
    }

    /** LEADER_NOT_AVAILABLE (retried) for a store out of reach; anything else is not a client's to retry. */
    private static Errors unavailable(Throwable failure) {
        Errors error = KafkaErrors.forRead(failure);
        return error == Errors.NOT_LEADER_OR_FOLLOWER || error == Errors.REQUEST_TIMED_OUT
                ? Errors.LEADER_NOT_AVAILABLE : error;
    }

    private static MetadataResponseData.MetadataResponseTopic failed(String name, Uuid id, Errors error) {
        return new MetadataResponseData.MetadataResponseTopic().setName(name).setTopicId(id)
                .setErrorCode(error.code());
    }

    /** The topic for a client in zone {@code rack} (null: none): leaders and read replicas of its zone. */
    private MetadataResponseData.MetadataResponseTopic describe(Topic topic, String rack) {
        topicIds.remember(topic);
        int shards = backends.metadata().cluster().shards();
        MetadataResponseData.MetadataResponseTopic out = new MetadataResponseData.MetadataResponseTopic()
                .setName(topic.name()).setTopicId(TopicIds.uuidOf(topic)).setIsInternal(false);
        for (int p = 0; p < topic.partitions(); p++) {
            Broker leader = brokers.leader(topic.topicId(), p, shards, rack);
            MetadataResponseData.MetadataResponsePartition partition = new MetadataResponseData.MetadataResponsePartition()
                    .setPartitionIndex(p).setLeaderEpoch(-1);
            if (leader == null) {
                partition.setErrorCode(Errors.LEADER_NOT_AVAILABLE.code()).setLeaderId(-1)
                        .setReplicaNodes(List.of()).setIsrNodes(List.of());
            } else {
                // The fetch nodes that serve the partition's reads (one per zone) are replicas too: clients read
                // from a replica a leader names (KIP-392) only when Metadata lists it among the replicas.
                List<Integer> replicas = new ArrayList<>(List.of(leader.id()));
                for (Broker reader : brokers.readers(topic.topicId(), p)) {
                    if (!replicas.contains(reader.id())) {
                        replicas.add(reader.id());
                    }
                }
                partition.setErrorCode(Errors.NONE.code()).setLeaderId(leader.id())
                        .setReplicaNodes(replicas).setIsrNodes(replicas);
            }
            out.partitions().add(partition);
        }
        return out;
    }
}
