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
 * stored in the order it sent them. Flow control: automatic inbound requests are off; the stream asks
 * gRPC for one request at a time, and only while it holds fewer than {@code window} unanswered requests and
 * the node's {@link PendingRequests} has room (requests read and not yet admitted count there until they
 * are). Otherwise it reads nothing, and gRPC's HTTP/2 flow control holds the client back. So a stream holds
 * at most {@code window} requests, and at most one beyond the node's bound, however fast its client writes.
 *
 * <p>A node that stops ends its streams through {@link OpenProduceStreams#endAll}: a stream reads no more, sends
 * the answers to what it read, then ends with the status given.
 *
 * <p>Thread-safety: gRPC delivers inbound events one at a time; responses complete on the pipeline's
 * threads and are sent under this object's lock, in order.
 */
public final class ProduceStream implements StreamObserver<ProduceRequest> {
    private final ServerCallStreamObserver<ProduceResponse> out;
    private final java.util.function.BiFunction<ProduceRequest, CompletableFuture<Void>,
            CompletableFuture<ProduceResponse>> produce;
    private final PendingRequests pending;
    private final int window;
    private final java.util.function.LongConsumer durableAnswered;
    private final OpenProduceStreams streams;
    private CompletableFuture<Void> sent = CompletableFuture.completedFuture(null);
    private CompletableFuture<Void> admittedTail = CompletableFuture.completedFuture(null);
    /** Nothing more is sent on the stream: its client went away, or it was ended. */
    private boolean cancelled;
    /** Set by {@link #end}: no more requests are read, and the stream ends so once those read are answered. */
    private Status endWith;
    /** Requests read and not yet answered. */
    private int held;
    /** A request was asked of gRPC and has not arrived yet. */
    private boolean asked;
    private boolean waitingForRoom;

    private ProduceStream(ServerCallStreamObserver<ProduceResponse> out,
                          java.util.function.BiFunction<ProduceRequest, CompletableFuture<Void>,
                                  CompletableFuture<ProduceResponse>> produce, PendingRequests pending, int window,
                          java.util.function.LongConsumer durableAnswered, OpenProduceStreams streams) {
        this.out = out;
        this.streams = streams;
        this.durableAnswered = durableAnswered;
        this.produce = produce;
        this.pending = pending;
        this.window = window;
    }

    /**
     * Starts serving a stream; answer the returned observer to gRPC as the call's inbound side. {@code
     * durableAnswered} is told, for each {@code acks=DURABLE} request answered without an error of the whole
     * request, the nanoseconds from its arrival to its answer ({@link ProduceHandler#answerTimes}). The stream is
     * among {@code streams} while it is open.
     */
    public static StreamObserver<ProduceRequest> start(StreamObserver<ProduceResponse> responses,
                                                       java.util.function.BiFunction<ProduceRequest, CompletableFuture<Void>,
                                                               CompletableFuture<ProduceResponse>> produce,
                                                       PendingRequests pending, int window,
                                                       java.util.function.LongConsumer durableAnswered,
                                                       OpenProduceStreams streams) {
        ServerCallStreamObserver<ProduceResponse> out = (ServerCallStreamObserver<ProduceResponse>) responses;
        ProduceStream stream = new ProduceStream(out, produce, pending, window, durableAnswered, streams);
        out.disableAutoRequest();
        out.setOnCancelHandler(stream::over);
        out.setOnCloseHandler(stream::over); // however it was closed: by this stream, or for it (an interceptor)
        streams.opened(stream);
        stream.pull();
        return stream;
    }

    /** Asks gRPC for the next request if the stream and the node have room for it; else waits for room. */
    private void pull() {
        boolean waitForRoom = false;
        synchronized (this) {
            if (cancelled || endWith != null || asked || held >= window || waitingForRoom) {
                return;
            }
            if (pending.hasRoom()) {
                asked = true;
            } else {
                waitingForRoom = true;
                waitForRoom = true;
            }
        }
        if (waitForRoom) {
            pending.whenRoom(() -> {
                synchronized (this) {
                    waitingForRoom = false;
                }
                pull();
            });
            return;
        }
        out.request(1);
    }

    @Override
    public void onNext(ProduceRequest request) {
        long arrived = System.nanoTime();
        boolean durable = ProduceHandler.durable(request);
        long size = ProduceHandler.heldBytes(request);
        CompletableFuture<Void> admitted = new CompletableFuture<>();
        admitted.whenComplete((v, e) -> pending.give(size));
        CompletableFuture<Void> previous;
        synchronized (this) {
            asked = false;
            if (endWith != null) {
                return; // asked for before the stream was ended: not read, so its client sends it again
            }
            held++;
            previous = admittedTail;
            admittedTail = admitted;
        }
        pending.take(size); // read, so held whatever the room: the room was there when it was asked for
        CompletableFuture<ProduceResponse> answer = previous.thenCompose(v -> {
            try {
                return produce.apply(request, admitted);
            } catch (RuntimeException e) {
                admitted.complete(null);
                return CompletableFuture.failedFuture(e);
            } catch (Error e) {
                admitted.complete(null); // the stream's next requests are not held up behind it
                throw e;
            }
        });
        long requestId = request.getRequestId(); // not the request: it may go once admitted, long before its answer
        CompletableFuture<ProduceResponse> response = answer.handle((r, failure) -> failure == null ? r
                : ProduceResponse.newBuilder().setRequestId(requestId).setError(errorOf(failure)).build());
        synchronized (this) {
            sent = sent.thenCombine(response, (v, r) -> {
                send(r);
                if (durable && !r.hasError()) {
                    durableAnswered.accept(System.nanoTime() - arrived);
                }
                return null;
            });
        }
        pull();
    }

    private void send(ProduceResponse response) {
        synchronized (this) {
            held--;
            if (!cancelled) {
                try {
                    out.onNext(response);
                } catch (RuntimeException closed) {
                    cancelled = true; // closed for it meanwhile (an interceptor's end): the chain of answers goes on
                }
            }
            if (endWith != null && held == 0) {
                close(endWith);
                return;
            }
        }
        pull();
    }

    @Override
    public void onError(Throwable t) {
        over(); // the client went away; calls in flight finish on their own, unanswered
    }

    @Override
    public void onCompleted() {
        CompletableFuture<Void> last;
        synchronized (this) {
            last = sent;
        }
        last.whenComplete((v, e) -> {
            synchronized (this) {
                close(null);
            }
        });
    }

    /**
     * Reads no more requests, sends the answers to those read, then ends the stream with {@code status}. (Counted
     * by {@link #held}, which a request joins as it is read: the chain of answers may not have it yet.)
     */
    synchronized void end(Status status) {
        if (endWith != null) {
            return;
        }
        endWith = status;
        if (held == 0) {
            close(status);
        }
    }

    /** Completes the stream, or fails it with {@code status}, unless nothing more may be sent on it. Under the lock. */
    private void close(Status status) {
        if (!cancelled) {
            cancelled = true;
            if (status == null) {
                out.onCompleted();
            } else {
                out.onError(status.asRuntimeException());
            }
        }
    }

    /** The call is over (its client cancelled it, or it was closed): nothing more is sent on it. */
    private void over() {
        synchronized (this) {
            cancelled = true;
        }
        streams.closed(this);
    }

    static ProduceError errorOf(Throwable failure) {
        Status status = Status.fromThrowable(failure);
        if (status.getCode() == Status.Code.UNKNOWN && status.getDescription() == null) {
            status = status.withDescription(String.valueOf(failure));
        }
        return ProduceError.newBuilder().setCode(status.getCode().value())
                .setMessage(status.getDescription() == null ? status.getCode().name() : status.getDescription())
                .setReason(io.strata.api.ErrorReason.of(failure)).build();
    }
}
