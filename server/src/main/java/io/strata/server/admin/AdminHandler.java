package io.strata.server.admin;

import io.grpc.Status;
import io.strata.api.v1.AlterTopicRequest;
import io.strata.api.v1.CreateTopicRequest;
import io.strata.api.v1.DeleteRecordsRequest;
import io.strata.api.v1.DeleteRecordsResponse;
import io.strata.api.v1.DeleteTopicResponse;
import io.strata.api.v1.ListTopicsResponse;
import io.strata.api.v1.PartitionDescription;
import io.strata.api.v1.PartitionStart;
import io.strata.api.v1.RecordsBefore;
import io.strata.api.v1.TopicDescription;
import io.strata.metadata.CleanupPolicy;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.StoredSizes;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.metadata.TopicChange;
import io.strata.metadata.TopicConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/** Topic management over the metadata store. Thread-safe. */
public final class AdminHandler {
    private final MetadataStore metadata;
    private final TopicCache topics;

    public AdminHandler(MetadataStore metadata, TopicCache topics) {
        this.metadata = metadata;
        this.topics = topics;
    }

    public CompletableFuture<TopicDescription> createTopic(CreateTopicRequest request) {
        TopicConfig config;
        try {
            config = new TopicConfig(request.getName(), request.getPartitions(), request.getRetentionMs(),
                    request.getRetentionBytes(), request.getCleanupPolicy().isEmpty() ? CleanupPolicy.DELETE
                    : CleanupPolicy.parse(request.getCleanupPolicy()), request.getDeleteRetentionMs() == 0
                    ? Topic.DEFAULT_DELETE_RETENTION_MS : request.getDeleteRetentionMs());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(
                    Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        }
        return metadata.createTopic(config).thenApply(topic -> {
            topics.invalidate(topic.name());
            return describe(topic).build();
        });
    }

    /** Changes what the request sets; NOT_FOUND for an unknown topic, INVALID_ARGUMENT when it sets nothing valid. */
    public CompletableFuture<TopicDescription> alterTopic(AlterTopicRequest request) {
        TopicChange change;
        try {
            change = new TopicChange(
                    request.hasRetentionMs() ? OptionalLong.of(request.getRetentionMs()) : OptionalLong.empty(),
                    request.hasRetentionBytes() ? OptionalLong.of(request.getRetentionBytes()) : OptionalLong.empty(),
                    request.hasCleanupPolicy() ? Optional.of(CleanupPolicy.parse(request.getCleanupPolicy()))
                            : Optional.empty(),
                    request.hasDeleteRetentionMs() ? OptionalLong.of(request.getDeleteRetentionMs())
                            : OptionalLong.empty(),
                    request.hasPartitions() ? OptionalInt.of(request.getPartitions()) : OptionalInt.empty());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(
                    Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        }
        if (change.isEmpty()) {
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT
                    .withDescription("nothing to alter: set retention_ms, retention_bytes, cleanup_policy, "
                            + "delete_retention_ms or partitions").asRuntimeException());
        }
        return metadata.alterTopic(request.getName(), change).thenApply(altered -> {
            topics.invalidate(request.getName());
            return describe(altered.orElseThrow(() -> Status.NOT_FOUND
                    .withDescription("unknown topic " + io.strata.metadata.InputText.quoted(request.getName())).asRuntimeException())).build();
        });
    }

    public CompletableFuture<DeleteTopicResponse> deleteTopic(String name) {
        return metadata.deleteTopic(name).thenApply(deleted -> {
            topics.invalidate(name);
            if (!deleted) {
                throw Status.NOT_FOUND.withDescription("unknown topic " + io.strata.metadata.InputText.quoted(name)).asRuntimeException();
            }
            return DeleteTopicResponse.getDefaultInstance();
        });
    }

    /**
     * Moves the partitions' log starts forward (Kafka's DeleteRecords): every partition and offset is checked
     * against the topic and the partitions' ends before any start moves (a store failing after that may leave some
     * shards' starts moved: the call is repeated). An end read before the write only grows, so no start can pass
     * its partition's end.
     */
    public CompletableFuture<DeleteRecordsResponse> deleteRecords(DeleteRecordsRequest request) {
        String name = io.strata.metadata.InputText.quoted(request.getTopic());
        java.util.Set<Integer> asked = new java.util.HashSet<>();
        for (RecordsBefore r : request.getPartitionsList()) {
            if (!asked.add(r.getPartition())) {
                return invalid("partition " + r.getPartition() + " of " + name + " is named twice");
            }
            if (r.getBeforeOffset() < -1) {
                return invalid("before_offset " + r.getBeforeOffset() + " of partition " + r.getPartition()
                        + " is negative (-1 names the partition's end)");
            }
        }
        if (asked.isEmpty()) {
            return invalid("name at least one partition of " + name);
        }
        return metadata.getTopic(request.getTopic()).thenCompose(found -> {
            Topic topic = found.orElseThrow(() -> Status.NOT_FOUND.withDescription("unknown topic " + name)
                    .asRuntimeException());
            if (!topic.cleanupPolicy().deletes()) {
                throw Status.FAILED_PRECONDITION.withDescription("topic " + name + " is only key-compacted "
                        + "(cleanup policy compact): its records are not deleted by offset").asRuntimeException();
            }
            List<PartitionId> partitions = new ArrayList<>();
            for (RecordsBefore r : request.getPartitionsList()) {
                if (r.getPartition() < 0 || r.getPartition() >= topic.partitions()) {
                    throw Status.NOT_FOUND.withDescription("topic " + name + " has " + topic.partitions()
                            + " partitions: no partition " + r.getPartition()).asRuntimeException();
                }
                partitions.add(topic.partition(r.getPartition()));
            }
            return metadata.offsets(partitions).thenCompose(offsets -> {
                java.util.Map<Integer, java.util.Map<PartitionId, Long>> byShard = new java.util.TreeMap<>();
                for (int i = 0; i < partitions.size(); i++) {
                    long before = request.getPartitions(i).getBeforeOffset();
                    long end = offsets.get(i).nextOffset();
                    if (before > end) {
                        throw Status.OUT_OF_RANGE.withDescription("offset " + before + " is past the end of partition "
                                + partitions.get(i).partition() + " of " + name + " (" + end + ")").asRuntimeException();
                    }
                    byShard.computeIfAbsent(metadata.shardOf(partitions.get(i)), s -> new java.util.HashMap<>())
                            .put(partitions.get(i), before == -1 ? end : before);
                }
                java.util.Map<PartitionId, Long> starts = new java.util.concurrent.ConcurrentHashMap<>();
                CompletableFuture<?>[] raises = byShard.entrySet().stream().map(e -> metadata.compaction()
                        .raiseLogStarts(e.getKey(), e.getValue()).thenAccept(starts::putAll))
                        .toArray(CompletableFuture[]::new);
                return CompletableFuture.allOf(raises).thenApply(v -> {
                    DeleteRecordsResponse.Builder response = DeleteRecordsResponse.newBuilder();
                    partitions.forEach(p -> response.addPartitions(PartitionStart.newBuilder()
                            .setPartition(p.partition()).setLogStartOffset(starts.get(p))));
                    return response.build();
                });
            });
        });
    }

    private static <T> CompletableFuture<T> invalid(String description) {
        return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException());
    }

