package io.strata.server.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.Assignment;
import io.strata.api.v1.CommitOffsetsRequest;
import io.strata.api.v1.CommitOffsetsResponse;
import io.strata.api.v1.DeleteGroupRequest;
import io.strata.api.v1.DeleteGroupResponse;
import io.strata.api.v1.DescribeGroupRequest;
import io.strata.api.v1.FetchCommittedRequest;
import io.strata.api.v1.FetchCommittedResponse;
import io.strata.api.v1.GroupDescription;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.HeartbeatRequest;
import io.strata.api.v1.HeartbeatResponse;
import io.strata.api.v1.JoinGroupRequest;
import io.strata.api.v1.JoinGroupResponse;
import io.strata.api.v1.LeaveGroupRequest;
import io.strata.api.v1.LeaveGroupResponse;
import io.strata.api.v1.ListGroupsRequest;
import io.strata.api.v1.ListGroupsResponse;
import io.strata.api.v1.ResetOffsetsRequest;
import io.strata.api.v1.ResetOffsetsResponse;
import io.strata.api.v1.SyncAssignmentRequest;
import io.strata.group.AssignmentSink;
import io.strata.group.MemberAssignment;
import io.strata.server.StrataNode;
import io.strata.server.group.GroupHandler;
import jakarta.inject.Inject;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** gRPC adapter of consumer groups (every node); the work is in {@link io.strata.group.GroupCoordinator}. */
@GrpcService
public class GroupEndpoint extends GroupServiceGrpc.GroupServiceImplBase {
    @Inject
    StrataNode node;
    @Inject
    io.strata.server.security.AccessControl access;

    @Override
    public void joinGroup(JoinGroupRequest request, StreamObserver<JoinGroupResponse> observer) {
        String address = String.valueOf(RemoteAddress.CURRENT.get());
        GrpcErrors.reply(observer, () -> node.groups().join(request, address));
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> observer) {
        GrpcErrors.reply(observer, () -> node.groups().coordinator().heartbeat(request.getGroup(),
                request.getMemberId()).thenApply(x -> HeartbeatResponse.getDefaultInstance()));
    }

    @Override
    public void leaveGroup(LeaveGroupRequest request, StreamObserver<LeaveGroupResponse> observer) {
        GrpcErrors.reply(observer, () -> node.groups().coordinator().leave(request.getGroup(),
                request.getMemberId()).thenApply(x -> LeaveGroupResponse.getDefaultInstance()));
    }

    private static final Assignment HEARTBEAT_ACK = Assignment.newBuilder().setHeartbeatAck(true).build();

    @Override
    public StreamObserver<SyncAssignmentRequest> syncAssignment(StreamObserver<Assignment> observer) {
        ServerCallStreamObserver<Assignment> call = (ServerCallStreamObserver<Assignment>) observer;
        io.strata.security.Identity who = io.strata.server.security.CallIdentity.current();
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<AutoCloseable> handle = new AtomicReference<>();
        var sink = new AssignmentSink() {
            @Override
            public synchronized void onAssignment(MemberAssignment assignment) {
                if (!done.get()) {
                    call.onNext(GroupHandler.toProto(assignment));
                }
            }

            @Override
            public synchronized void onEnd(Throwable cause) {
                if (done.compareAndSet(false, true)) {
                    // The node stopping, or the member opening another stream: try again (elsewhere), not a bug.
                    call.onError(cause instanceof IllegalStateException ? io.grpc.Status.UNAVAILABLE
                            .withDescription(cause.getMessage()).asRuntimeException() : GrpcErrors.toStatus(cause));
                }
            }

            synchronized void ack() {
                if (!done.get()) {
                    call.onNext(HEARTBEAT_ACK);
                }
            }
        };
        call.setOnCancelHandler(() -> {
            done.set(true);
            close(handle.getAndSet(null));
        });
        return new StreamObserver<>() {
            /** The member, from the first request; later requests are its heartbeats. gRPC calls these in turn. */
            private SyncAssignmentRequest first;

            @Override
            public void onNext(SyncAssignmentRequest request) {
                if (first == null) {
                    first = request;
                    open(request, sink, done, handle);
                    return;
                }
                // The stream lives as long as the member: its right to the group is asked again at each heartbeat.
                RuntimeException refused = access.stillAllowed(who, io.strata.security.Need.group(
                        io.strata.metadata.security.AclOperation.CONSUME, first.getGroup()));
                if (refused != null) {
                    sink.onEnd(refused);
                    close(handle.getAndSet(null));
                    return;
                }
                try {
                    node.groups().coordinator().heartbeat(first.getGroup(), first.getMemberId())
                            .whenComplete((x, e) -> {
                                Throwable cause = e instanceof java.util.concurrent.CompletionException c ? c.getCause() : e;
                                if (cause == null) {
                                    sink.ack();
                                } else if (cause instanceof io.strata.group.UnknownMemberException) {
                                    sink.onEnd(cause);
                                    close(handle.getAndSet(null)); // not under the sink's lock: a view's lock comes first
                                }
                                // Anything else (the store slow or unreachable): no acknowledgement; the member
                                // counts the time it goes unconfirmed, and its next beat tries again.
                            });
                } catch (RuntimeException e) {
                    sink.onEnd(e);
                    close(handle.getAndSet(null));
                }
            }

            @Override
            public void onError(Throwable t) {
                done.set(true);
                close(handle.getAndSet(null));
            }

            @Override
            public void onCompleted() {
                // A client that heartbeats with Heartbeat calls half-closes after its first request: the stream stays.
            }
        };
    }

