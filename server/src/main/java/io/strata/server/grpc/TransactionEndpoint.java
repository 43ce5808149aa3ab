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
}
