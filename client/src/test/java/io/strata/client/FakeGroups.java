package io.strata.client;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.AssignedPartition;
import io.strata.api.v1.Assignment;
import io.strata.api.v1.CommitOffsetsRequest;
import io.strata.api.v1.CommitOffsetsResponse;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.HeartbeatRequest;
import io.strata.api.v1.HeartbeatResponse;
import io.strata.api.v1.JoinGroupRequest;
import io.strata.api.v1.JoinGroupResponse;
import io.strata.api.v1.LeaveGroupRequest;
import io.strata.api.v1.LeaveGroupResponse;
import io.strata.api.v1.StartReason;
import io.strata.api.v1.SyncAssignmentRequest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake node's group service for one member at a time: a join makes a member that owns every partition of its
 * topic from offset 0 (a new epoch each join), its assignment stream says so and acknowledges beats, and a session
 * can be ended on demand (the stream and later calls answer NOT_FOUND, as a node does for a session gone). Joins
 * can be held, as a frozen node holds them.
 */
public final class FakeGroups extends GroupServiceGrpc.GroupServiceImplBase {
    /** While set, joins wait for it before answering (a node frozen with the connection open). */
    public volatile CountDownLatch joinGate;
    /** Joins received, answered or not. */
    public final AtomicInteger joins = new AtomicInteger();
    /** Members that left, in order. */
    public final List<String> left = new CopyOnWriteArrayList<>();
    public final List<CommitOffsetsRequest> commits = new CopyOnWriteArrayList<>();

    private final FakeStrata node;
    private final Map<String, StreamObserver<Assignment>> streams = new ConcurrentHashMap<>();
    private final Map<String, Boolean> live = new ConcurrentHashMap<>();

    FakeGroups(FakeStrata node) {
        this.node = node;
    }

    @Override
    public void joinGroup(JoinGroupRequest request, StreamObserver<JoinGroupResponse> observer) {
        int n = joins.incrementAndGet();
        CountDownLatch gate = joinGate;
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                observer.onError(Status.CANCELLED.asRuntimeException());
                return;
            }
        }
        String member = "m-" + n;
        live.put(member, true);
        observer.onNext(JoinGroupResponse.newBuilder().setMemberId(member).setSessionTimeoutMs(10_000)
                .setHeartbeatIntervalMs(1_000).build());
        observer.onCompleted();
    }

    @Override
    public StreamObserver<SyncAssignmentRequest> syncAssignment(StreamObserver<Assignment> observer) {
        return new StreamObserver<>() {
            private String member;

            @Override
            public void onNext(SyncAssignmentRequest request) {
                synchronized (observer) {
                    if (member == null) {
                        member = request.getMemberId();
                        if (!live.containsKey(member)) {
                            observer.onError(Status.NOT_FOUND.withDescription("no member " + member).asRuntimeException());
                            return;
                        }
                        streams.put(member, observer);
                        long epoch = Long.parseLong(member.substring(2));
                        Assignment.Builder a = Assignment.newBuilder().setGeneration(epoch);
                        String topic = node.topicNames().iterator().next();
                        for (int p = 0; p < node.partitionCount(topic); p++) {
                            a.addOwned(AssignedPartition.newBuilder().setTopic(topic).setPartition(p).setEpoch(epoch)
                                    .setStartOffset(0).setReason(StartReason.START_EARLIEST));
                        }
                        observer.onNext(a.build());
                    } else if (live.containsKey(member)) {
                        observer.onNext(Assignment.newBuilder().setHeartbeatAck(true).build());
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        };
    }

    /** Ends a member's session, as a node does when it expired: its stream and later calls answer NOT_FOUND. */
    public void endSession(String member) {
        live.remove(member);
        StreamObserver<Assignment> stream = streams.remove(member);
        if (stream != null) {
            synchronized (stream) {
                stream.onError(Status.NOT_FOUND.withDescription("session of " + member + " ended").asRuntimeException());
            }
        }
    }

    /** Whether the member's assignment stream is open. */
    public boolean streaming(String member) {
        return streams.containsKey(member);
    }

    /** The members whose sessions are live. */
    public List<String> members() {
        return List.copyOf(live.keySet());
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> observer) {
        if (known(request.getMemberId(), observer)) {
            observer.onNext(HeartbeatResponse.getDefaultInstance());
            observer.onCompleted();
        }
    }

    @Override
    public void commitOffsets(CommitOffsetsRequest request, StreamObserver<CommitOffsetsResponse> observer) {
        if (known(request.getMemberId(), observer)) {
            commits.add(request);
            observer.onNext(CommitOffsetsResponse.getDefaultInstance());
            observer.onCompleted();
        }
    }

    @Override
    public void leaveGroup(LeaveGroupRequest request, StreamObserver<LeaveGroupResponse> observer) {
        left.add(request.getMemberId());
        live.remove(request.getMemberId());
        streams.remove(request.getMemberId());
        observer.onNext(LeaveGroupResponse.getDefaultInstance());
        observer.onCompleted();
    }

    private boolean known(String member, StreamObserver<?> observer) {
        if (live.containsKey(member)) {
            return true;
        }
        observer.onError(Status.NOT_FOUND.withDescription("no member " + member).asRuntimeException());
        return false;
    }
}
