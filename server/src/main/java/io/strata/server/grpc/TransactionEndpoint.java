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
        GrpcErrors.reply(observer, () -> {
            ownProducer(request.getProducerId(), "AddPartitions");
            return node.transactions().addPartitions(request);
        });
    }

    @Override
    public void addOffsets(io.strata.api.v1.AddOffsetsRequest request, StreamObserver<TransactionDescription> observer) {
        GrpcErrors.reply(observer, () -> {
            ownProducer(request.getProducerId(), "AddOffsets");
            return node.transactions().addOffsets(request);
        });
    }

    @Override
    public void endTransaction(EndTransactionRequest request, StreamObserver<TransactionDescription> observer) {
        GrpcErrors.reply(observer, () -> {
            ownProducer(request.getProducerId(), "EndTransaction");
            return node.transactions().end(request);
        });
    }

    /**
     * Refuses the call (PERMISSION_DENIED, audited) unless the producer id was issued to the caller: only the
     * producer that initialised a transactional id adds to or ends its transaction, whoever else may produce there
     * and has read its id and epoch.
     */
    private void ownProducer(long producerId, String action) {
        access.requireProducerId(CallIdentity.current(), producerId, RemoteAddress.CURRENT.get(), action);
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
            if (access.allowed(who, need)) {
                return true;
            }
            io.strata.server.security.AuditLog.record(who, address, "EndHalf", need.resource(),
                    "denied: " + need.operation().label());
            return false; // the door answers PERMISSION_DENIED in words that do not name the topic
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
