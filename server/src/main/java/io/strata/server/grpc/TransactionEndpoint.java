package io.strata.server.grpc;

import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.AbortTransactionRequest;
import io.strata.api.v1.AddPartitionsRequest;
import io.strata.api.v1.DescribeTransactionRequest;
import io.strata.api.v1.EndTransactionRequest;
import io.strata.api.v1.InitTransactionsRequest;
import io.strata.api.v1.InitTransactionsResponse;
import io.strata.api.v1.ListTransactionsRequest;
import io.strata.api.v1.ListTransactionsResponse;
import io.strata.api.v1.TransactionDescription;
import io.strata.api.v1.TransactionServiceGrpc;
import io.strata.server.StrataNode;
import io.strata.server.security.CallIdentity;
import jakarta.inject.Inject;

/** gRPC adapter of transactional producers; the work is in {@link io.strata.server.txn.TransactionRole}. */
@GrpcService
public class TransactionEndpoint extends TransactionServiceGrpc.TransactionServiceImplBase {
    @Inject
    StrataNode node;
    @Inject
    io.strata.server.security.AccessControl access;

    @Override
    public void initTransactions(InitTransactionsRequest request, StreamObserver<InitTransactionsResponse> observer) {
        GrpcErrors.reply(observer, () -> node.transactions().init(request, CallIdentity.current().principal()));
    }

    @Override
    public void addPartitions(AddPartitionsRequest request, StreamObserver<TransactionDescription> observer) {
        GrpcErrors.reply(observer, () -> node.transactions().addPartitions(request));
    }

    @Override
    public void addOffsets(io.strata.api.v1.AddOffsetsRequest request, StreamObserver<TransactionDescription> observer) {
        GrpcErrors.reply(observer, () -> node.transactions().addOffsets(request));
    }

    @Override
    public void endTransaction(EndTransactionRequest request, StreamObserver<TransactionDescription> observer) {
        GrpcErrors.reply(observer, () -> node.transactions().end(request));
    }

    @Override
    public void listTransactions(ListTransactionsRequest request, StreamObserver<ListTransactionsResponse> observer) {
        GrpcErrors.reply(observer, () -> node.transactions().list());
    }

    @Override
    public void describeTransaction(DescribeTransactionRequest request,
                                    StreamObserver<TransactionDescription> observer) {
        GrpcErrors.reply(observer, () -> node.transactions().describe(request.getTransactionalId()));
    }

    @Override
    public void abortTransaction(AbortTransactionRequest request, StreamObserver<TransactionDescription> observer) {
        GrpcErrors.reply(observer, () -> node.transactions().abort(request.getTransactionalId()));
    }

    @Override
    public void endHalf(io.strata.api.v1.EndHalfRequest request,
                        StreamObserver<io.strata.api.v1.HalfDescription> observer) {
        io.strata.security.Identity who = CallIdentity.current();
        String address = RemoteAddress.CURRENT.get();
        GrpcErrors.reply(observer, () -> node.halfDoor().end(request, need -> {
            access.require(who, java.util.List.of(need), address, "EndHalf"); // PERMISSION_DENIED, audited
            return true;
        }, "producer"));
    }

    @Override
    public void listHalf(io.strata.api.v1.ListHalfRequest request,
                         StreamObserver<io.strata.api.v1.ListHalfResponse> observer) {
        GrpcErrors.reply(observer, () -> node.halfDoor().list(request));
    }

    @Override
    public StreamObserver<io.strata.api.v1.CheckBackRequest> checkBack(
            StreamObserver<io.strata.api.v1.HalfCheck> checks) {
        return node.checkBacks().open(checks, CallIdentity.current());
    }
}
