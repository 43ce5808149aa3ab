package io.strata.client;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.ShareAckResult;
import io.strata.api.v1.ShareAcknowledgeRequest;
import io.strata.api.v1.ShareAcknowledgeResponse;
import io.strata.api.v1.ShareFetchRequest;
import io.strata.api.v1.ShareFetchResponse;
import io.strata.api.v1.ShareServiceGrpc;
import io.strata.api.v1.SharedRecord;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A fake node's share service: hands each stored record of a partition out once per group, in order (no locks,
 * no redelivery), and fails fetches and acknowledgements on demand, as a node that cannot serve them now does.
 */
public final class FakeShares extends ShareServiceGrpc.ShareServiceImplBase {
    /** Failures the next share fetches answer, one each, in order. */
    public final Deque<Status> fetchFailures = new ConcurrentLinkedDeque<>();
    /** Failures the next acknowledgements answer, one each, in order. */
    public final Deque<Status> ackFailures = new ConcurrentLinkedDeque<>();
    public final List<ShareFetchRequest> fetchRequests = new CopyOnWriteArrayList<>();
    public final List<ShareAcknowledgeRequest> ackRequests = new CopyOnWriteArrayList<>();

    /** Whether acknowledgements answer their offsets not held (their locks ran out), rather than applied. */
    public volatile boolean answersNotHeld;

    /** The longest a share fetch that finds nothing waits, at most what it asked for (a long poll, shortened). */
    public volatile long longPollCapMs = 50;

    private final FakeStrata node;
    /** "group/partition" → the next offset to hand out. */
    private final Map<String, Integer> next = new HashMap<>();

    FakeShares(FakeStrata node) {
        this.node = node;
    }

    @Override
    public void shareFetch(ShareFetchRequest request, StreamObserver<ShareFetchResponse> observer) {
        fetchRequests.add(request);
        if (failedNext(fetchFailures, observer)) {
            return;
        }
        ShareFetchResponse.Builder response = ShareFetchResponse.newBuilder().setLockMs(30_000);
        synchronized (this) {
            for (int p : request.getPartitionsList()) {
                List<String> values = node.values(request.getTopic(), p);
                String key = request.getGroup() + "/" + p;
                int offset = next.getOrDefault(key, 0);
                while (offset < values.size() && response.getRecordsCount() < request.getMaxRecords()) {
                    response.addRecords(SharedRecord.newBuilder().setPartition(p).setOffset(offset)
                            .setDeliveryCount(1).setValue(ByteString.copyFromUtf8(values.get(offset))));
                    offset++;
                }
                next.put(key, offset);
            }
        }
        if (response.getRecordsCount() == 0) {
            try {
                Thread.sleep(Math.min(request.getMaxWaitMs(), longPollCapMs));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        observer.onNext(response.build());
        observer.onCompleted();
    }

    @Override
    public void shareAcknowledge(ShareAcknowledgeRequest request, StreamObserver<ShareAcknowledgeResponse> observer) {
        ackRequests.add(request);
        if (failedNext(ackFailures, observer)) {
            return;
        }
        ShareAcknowledgeResponse.Builder response = ShareAcknowledgeResponse.newBuilder();
        request.getAcksList().forEach(a -> {
            long named = a.getLastOffset() - a.getFirstOffset() + 1;
            response.addResults(answersNotHeld ? ShareAckResult.newBuilder().setNotHeld(named)
                    : ShareAckResult.newBuilder().setApplied(named));
        });
        observer.onNext(response.build());
        observer.onCompleted();
    }

    /** Answers the call with the next of {@code failures}, if there is one. */
    private static boolean failedNext(Deque<Status> failures, StreamObserver<?> observer) {
        Status failure = failures.poll();
        if (failure != null) {
            observer.onError(failure.asRuntimeException());
        }
        return failure != null;
    }
}
