package io.strata.client;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.strata.api.v1.Assignment;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.HeartbeatRequest;
import io.strata.api.v1.JoinGroupRequest;
import io.strata.api.v1.JoinGroupResponse;
import io.strata.api.v1.LeaveGroupRequest;
import io.strata.api.v1.OffsetResetPolicy;
import io.strata.api.v1.SyncAssignmentRequest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A consumer's membership in a group: it joins, renews the session with heartbeats from its own thread (so a
 * slow application between polls keeps its partitions) — sent on the assignment stream while it is open (the
 * node acknowledges each), by Heartbeat calls while it is not —, follows the assignment stream, and queues what the
 * stream says for the polling thread, waking it. When the session is found gone (a heartbeat or the stream
 * answers NOT_FOUND) it says so through {@link #lost()}; the consumer then drops its partitions and joins
 * again.
 *
 * <p>Owns the thread {@code strata-group-<group>} and its stream; {@link #close()} leaves the group and stops
 * both. Thread-safe.
 */
final class GroupMembership implements AutoCloseable {
    private final String group;
    private final String topic;
    private final Channel channel;
    private final ConsumerConfig config;
    private final Duration deadline;
    private final Runnable wake;
    private final ScheduledExecutorService timer;
    private final ConcurrentLinkedQueue<Assignment> assignments = new ConcurrentLinkedQueue<>();
    private final AtomicReference<ClientCallStreamObserver<SyncAssignmentRequest>> stream = new AtomicReference<>();
    private volatile String memberId;
    private volatile boolean lost;
    /** When the server last confirmed the session; a session without one for its timeout has ended. */
    private volatile long confirmedAtNanos;
    private volatile long sessionNanos;
    private volatile boolean closed;

    GroupMembership(String group, String topic, Channel channel, ConsumerConfig config, Duration deadline, Runnable wake) {
        this.group = group;
        this.topic = topic;
        this.channel = channel;
        this.config = config;
        this.deadline = deadline;
        this.wake = wake;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-group-" + group);
            t.setDaemon(true);
            return t;
        });
    }

    /** The stream whose first request (naming the member) was sent: heartbeats may go on it. */
    private final AtomicReference<ClientCallStreamObserver<SyncAssignmentRequest>> named = new AtomicReference<>();
    private final Object commitOrder = new Object();
    /** The last asynchronous commit sent, complete once it was answered (see {@link #commitAsync}). */
    private CompletableFuture<Void> lastCommit = CompletableFuture.completedFuture(null);

    String group() {
        return group;
    }

    String memberId() {
        return memberId;
    }

    /** Joins (again): a new member id, heartbeats and the assignment stream. Throws StrataException. */
    synchronized void join() {
        stopStream();
        JoinGroupResponse joined;
        try {
            joined = blocking().joinGroup(JoinGroupRequest.newBuilder().setGroup(group).addTopics(topic)
                    .setClientId(config.clientId()).setSessionTimeoutMs((int) config.sessionTimeout().toMillis())
                    .setOffsetReset(config.fromEarliest() ? OffsetResetPolicy.OFFSET_RESET_EARLIEST
                            : OffsetResetPolicy.OFFSET_RESET_LATEST).build());
        } catch (StatusRuntimeException e) {
            throw StrataException.from(e);
        }
        memberId = joined.getMemberId();
        lost = false;
        confirmedAtNanos = System.nanoTime();
        sessionNanos = TimeUnit.MILLISECONDS.toNanos(joined.getSessionTimeoutMs());
        assignments.clear();
        String member = memberId;
        long every = Math.max(100, joined.getHeartbeatIntervalMs());
        timer.scheduleWithFixedDelay(() -> heartbeat(member), every, every, TimeUnit.MILLISECONDS);
        openStream(member);
    }

    private GroupServiceGrpc.GroupServiceBlockingStub blocking() {
        return GroupServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void heartbeat(String member) {
        if (closed || lost || !member.equals(memberId)) {
            throw new IllegalStateException("stop"); // ends this member's schedule
        }
        ClientCallStreamObserver<SyncAssignmentRequest> open = stream.get();
        if (open != null && open == named.get()) {
            // On the assignment stream: the node answers with an acknowledgement (or ends the stream NOT_FOUND).
            try {
                synchronized (open) {
                    open.onNext(BEAT);
                }
            } catch (RuntimeException e) {
                // The stream ended meanwhile: it is reopened, and the next beat goes by call if it is not.
            }
            expireIfUnconfirmed(member);
            return;
        }
        try {
            blocking().heartbeat(HeartbeatRequest.newBuilder().setGroup(group).setMemberId(member).build());
            confirmedAtNanos = System.nanoTime();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                markLost(member);
            }
            // Anything else (a node restarting): the next beat tries again; the session outlives a few misses.
        }
        expireIfUnconfirmed(member);
    }

    /** Synchronized with {@link #join()}: a reopen from the timer must not replace a newer member's stream. */
    private synchronized void openStream(String member) {
        if (closed || lost || !member.equals(memberId)) {
            return;
        }
        io.grpc.stub.StreamObserver<SyncAssignmentRequest> requests = GroupServiceGrpc.newStub(channel)
                .syncAssignment(new ClientResponseObserver<SyncAssignmentRequest, Assignment>() {
                    private ClientCallStreamObserver<SyncAssignmentRequest> call;

                    @Override
                    public void beforeStart(ClientCallStreamObserver<SyncAssignmentRequest> requestStream) {
                        call = requestStream;
                        stream.set(requestStream);
                    }

                    @Override
                    public void onNext(Assignment value) {
                        if (stream.get() != call || !member.equals(memberId)) {
                            return; // a replaced stream, or a member that has joined again since
                        }
                        confirmedAtNanos = System.nanoTime(); // the node knows the member: its session lives
                        if (value.getHeartbeatAck()) {
                            return;
                        }
                        assignments.add(value);
                        wake.run();
                    }

                    @Override
                    public void onError(Throwable t) {
                        if (!stream.compareAndSet(call, null)) {
                            return; // a newer stream replaced this one: its end says nothing
                        }
                        if (Status.fromThrowable(t).getCode() == Status.Code.NOT_FOUND) {
                            markLost(member);
                        } else if (Status.fromThrowable(t).getCode() != Status.Code.CANCELLED) {
                            reopenLater(member);
                        }
                    }

                    @Override
                    public void onCompleted() {
                        if (stream.compareAndSet(call, null)) {
                            reopenLater(member);
                        }
                    }
                });
        synchronized (requests) {
            requests.onNext(SyncAssignmentRequest.newBuilder().setGroup(group).setMemberId(member).build());
        }
        named.set((ClientCallStreamObserver<SyncAssignmentRequest>) requests); // beats may follow now
        // A beat at once: a stream reopened on another node (its previous one died) moves the session there
        // now rather than at the next beat, well within the dead node's lease.
        try {
            heartbeat(member);
        } catch (IllegalStateException e) {
            // lost or closed meanwhile: nothing to beat for
        }
    }

    /** A heartbeat on the assignment stream: any request after the first one. */
    private static final SyncAssignmentRequest BEAT = SyncAssignmentRequest.getDefaultInstance();

    private void reopenLater(String member) {
        try {
            timer.schedule(() -> openStream(member), 500, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed
        }
    }

    private void markLost(String member) {
        if (member.equals(memberId) && !closed) {
            lost = true;
            wake.run();
        }
    }

    /**
     * A session the server has not confirmed for its whole timeout may have ended there and its partitions
     * moved: the member must stop reading them (it cannot tell, so it assumes the worst).
     */
    private void expireIfUnconfirmed(String member) {
        if (System.nanoTime() - confirmedAtNanos > sessionNanos) {
            markLost(member);
        }
    }

    /** True once the session is known (or must be assumed) gone: every partition is lost; {@link #join()} again. */
    boolean lost() {
        String member = memberId;
        if (member != null && !closed) {
            expireIfUnconfirmed(member);
        }
        return lost;
    }

    /** The newest assignment received since the last call, or null; older ones are superseded by it. */
    Assignment latest() {
        Assignment last = null;
        for (Assignment a = assignments.poll(); a != null; a = assignments.poll()) {
            last = a;
        }
        return last;
    }

    /** {@code epochs}: the ownership each offset was reached under, so a commit delayed past it is refused. */
    private io.strata.api.v1.CommitOffsetsRequest commitRequest(java.util.Map<Integer, Long> offsets,
                                                                java.util.Map<Integer, Long> epochs,
                                                                java.util.Collection<Integer> release) {
        io.strata.api.v1.CommitOffsetsRequest.Builder b = io.strata.api.v1.CommitOffsetsRequest.newBuilder()
                .setGroup(group).setMemberId(memberId);
        new java.util.TreeMap<>(offsets).forEach((p, o) -> b.addOffsets(io.strata.api.v1.PartitionCommit.newBuilder()
                .setTopic(topic).setPartition(p).setOffset(o).setEpoch(epochs.getOrDefault(p, 0L))));
        release.forEach(p -> b.addRelease(io.strata.api.v1.GroupTopicPartition.newBuilder().setTopic(topic)
                .setPartition(p)));
        return b.build();
    }

    /**
     * Commits the offsets and gives up {@code release}, in one call. Throws StrataException: FAILED_PRECONDITION
     * when the member no longer owns one of them (nothing was committed), NOT_FOUND when it is not in the group.
     */
    void commit(java.util.Map<Integer, Long> offsets, java.util.Map<Integer, Long> epochs,
                java.util.Collection<Integer> release) {
        String member = memberId;
        CompletableFuture<Void> previous;
        synchronized (commitOrder) {
            previous = lastCommit;
        }
        try {
            previous.get(deadline.toMillis(), TimeUnit.MILLISECONDS); // its outcome went to its own callback
        } catch (Exception e) {
            // Failed or still unanswered after a whole deadline: this commit goes anyway.
        }
        try {
            blocking().commitOffsets(commitRequest(offsets, epochs, release));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                markLost(member); // the session ended: the next poll drops the partitions and joins again
            }
            throw StrataException.from(e);
        }
    }

    /**
     * The same without waiting; {@code done} gets null or the failure, on a gRPC thread. Commits go one at a
     * time: two in flight could be applied in either order, and the older one would move the offsets back.
     */
    void commitAsync(java.util.Map<Integer, Long> offsets, java.util.Map<Integer, Long> epochs,
                     java.util.function.Consumer<StrataException> done) {
        io.strata.api.v1.CommitOffsetsRequest request = commitRequest(offsets, epochs, java.util.List.of());
        synchronized (commitOrder) {
            lastCommit = lastCommit.handle((x, e) -> null).thenCompose(x -> {
                CompletableFuture<Void> sent = new CompletableFuture<>();
                com.google.common.util.concurrent.ListenableFuture<io.strata.api.v1.CommitOffsetsResponse> call;
                try {
                    call = io.grpc.stub.ClientCalls.futureUnaryCall(channel.newCall(
                            GroupServiceGrpc.getCommitOffsetsMethod(), io.grpc.CallOptions.DEFAULT
                                    .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)), request);
                } catch (RuntimeException e) {
                    sent.complete(null);
                    done.accept(StrataException.from(e));
                    return sent;
                }
                call.addListener(() -> {
                    StrataException failure = null;
                    try {
                        call.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        failure = StrataException.from(e.getCause());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        failure = StrataException.from(e);
                    }
                    sent.complete(null); // first: a callback that commits again must not wait for itself
                    done.accept(failure);
                }, Runnable::run);
                return sent;
            });
        }
    }

    private void stopStream() {
        ClientCallStreamObserver<SyncAssignmentRequest> s = stream.getAndSet(null);
        if (s != null) {
            s.cancel("rejoining or closing", null);
        }
    }

    /** Leaves the group (its partitions move at once) and stops the heartbeats and the stream. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopStream();
        timer.shutdownNow();
        String member = memberId;
        if (member != null && !lost) {
            try {
                blocking().leaveGroup(LeaveGroupRequest.newBuilder().setGroup(group).setMemberId(member).build());
            } catch (StatusRuntimeException e) {
                // Gone already, or the node is unreachable: the session then ends on its own.
            }
        }
    }
}
