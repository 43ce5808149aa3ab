package io.strata.client;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.AdminServiceGrpc.AdminServiceBlockingStub;
import io.strata.api.v1.AlterTopicRequest;
import io.strata.api.v1.CreateTopicRequest;
import io.strata.api.v1.DeleteTopicRequest;
import io.strata.api.v1.DescribeTopicRequest;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import io.strata.api.v1.ListTopicsRequest;
import io.strata.api.v1.OffsetSpec;
import io.strata.api.v1.TopicDescription;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Topics and offsets. Every method blocks for one call within the client's deadline and throws
 * {@link StrataException} when it fails. A node that cannot be reached (or cannot serve the call) is passed
 * over for the next node the client knows ({@link NodeRouter#onAnyNode}). Thread-safe; made and owned by
 * {@link StrataClient}.
 */
public final class Admin {
    private final NodeRouter router;
    /** The node every call goes to, or null: any node. */
    private final String node;
    private final Duration deadline;

    Admin(NodeRouter router, String node, Duration deadline) {
        this.router = router;
        this.node = node;
        this.deadline = deadline;
    }

    /** A topic whose records are kept forever. */
    public TopicInfo createTopic(String name, int partitions) {
        return createTopic(name, partitions, -1, -1);
    }

    /** Retention values of -1 or 0 mean no limit of that kind. Fails with ALREADY_EXISTS for a taken name. */
    public TopicInfo createTopic(String name, int partitions, long retentionMs, long retentionBytes) {
        return createTopic(name, partitions, retentionMs, retentionBytes, "delete", 0);
    }

    /**
     * A topic with a cleanup policy: "delete" (retention), "compact" (the latest record per key is kept) or
     * "compact,delete"; {@code deleteRetentionMs} (0: a day) is how long a compacted topic keeps tombstones.
     */
    public TopicInfo createTopic(String name, int partitions, long retentionMs, long retentionBytes,
                                 String cleanupPolicy, long deleteRetentionMs) {
        CreateTopicRequest request = CreateTopicRequest.newBuilder().setName(name).setPartitions(partitions)
                .setRetentionMs(retentionMs).setRetentionBytes(retentionBytes).setCleanupPolicy(cleanupPolicy)
                .setDeleteRetentionMs(deleteRetentionMs).build();
        return toTopic(callAtMostOnce(stub -> stub.createTopic(request)));
    }

    /**
     * Changes a live topic's retention or cleanup policy, or grows its partition count. Fails with NOT_FOUND for
     * an unknown topic and INVALID_ARGUMENT for fewer partitions than it has.
     */
    public TopicInfo alterTopic(String name, TopicAlteration change) {
        AlterTopicRequest.Builder request = AlterTopicRequest.newBuilder().setName(name);
        if (change.retentionMs() != null) {
            request.setRetentionMs(change.retentionMs());
        }
        if (change.retentionBytes() != null) {
            request.setRetentionBytes(change.retentionBytes());
        }
        if (change.cleanupPolicy() != null) {
            request.setCleanupPolicy(change.cleanupPolicy());
        }
        if (change.deleteRetentionMs() != null) {
            request.setDeleteRetentionMs(change.deleteRetentionMs());
        }
        if (change.partitions() != null) {
            request.setPartitions(change.partitions());
        }
        return toTopic(call(stub -> stub.alterTopic(request.build())));
    }

    public void deleteTopic(String name) {
        callAtMostOnce(stub -> stub.deleteTopic(DeleteTopicRequest.newBuilder().setName(name).build()));
    }

    /**
     * Moves partitions' log starts forward, as Kafka's DeleteRecords: within milliseconds of the answer no record
     * before {@code before} is served, and compaction removes them within a pass. {@code before} maps partitions to
     * their new start, {@link #END} for everything so far. Every partition and offset is checked before any start
     * moves: fails with NOT_FOUND for an unknown topic or partition, OUT_OF_RANGE for an offset past a partition's
     * end, FAILED_PRECONDITION for a topic that is only key-compacted. A call failing after that (UNAVAILABLE) may
     * have moved some partitions' starts: call it again. Answers each partition's log start after the call (a start
     * already further stays), in the order given.
     */
    public java.util.Map<Integer, Long> deleteRecords(String topic, java.util.Map<Integer, Long> before) {
        io.strata.api.v1.DeleteRecordsRequest.Builder request = io.strata.api.v1.DeleteRecordsRequest.newBuilder()
                .setTopic(topic);
        before.forEach((partition, offset) -> request.addPartitions(io.strata.api.v1.RecordsBefore.newBuilder()
                .setPartition(partition).setBeforeOffset(offset)));
        java.util.Map<Integer, Long> starts = new java.util.LinkedHashMap<>();
        call(stub -> stub.deleteRecords(request.build())).getPartitionsList()
                .forEach(p -> starts.put(p.getPartition(), p.getLogStartOffset()));
        return starts;
    }

    /** For {@link #deleteRecords}: a partition's end, whatever it is when the call arrives. */
    public static final long END = -1;

    public List<TopicInfo> listTopics() {
        return call(stub -> stub.listTopics(ListTopicsRequest.getDefaultInstance()))
                .getTopicsList().stream().map(Admin::toTopic).toList();
    }

    /** The topic with each partition's log start and end offsets. Fails with NOT_FOUND for an unknown topic. */
    public TopicInfo describeTopic(String name) {
        return toTopic(call(stub -> stub.describeTopic(DescribeTopicRequest.newBuilder().setName(name).build())));
    }

    /** The topic without partition offsets: one metadata read, for callers that only need its shape. */
    public TopicInfo topic(String name) {
        return toTopic(call(stub -> stub.describeTopic(DescribeTopicRequest.newBuilder().setName(name)
                .setSkipPartitionDetails(true).build())));
    }

    /** The live nodes and what they serve. */
    public ClusterInfo describeCluster() {
        var d = onChannel(channel -> io.strata.api.v1.ClusterServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .describeCluster(io.strata.api.v1.DescribeClusterRequest.getDefaultInstance()));
        return new ClusterInfo(d.getClusterId(), d.getMetadataShards(), d.getNodesList().stream()
                .map(n -> new ClusterInfo.Node(n.getNodeId(), n.getAddress(), java.util.Set.copyOf(n.getRolesList())))
                .toList());
    }

    /**
     * The same calls, sent to this node (a partition's fetch node, for {@link #listOffsets}, the one call made so):
     * it fails as unreachable when the node makes no connection in time (its caller chooses where to ask next), and
     * goes to any node when the node answers UNAVAILABLE.
     */
    Admin on(String address) {
        return new Admin(router, address, deadline);
    }

    /** Answered by a fetch node (a node without the fetch role asks one, or answers UNAVAILABLE when it cannot). */
    public ListedOffset listOffsets(String topic, int partition, OffsetQuery query) {
        return listOffsets(topic, partition, query, false);
    }

    /**
     * As {@link #listOffsets(String, int, OffsetQuery)}; {@code readCommitted}: latest is the partition's last
     * stable offset (where read-committed readers stop, docs/transactions.md), not its end.
     */
    public ListedOffset listOffsets(String topic, int partition, OffsetQuery query, boolean readCommitted) {
        ListOffsetsRequest.Builder request = ListOffsetsRequest.newBuilder().setTopic(topic).setPartition(partition)
                .setIsolationLevel(readCommitted ? io.strata.api.v1.IsolationLevel.ISOLATION_LEVEL_READ_COMMITTED
                        : io.strata.api.v1.IsolationLevel.ISOLATION_LEVEL_READ_UNCOMMITTED);
        // Java 17 has no pattern switch over the sealed type; the three cases are all there are.
        if (query instanceof OffsetQuery.AtTimestamp t) {
            request.setTimestampMs(t.timestampMs());
        } else if (query instanceof OffsetQuery.Earliest) {
            request.setPosition(OffsetSpec.OFFSET_SPEC_EARLIEST);
        } else {
            request.setPosition(OffsetSpec.OFFSET_SPEC_LATEST);
        }
        ListOffsetsResponse response = call(stub -> stub.listOffsets(request.build()));
        return new ListedOffset(response.getOffset(), response.getTimestampMs());
    }

    /** One call: on this admin's node, or on any node that answers. */
    private <T> T call(Function<AdminServiceBlockingStub, T> rpc) {
        // A fresh deadline per attempt: a stub's deadline is absolute, fixed when withDeadlineAfter is called.
        Function<Channel, T> call = channel -> rpc.apply(AdminServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS));
        if (node == null) {
            return router.onAnyNode(call);
        }
        if (!router.connects(node)) {
            throw router.noConnection(); // frozen, say: this node's caller chooses where to ask next
        }
        try {
            return call.apply(router.channelTo(node));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                throw StrataException.from(e);
            }
            // The node this admin was sent to is gone (or stopping): a call that may run twice goes to another.
            return router.onAnyNode(call);
        }
    }

    /** A call that must not be carried out twice: on another node only if it surely never reached this one. */
    private <T> T callAtMostOnce(Function<AdminServiceBlockingStub, T> rpc) {
        Function<Channel, T> call = channel -> rpc.apply(AdminServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS));
        return node == null ? router.onAnyNodeAtMostOnce(call) : onChannel(call);
    }

    private <T> T onChannel(Function<Channel, T> rpc) {
        if (node == null) {
            return router.onAnyNode(rpc);
        }
        try {
            return rpc.apply(router.channelTo(node));
        } catch (StatusRuntimeException e) {
            throw StrataException.from(e);
        }
    }

    private static TopicInfo toTopic(TopicDescription d) {
        List<PartitionInfo> partitions = d.getPartitionDetailsList().stream()
                .map(p -> new PartitionInfo(p.getPartition(), p.getLogStartOffset(), p.getEndOffset(),
                        p.getStoredBytes())).toList();
        return new TopicInfo(d.getName(), d.getTopicId(), d.getPartitions(), d.getRetentionMs(),
                d.getRetentionBytes(), d.getCreatedAtMs(), partitions, d.getCleanupPolicy(), d.getDeleteRetentionMs(),
                d.getStoredBytes(), d.getStoredBytesMeasuredAtMs());
    }
}
