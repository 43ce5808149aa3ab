package io.strata.server.grpc;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.strata.metadata.CommitOutcomeUnknownException;
import io.strata.metadata.MetadataException;
import io.strata.metadata.TopicExistsException;
import io.strata.format.BlockFormatException;
import io.strata.storage.object.ObjectStoreException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/** Maps what the roles fail with to the gRPC status a client sees, and completes observers from futures. */
public final class GrpcErrors {
    private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

    private GrpcErrors() {
    }

    public static StatusRuntimeException toStatus(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof StatusRuntimeException s) {
            return s;
        }
        if (t instanceof StatusException s) {
            return s.getStatus().asRuntimeException(s.getTrailers());
        }
        Status status;
        if (t instanceof TopicExistsException) {
            status = Status.ALREADY_EXISTS;
        } else if (t instanceof io.strata.metadata.group.UnknownGroupException
                || t instanceof io.strata.group.UnknownMemberException || t instanceof io.strata.group.UnknownTopicException) {
            status = Status.NOT_FOUND;
        } else if (t instanceof io.strata.group.NotOwnerException
                || t instanceof io.strata.metadata.group.GroupActiveException
                || t instanceof io.strata.group.MixedProtocolException) {
            status = Status.FAILED_PRECONDITION;
        } else if (t instanceof io.strata.group.OffsetOutOfRangeException) {
            status = Status.OUT_OF_RANGE;
        } else if (t instanceof io.strata.group.TooManyMembersException
                || t instanceof io.strata.metadata.security.SecurityStoreFullException) {
            status = Status.RESOURCE_EXHAUSTED;
        } else if (t instanceof CommitOutcomeUnknownException) {
            status = Status.UNAVAILABLE.withDescription("commit outcome unknown, the records may or may not be stored: "
                    + t.getMessage());
            return status.withCause(t).asRuntimeException();
        } else if (t instanceof ObjectStoreException || t instanceof MetadataException) {
            status = Status.UNAVAILABLE;
        } else if (t instanceof BlockFormatException) {
            status = Status.DATA_LOSS;
        } else if (t instanceof TimeoutException) {
            status = Status.DEADLINE_EXCEEDED;
        } else if (t instanceof IllegalArgumentException) {
            status = Status.INVALID_ARGUMENT;
        } else if (t instanceof CancellationException) {
            status = Status.CANCELLED;
        } else {
            LOG.error("unexpected failure answering a call", t);
            status = Status.INTERNAL;
        }
        return status.withDescription(t.getMessage()).withCause(t).asRuntimeException();
    }

    /** Runs {@code call} and answers the observer with its result or its mapped status. */
    public static <T> void reply(StreamObserver<T> observer, Supplier<CompletableFuture<T>> call) {
        CompletableFuture<T> future;
        try {
            future = call.get();
        } catch (RuntimeException e) {
            observer.onError(toStatus(e));
            return;
        }
        future.whenComplete((value, failure) -> {
            if (failure != null) {
                observer.onError(toStatus(failure));
            } else {
                observer.onNext(value);
                observer.onCompleted();
            }
        });
    }
}