    public CompletableFuture<ListTopicsResponse> listTopics() {
        return listTopics(false);
    }

    /** Every topic; with {@code details}, each partition's start and end too, read together in one call. */
    public CompletableFuture<ListTopicsResponse> listTopics(boolean details) {
        return metadata.listTopics().thenCompose(list -> {
            if (!details) {
                ListTopicsResponse.Builder response = ListTopicsResponse.newBuilder();
                list.forEach(t -> response.addTopics(describe(t)));
                return CompletableFuture.completedFuture(response.build());
            }
            List<PartitionId> partitions = new ArrayList<>();
            for (Topic t : list) {
                for (int p = 0; p < t.partitions(); p++) {
                    partitions.add(t.partition(p));
                }
            }
            return metadata.offsets(partitions).thenCombine(sizes(), (offsets, sizes) -> {
                java.util.Map<PartitionId, PartitionOffsets> byPartition = new java.util.HashMap<>();
                offsets.forEach(o -> byPartition.put(o.partition(), o));
                ListTopicsResponse.Builder response = ListTopicsResponse.newBuilder();
                for (Topic t : list) {
                    List<PartitionOffsets> found = new ArrayList<>();
                    for (int p = 0; p < t.partitions(); p++) {
                        PartitionOffsets o = byPartition.get(t.partition(p));
                        if (o != null) {
                            found.add(o);
                        }
                    }
                    response.addTopics(withDetails(describe(t), found, sizes));
                }
                return response.build();
            });
        });
    }

