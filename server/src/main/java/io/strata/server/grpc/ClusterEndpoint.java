package io.strata.server.grpc;

import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.ClusterDescription;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.DescribeClusterRequest;
import io.strata.api.v1.NodeDescription;
import io.strata.metadata.NodeInfo;
import io.strata.server.StrataNode;
import jakarta.inject.Inject;

/** Which nodes are live and what they serve, from their registrations in the metadata store. */
@GrpcService
public class ClusterEndpoint extends ClusterServiceGrpc.ClusterServiceImplBase {
    @Inject
    StrataNode node;

    @Override
    public void describeCluster(DescribeClusterRequest request, StreamObserver<ClusterDescription> observer) {
        GrpcErrors.reply(observer, () -> node.metadata().listNodes().thenApply(nodes -> {
            ClusterDescription.Builder description = ClusterDescription.newBuilder()
                    .setClusterId(node.metadata().cluster().clusterId())
                    .setMetadataShards(node.metadata().cluster().shards());
            for (NodeInfo n : nodes) {
                description.addNodes(NodeDescription.newBuilder().setNodeId(n.nodeId()).setAddress(n.address())
                        .addAllRoles(n.roles().stream().sorted().toList()).setStartedAtMs(n.startedAtMs()));
            }
            return description.build();
        }));
    }
}
