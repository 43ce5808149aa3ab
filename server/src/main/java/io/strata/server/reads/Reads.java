package io.strata.server.reads;

import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import java.util.concurrent.CompletableFuture;

/**
 * A node's unary reads: its own fetch role's, or, on a node without one, a fetch node's ({@link ReadsElsewhere}).
 * Callers have checked the caller's access already. Failures carry a gRPC status.
 */
public interface Reads {
    CompletableFuture<FetchResponse> fetch(FetchRequest request);

    CompletableFuture<ListOffsetsResponse> listOffsets(ListOffsetsRequest request);

    /**
     * Reads refused UNAVAILABLE (the client's next node answers): a node without the fetch role that cannot ask
     * a fetch node for its clients, because it has no node certificate while authentication is required.
     */
    Reads NONE = new Reads() {
        @Override
        public CompletableFuture<FetchResponse> fetch(FetchRequest request) {
            return CompletableFuture.failedFuture(refusal());
        }

        @Override
        public CompletableFuture<ListOffsetsResponse> listOffsets(ListOffsetsRequest request) {
            return CompletableFuture.failedFuture(refusal());
        }

        private io.grpc.StatusRuntimeException refusal() {
            return io.grpc.Status.UNAVAILABLE.withDescription("this node does not run the fetch role and, without "
                    + "mutual TLS between nodes while authentication is required, does not read through one; ask a "
                    + "node that runs it (ClusterService.DescribeCluster lists them)").asRuntimeException();
        }
    };

    /** The reads of this node's own fetch role. */
    static Reads local(io.strata.fetch.grpc.FetchHandler handler) {
        return new Reads() {
            @Override
            public CompletableFuture<FetchResponse> fetch(FetchRequest request) {
                return handler.fetch(request);
            }

            @Override
            public CompletableFuture<ListOffsetsResponse> listOffsets(ListOffsetsRequest request) {
                return handler.listOffsets(request);
            }
        };
    }
}
