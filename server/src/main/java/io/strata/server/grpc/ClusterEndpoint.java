package io.strata.server.grpc;

import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.ClusterDescription;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.DescribeClusterRequest;
import io.strata.api.v1.DescribeHistoryRequest;
import io.strata.api.v1.History;
import io.strata.api.v1.NodeDescription;
import io.strata.metadata.NodeInfo;
import io.strata.server.StrataNode;
import io.strata.server.console.ConsoleHistory;
import io.strata.server.console.StoreProbes;
import jakarta.inject.Inject;
import java.util.concurrent.CompletableFuture;

/**
 * Which nodes are live and what they serve, from their registrations in the metadata store; with health, how
 * the stores answer this node; and the history this node sampled for the console's charts.
 */
@GrpcService
public class ClusterEndpoint extends ClusterServiceGrpc.ClusterServiceImplBase {
    @Inject
    StrataNode node;
    @Inject
    StoreProbes probes;
    @Inject
    ConsoleHistory history;

    @Override
    public void describeCluster(DescribeClusterRequest request, StreamObserver<ClusterDescription> observer) {
        GrpcErrors.reply(observer, () -> {
            CompletableFuture<ClusterDescription.Builder> nodes = node.metadata().listNodes().thenApply(list -> {
                ClusterDescription.Builder description = ClusterDescription.newBuilder()
                        .setClusterId(node.metadata().cluster().clusterId())
                        .setMetadataShards(node.metadata().cluster().shards()).setAnsweredBy(node.nodeId());
                for (NodeInfo n : list) {
                    description.addNodes(NodeDescription.newBuilder().setNodeId(n.nodeId()).setAddress(n.address())
                            .addAllRoles(n.roles().stream().sorted().toList()).setStartedAtMs(n.startedAtMs())
                            .setZone(n.zone()).setVersion(n.version()).setKafkaAddress(n.kafkaAddress()));
                }
                return description;
            });
            if (!request.getIncludeHealth()) {
                return nodes.thenApply(ClusterDescription.Builder::build);
            }
            // The probes answer even when a store does not: the node list needs the metadata store, so without it
            // the call fails as before, while the probe saying why is what an operator looks for.
            return probes.metadata().thenCombine(probes.objects(), (m, o) -> new Object[] {m, o})
                    .thenCompose(h -> nodes.thenApply(d -> d.setMetadataStore((io.strata.api.v1.StoreHealth) h[0])
                            .setObjectStore((io.strata.api.v1.StoreHealth) h[1]).build()));
        });
    }

    @Override
    public void describeCompaction(io.strata.api.v1.DescribeCompactionRequest request,
                                   StreamObserver<io.strata.api.v1.CompactionStatus> observer) {
        GrpcErrors.reply(observer, () -> node.metadata().compaction().readPasses().thenApply(passes -> {
            io.strata.api.v1.CompactionStatus.Builder status = io.strata.api.v1.CompactionStatus.newBuilder();
            for (io.strata.metadata.CompactionPass p : passes) {
                status.addPasses(io.strata.api.v1.CompactionPassDescription.newBuilder().setWorker(p.owner())
                        .setFinishedAtMs(p.finishedAtMs()).setDurationMs(p.durationMs()).setShards(p.shards())
                        .setSteps(p.steps()).setSegmentsWritten(p.segmentsWritten()).setBytesMerged(p.bytesMerged())
                        .setBytesExpired(p.bytesExpired()).setBytesCleaned(p.bytesCleaned())
                        .setObjectsDeleted(p.objectsDeleted()).setFailures(p.failures())
                        .setIndexEntries(p.indexEntries()).setOldestUnmergedAgeMs(p.oldestUnmergedAgeMs())
                        .setRetentionLagMs(p.retentionLagMs()));
            }
            return status.build();
        }));
    }

    @Override
    public void describeHistory(DescribeHistoryRequest request, StreamObserver<History> observer) {
        GrpcErrors.reply(observer, () -> CompletableFuture.completedFuture(history.describe(request)));
    }
}