    private void open(SyncAssignmentRequest request, AssignmentSink sink, AtomicBoolean done,
                      AtomicReference<AutoCloseable> handle) {
        try {
            node.groups().coordinator().sync(request.getGroup(), request.getMemberId(), sink).whenComplete((h, e) -> {
                if (e != null) {
                    sink.onEnd(e);
                } else {
                    handle.set(h);
                    if (done.get()) {
                        close(handle.getAndSet(null)); // the caller went away while the stream was being set up
                    }
                }
            });
        } catch (RuntimeException e) {
            sink.onEnd(e);
        }
    }

    private static void close(AutoCloseable handle) {
        if (handle != null) {
            try {
                handle.close();
            } catch (Exception e) {
                // the stream is gone either way
            }
        }
    }

    @Override
    public void commitOffsets(CommitOffsetsRequest request, StreamObserver<CommitOffsetsResponse> observer) {
        GrpcErrors.reply(observer, () -> node.groups().commit(request));
    }

    @Override
    public void fetchCommitted(FetchCommittedRequest request, StreamObserver<FetchCommittedResponse> observer) {
        GrpcErrors.reply(observer, () -> node.groups().committed(request));
    }

    @Override
    public void describeGroup(DescribeGroupRequest request, StreamObserver<GroupDescription> observer) {
        GrpcErrors.reply(observer, () -> node.groups().describe(request.getGroup()));
    }

    @Override
    public void listGroups(ListGroupsRequest request, StreamObserver<ListGroupsResponse> observer) {
        GrpcErrors.reply(observer, () -> node.groups().list());
    }

    @Override
    public void resetOffsets(ResetOffsetsRequest request, StreamObserver<ResetOffsetsResponse> observer) {
        GrpcErrors.reply(observer, () -> node.groups().reset(request));
    }

    @Override
    public void deleteGroup(DeleteGroupRequest request, StreamObserver<DeleteGroupResponse> observer) {
        GrpcErrors.reply(observer, () -> node.groups().delete(request));
    }

    @Override
    public void alterGroupSettings(io.strata.api.v1.AlterGroupSettingsRequest request,
                                   StreamObserver<io.strata.api.v1.GroupSettings> observer) {
        GrpcErrors.reply(observer, () -> node.groupSettings().alter(request,
                io.strata.server.security.CallIdentity.current()));
    }

    @Override
    public void describeGroupSettings(io.strata.api.v1.DescribeGroupSettingsRequest request,
                                      StreamObserver<io.strata.api.v1.GroupSettings> observer) {
        GrpcErrors.reply(observer, () -> node.groupSettings().describe(request.getGroup()));
    }
}
