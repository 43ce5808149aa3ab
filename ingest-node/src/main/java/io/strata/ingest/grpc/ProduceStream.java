package io.strata.ingest.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.ProduceError;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import java.util.concurrent.CompletableFuture;

/**
 * One ProduceStream call: each request is produced like a unary Produce, and its response is sent in
 * request order, carrying the request's error instead of ending the stream. Requests are admitted one
 * after the other: a request's records enter the open block only after the previous request's did (or it
 * was refused), so a producer that pipelines several requests per partition on one stream has its records
 * stored in the order it sent them. Flow control: automatic
 * inbound requests are off, and the stream asks gRPC for one more request each time it answers one, so at
 * most {@code window} requests are in the node per stream, however fast the client writes; gRPC's HTTP/2
 * flow control then holds the client back.
 *
 * <p>Thread-safety: gRPC delivers inbound events one at a time; responses complete on the pipeline's
 * threads and are sent under this object's lock, in order.
 */
public final class ProduceStream implements StreamObserver<ProduceRequest> {
    private final ServerCallStreamObserver<ProduceResponse> out;
    private final java.util.function.BiFunction<ProduceRequest, CompletableFuture<Void>,
            CompletableFuture<ProduceResponse>> produce;
    private CompletableFuture<Void> sent = CompletableFuture.completedFuture(null);
    private CompletableFuture<Void> admittedTail = CompletableFuture.completedFuture(null);
    private boolean cancelled;

    private ProduceStream(ServerCallStreamObserver<ProduceResponse> out,
                          java.util.function.BiFunction<ProduceRequest, CompletableFuture<Void>,
                                  CompletableFuture<ProduceResponse>> produce) {
        this.out = out;
        this.produce = produce;
    }

    /** Starts serving a stream; answer the returned observer to gRPC as the call's inbound side. */
    public static StreamObserver<ProduceRequest> start(StreamObserver<ProduceResponse> responses,
                                                       java.util.function.BiFunction<ProduceRequest, CompletableFuture<Void>,
                                                               CompletableFuture<ProduceResponse>> produce,
                                                       int window) {
        ServerCallStreamObserver<ProduceResponse> out = (ServerCallStreamObserver<ProduceResponse>) responses;
        ProduceStream stream = new ProduceStream(out, produce);
        out.disableAutoRequest();
        out.setOnCancelHandler(stream::cancelled);
        out.request(window);
        return stream;
    }

    @Override
    public void onNext(ProduceRequest request) {
        CompletableFuture<Void> admitted = new CompletableFuture<>();
        CompletableFuture<Void> previous;
        synchronized (this) {
            previous = admittedTail;
            admittedTail = admitted;
        }
        CompletableFuture<ProduceResponse> answer = previous.thenCompose(v -> {
            try {
                return produce.apply(request, admitted);
            } catch (RuntimeException e) {
                admitted.complete(null);
                return CompletableFuture.failedFuture(e);
            }
        });
        CompletableFuture<ProduceResponse> response = answer.handle((r, failure) -> failure == null ? r
                : ProduceResponse.newBuilder().setRequestId(request.getRequestId()).setError(errorOf(failure)).build());
        synchronized (this) {
            sent = sent.thenCombine(response, (v, r) -> {
                send(r);
                return null;
            });
        }
    }

    private void send(ProduceResponse response) {
        synchronized (this) {
            if (cancelled) {
                return;
            }
            out.onNext(response);
            out.request(1);
        }
    }

    @Override
    public void onError(Throwable t) {
        cancelled(); // the client went away; calls in flight finish on their own, unanswered
    }

    @Override
    public void onCompleted() {
        CompletableFuture<Void> last;
        synchronized (this) {
            last = sent;
        }
        last.whenComplete((v, e) -> {
            synchronized (this) {
                if (!cancelled) {
                    out.onCompleted();
                }
            }
        });
    }

    private synchronized void cancelled() {
        cancelled = true;
    }

    static ProduceError errorOf(Throwable failure) {
        Status status = Status.fromThrowable(failure);
        if (status.getCode() == Status.Code.UNKNOWN && status.getDescription() == null) {
            status = status.withDescription(String.valueOf(failure));
        }
        return ProduceError.newBuilder().setCode(status.getCode().value())
                .setMessage(status.getDescription() == null ? status.getCode().name() : status.getDescription())
                .build();
    }
}