    /** The topic with (unless skipped) each partition's committed start and end, read from the shard heads. */
    public CompletableFuture<TopicDescription> describeTopic(String name, boolean skipPartitionDetails) {
        return metadata.getTopic(name).thenCompose(found -> {
            Topic topic = found.orElseThrow(() -> Status.NOT_FOUND
                    .withDescription("unknown topic " + io.strata.metadata.InputText.quoted(name)).asRuntimeException());
            if (skipPartitionDetails) {
                return CompletableFuture.completedFuture(describe(topic).build());
            }
            List<PartitionId> partitions = new ArrayList<>(topic.partitions());
            for (int p = 0; p < topic.partitions(); p++) {
                partitions.add(topic.partition(p));
            }
            return metadata.offsets(partitions).thenCombine(sizes(partitions),
                    (offsets, sizes) -> withDetails(describe(topic), offsets, sizes).build());
        });
    }

    /** What compaction last measured; a store that cannot say leaves the sizes out, never the description. */
    private CompletableFuture<StoredSizes> sizes() {
        return metadata.compaction().readSizes().thenApply(StoredSizes::of)
                .exceptionally(e -> StoredSizes.of(List.of()));
    }

    /** The same, of the shards that hold these partitions' logs (a topic's: not the whole cluster's). */
    private CompletableFuture<StoredSizes> sizes(List<PartitionId> partitions) {
        java.util.Set<Integer> shards = new java.util.HashSet<>();
        partitions.forEach(p -> shards.addAll(StoredSizes.shardsOf(p, metadata)));
        return metadata.compaction().readSizes(shards).thenApply(StoredSizes::of)
                .exceptionally(e -> StoredSizes.of(List.of()));
    }

    private TopicDescription.Builder withDetails(TopicDescription.Builder description, List<PartitionOffsets> offsets,
                                                 StoredSizes sizes) {
        long stored = 0;
        long measuredAt = Long.MAX_VALUE;
        for (PartitionOffsets o : offsets) {
            PartitionId p = o.partition();
            long bytes = sizes.bytes(p);
            stored += bytes;
            measuredAt = Math.min(measuredAt, sizes.measuredAtMs(p, metadata));
            description.addPartitionDetails(PartitionDescription.newBuilder().setPartition(p.partition())
                    .setLogStartOffset(o.logStartOffset()).setEndOffset(o.nextOffset()).setStoredBytes(bytes));
        }
        return description.setStoredBytes(stored)
                .setStoredBytesMeasuredAtMs(measuredAt == Long.MAX_VALUE ? 0 : measuredAt);
    }

    private static TopicDescription.Builder describe(Topic t) {
        return TopicDescription.newBuilder().setName(t.name()).setTopicId(t.topicId()).setPartitions(t.partitions())
                .setRetentionMs(t.retentionMs()).setRetentionBytes(t.retentionBytes())
                .setCreatedAtMs(t.createdAtMs()).setCleanupPolicy(t.cleanupPolicy().toString())
                .setDeleteRetentionMs(t.deleteRetentionMs());
    }
}
