package io.strata.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.strata.api.v1.Assignment;
import io.strata.api.v1.CommitOffsetsRequest;
import io.strata.api.v1.CommitOffsetsResponse;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.GroupTopicPartition;
import io.strata.api.v1.HeartbeatRequest;
import io.strata.api.v1.JoinGroupRequest;
import io.strata.api.v1.JoinGroupResponse;
import io.strata.api.v1.LeaveGroupRequest;
import io.strata.api.v1.OffsetResetPolicy;
import io.strata.api.v1.PartitionCommit;
import io.strata.api.v1.SyncAssignmentRequest;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A consumer's membership in a group: it joins, renews the session with heartbeats from its own thread (so a
 * slow application between polls keeps its partitions) — sent on the assignment stream while it is open (the
 * node acknowledges each), by Heartbeat calls while it is not —, follows the assignment stream, and queues what the
 * stream says for the polling thread, waking it. When the session is found gone (a heartbeat or the stream
 * answers NOT_FOUND) it says so through {@link #lost()}; the consumer then drops its partitions and joins
 * again.
 *
 * <p>No node is special: calls go to the router's home node and, when it cannot be reached, to the next one
 * ({@link NodeRouter#onAnyNode}); the stream follows the home node. A session outlives the node it was made
 * on: the first heartbeat another node receives adopts it, within the dead node's lease. A node that holds
 * the stream but leaves a beat unanswered for two seconds (frozen, cut off) is left for another, well before
 * its host lease could end the session. Only NOT_FOUND, the session really gone, ends the member's
 * partitions.
 *
 * <p>Owns the thread {@code strata-group-<group>} and its stream; {@link #close()} leaves the group and stops
 * both. Thread-safe.
 */
final class GroupMembership implements AutoCloseable {
    /** How long to wait before opening the stream again on the same node, or on one that is down too. */
    private static final long REOPEN_SAME_NODE_MS = 500;
    /**
     * How long a beat on the stream may go unanswered before its node is taken for frozen or cut off. A node
     * answers a beat of a session it hosts from memory (one of a session it adopts after a metadata
     * transaction), so this is ample; and it is well within the host lease (10 s) that ends the sessions of a
     * node that stopped renewing it, so the session moves before it could end.
     */
    private static final long BEAT_ANSWER_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** The deadline of a heartbeat sent as a call (while the stream is down). */
    private static final long HEARTBEAT_CALL_DEADLINE_MS = 3_000;
    /** How often the stream is checked for beats that went unanswered. */
    private static final long WATCH_EVERY_MS = 250;

    private final String group;
    private final String topic;
    private final NodeRouter router;
    private final ConsumerConfig config;
    private final Duration deadline;
    private final Runnable wake;
    private final ScheduledExecutorService timer;
    private final ConcurrentLinkedQueue<Assignment> assignments = new ConcurrentLinkedQueue<>();
    private final AtomicReference<ClientCallStreamObserver<SyncAssignmentRequest>> stream = new AtomicReference<>();
    /** The node the open stream goes to. */
    private volatile String streamNode;
    /** When the oldest beat on the stream not yet answered was sent; 0 when every beat was answered. */
    private volatile long unansweredSinceNanos;
    /**
     * The member this consumer is and whether its session is gone, as one value: a loss found for the previous
     * member (a late NOT_FOUND) can then never mark the one that joined since, without a lock.
     */
    private final AtomicReference<Session> session = new AtomicReference<>(new Session(null, false));

    private record Session(String memberId, boolean lost) {
        boolean is(String member) {
            return member.equals(memberId) && !lost;
        }
    }
    /** When the server last confirmed the session; a session without one for its timeout has ended. */
    private volatile long confirmedAtNanos;
    private volatile long sessionNanos;
    private volatile boolean closed;
    /** The join's call under way, cancelled by {@link #close()}; null when none is. Guarded by this. */
    private io.grpc.Context.CancellableContext joinCall;

    GroupMembership(String group, String topic, NodeRouter router, ConsumerConfig config, Duration deadline,
                    Runnable wake) {
        this.group = group;
        this.topic = topic;
        this.router = router;
        this.config = config;
        this.deadline = deadline;
        this.wake = wake;
        this.commits = new CommitQueue((offsets, epochs, done) -> sendCommit(commitRequest(session.get().memberId(),
                offsets, epochs, List.of()), router.candidates(), 0,
                io.grpc.Deadline.after(deadline.toMillis(), TimeUnit.MILLISECONDS), done), deadline);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-group-" + group);
            t.setDaemon(true);
            return t;
        });
    }

    /** The stream whose first request (naming the member) was sent: heartbeats may go on it. */
    private final AtomicReference<ClientCallStreamObserver<SyncAssignmentRequest>> named = new AtomicReference<>();
    /** The member's commits, one at a time in order, those made meanwhile merged (see {@link #commitAsync}). */
    private final CommitQueue commits;

    String group() {
        return group;
    }

    String memberId() {
        return session.get().memberId();
    }

    /**
     * Joins (again): a new member id, heartbeats and the assignment stream. Throws StrataException (after
     * trying every node it knows, when none can be reached). The call itself holds no lock, so {@link #close()}
     * does not wait for a join that hangs on a frozen node: it cancels it (through the call's context, so no
     * further node is asked), and a member made before the cancellation arrived is left at once.
     */
    void join() {
        io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
        synchronized (this) {
            if (closed) {
                throw closedFailure();
            }
            stopStream();
            joinCall = call;
        }
        JoinGroupRequest request = JoinGroupRequest.newBuilder().setGroup(group).addTopics(topic)
                .setClientId(config.clientId()).setSessionTimeoutMs((int) config.sessionTimeout().toMillis())
                .setOffsetReset(config.fromEarliest() ? OffsetResetPolicy.OFFSET_RESET_EARLIEST
                        : OffsetResetPolicy.OFFSET_RESET_LATEST).build();
        // A join whose answer was lost with its node leaves a member nobody beats for: it expires on its own.
        JoinGroupResponse joined;
        try {
            joined = call.wrap(() -> onAnyNode(stub -> stub.joinGroup(request))).call();
        } catch (StrataException e) {
            if (closed) {
                throw closedFailure(); // cancelled by close(): no node refused anything
            }
            if (Transient.is(e) && !e.unreachable()) {
                router.passHomeOver(); // it answered that it cannot now (full, starting, slow): ask the next node next
            }
            throw e;
        } catch (RuntimeException e) {
            throw e; // a bug: the application's to see, not a failure to retry
        } catch (Exception e) {
            throw StrataException.from(e); // call() declares it; onAnyNode throws unchecked ones alone
        } finally {
            call.cancel(null);
            synchronized (this) {
                joinCall = null;
            }
        }
        synchronized (this) {
            if (closed) {
                leave(joined.getMemberId()); // closed while the answer travelled: its partitions move at once
                throw closedFailure();
            }
            // Published last: a reader that sees the new id sees its session confirmed now, not as expired.
            confirmedAtNanos = System.nanoTime();
            sessionNanos = TimeUnit.MILLISECONDS.toNanos(joined.getSessionTimeoutMs());
            assignments.clear();
            String member = joined.getMemberId();
            session.set(new Session(member, false));
            long every = Math.max(100, joined.getHeartbeatIntervalMs());
            timer.scheduleWithFixedDelay(() -> heartbeat(member), every, every, TimeUnit.MILLISECONDS);
            timer.scheduleWithFixedDelay(() -> watchStream(member), WATCH_EVERY_MS, WATCH_EVERY_MS,
                    TimeUnit.MILLISECONDS);
            openStream(member);
        }
    }

    private static StrataException closedFailure() {
        return new StrataException(Status.Code.CANCELLED, "the consumer is closed");
    }

    /**
     * {@link #join()} on the membership's own thread, so a poll waiting for a rejoin answers within its timeout
     * however long the join takes (a frozen node holds it for a whole deadline); the consumer is woken when it
     * ends, joined or not. The future fails as the join does (CANCELLED once the consumer is closed; anything
     * but a StrataException is a bug, passed on as it is).
     */
    CompletableFuture<Void> joinAsync() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            timer.execute(() -> {
                try {
                    join();
                    done.complete(null);
                } catch (Throwable e) {
                    done.completeExceptionally(e);
                } finally {
                    wake.run();
                }
            });
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(closedFailure());
        }
        return done;
    }

    /** A blocking call on the first node that can serve it. */
    private <T> T onAnyNode(Function<GroupServiceGrpc.GroupServiceBlockingStub, T> call) {
        return onAnyNode(call, deadline.toMillis());
    }

    private <T> T onAnyNode(Function<GroupServiceGrpc.GroupServiceBlockingStub, T> call, long deadlineMillis) {
        return router.onAnyNode(channel -> call.apply(GroupServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)));
    }

    private void heartbeat(String member) {
        if (closed || !session.get().is(member)) {
            throw new IllegalStateException("stop"); // ends this member's schedule
        }
        ClientCallStreamObserver<SyncAssignmentRequest> open = stream.get();
        if (open != null && open == named.get()) {
            // On the assignment stream: the node answers with an acknowledgement (or ends the stream NOT_FOUND).
            try {
                synchronized (open) {
                    open.onNext(BEAT);
                }
                if (unansweredSinceNanos == 0) {
                    unansweredSinceNanos = System.nanoTime();
                }
            } catch (RuntimeException e) {
                // The stream ended meanwhile: it is reopened, and the next beat goes by call if it is not.
            }
            expireIfUnconfirmed(member);
            return;
        }
        try {
            // On the timer's thread, which also watches the stream: a node that does not answer soon is passed over.
            onAnyNode(stub -> stub.heartbeat(HeartbeatRequest.newBuilder().setGroup(group).setMemberId(member).build()),
                    Math.min(deadline.toMillis(), HEARTBEAT_CALL_DEADLINE_MS));
            confirmedAtNanos = System.nanoTime();
        } catch (StrataException e) {
            if (e.code() == Status.Code.NOT_FOUND) {
                markLost(member);
            }
            // Anything else (no node reachable now): the next beat tries again; the session outlives a few misses.
        }
        expireIfUnconfirmed(member);
    }

    /**
     * A beat on the stream went unanswered for {@link #BEAT_ANSWER_LIMIT_NANOS}: its node may be frozen or cut
     * off with the connection still open, and the session would end with its host lease. The stream moves to
     * another node, whose first beat adopts the session.
     */
    private void watchStream(String member) {
        if (closed || !session.get().is(member)) {
            throw new IllegalStateException("stop"); // ends this member's schedule
        }
        long since = unansweredSinceNanos;
        ClientCallStreamObserver<SyncAssignmentRequest> open = stream.get();
        String node = streamNode;
        if (since == 0 || open == null || node == null || System.nanoTime() - since < BEAT_ANSWER_LIMIT_NANOS
                || router.candidates().size() < 2 || !stream.compareAndSet(open, null)) {
            return;
        }
        router.markDown(node);
        open.cancel("the node did not answer heartbeats", null);
        reopen(member, node);
    }

    /** Synchronized with {@link #join()}: a reopen from the timer must not replace a newer member's stream. */
    private synchronized void openStream(String member) {
        if (closed || !session.get().is(member)) {
            return;
        }
        String node = router.home();
        io.grpc.stub.StreamObserver<SyncAssignmentRequest> requests = GroupServiceGrpc.newStub(router.channelTo(node))
                .syncAssignment(new ClientResponseObserver<SyncAssignmentRequest, Assignment>() {
                    private ClientCallStreamObserver<SyncAssignmentRequest> call;

                    @Override
                    public void beforeStart(ClientCallStreamObserver<SyncAssignmentRequest> requestStream) {
                        call = requestStream;
                        streamNode = node;
                        unansweredSinceNanos = 0;
                        stream.set(requestStream);
                    }

                    @Override
                    public void onNext(Assignment value) {
                        if (stream.get() != call || !member.equals(session.get().memberId())) {
                            return; // a replaced stream, or a member that has joined again since
                        }
                        confirmedAtNanos = System.nanoTime(); // the node knows the member: its session lives
                        unansweredSinceNanos = 0;
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
                        // This member's own cancellations cleared the stream first; any other end (a node stopping,
                        // or cancelling it) is reopened.
                        StrataException failure = StrataException.from(t);
                        if (failure.code() == Status.Code.NOT_FOUND) {
                            markLost(member);
                        } else {
                            if (failure.unreachable()) {
                                router.markDown(node); // the home node moves on: the stream follows it
                            }
                            reopen(member, node);
                        }
                    }

                    @Override
                    public void onCompleted() {
                        if (stream.compareAndSet(call, null)) {
                            reopen(member, node);
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

    /**
     * Opens the stream again: at once on another node; after a pause on the same one (it may be restarting),
     * or when every node is down (the next is the one down the shortest), so as not to spin.
     */
    private void reopen(String member, String previousNode) {
        String next = router.home();
        long delay = next.equals(previousNode) || router.isDown(next) ? REOPEN_SAME_NODE_MS : 0;
        try {
            timer.schedule(() -> openStream(member), delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    private void markLost(String member) {
        Session now = session.get();
        if (now.is(member) && !closed && session.compareAndSet(now, new Session(member, true))) {
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
        Session now = session.get();
        if (now.memberId() != null && !now.lost() && !closed) {
            expireIfUnconfirmed(now.memberId());
        }
        return session.get().lost();
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
    private CommitOffsetsRequest commitRequest(String member, Map<Integer, Long> offsets, Map<Integer, Long> epochs,
                                               Collection<Integer> release) {
        CommitOffsetsRequest.Builder b = CommitOffsetsRequest.newBuilder().setGroup(group).setMemberId(member);
        new TreeMap<>(offsets).forEach((p, o) -> b.addOffsets(PartitionCommit.newBuilder()
                .setTopic(topic).setPartition(p).setOffset(o).setEpoch(epochs.getOrDefault(p, 0L))));
        release.forEach(p -> b.addRelease(GroupTopicPartition.newBuilder().setTopic(topic).setPartition(p)));
        return b.build();
    }

    /**
     * Commits the offsets and gives up {@code release}, in one call, on any node that can be reached: a commit
     * is the same whichever node makes it, and making it twice (its first node went away with the answer)
     * writes the same offsets under the same ownership. Throws StrataException: FAILED_PRECONDITION when the
     * member no longer owns one of them (nothing was committed), NOT_FOUND when it is not in the group.
     */
    void commit(Map<Integer, Long> offsets, Map<Integer, Long> epochs, Collection<Integer> release) {
        String member = session.get().memberId();
        CommitOffsetsRequest request = commitRequest(member, offsets, epochs, release);
        // After every commit made before it ({@link CommitQueue}): an older one sent after it would move offsets back.
        commits.sync(() -> {
            try {
                onAnyNode(stub -> stub.commitOffsets(request));
            } catch (StrataException e) {
                if (e.code() == Status.Code.NOT_FOUND) {
                    markLost(member); // the session ended: the next poll drops the partitions and joins again
                }
                throw e;
            }
        });
    }

    /**
     * The same without waiting; {@code done} gets null or the failure, on a gRPC thread. Commits go one at a
     * time, in order, and those made while one is in flight go together as one once it is answered (each
     * partition's newest offset; {@link CommitQueue}). A node that cannot serve it now is passed over for the
     * next one, as by {@link #commit}.
     */
    void commitAsync(Map<Integer, Long> offsets, Map<Integer, Long> epochs,
                     java.util.function.Consumer<StrataException> done) {
        commits.async(offsets, epochs, done);
    }

    /**
     * Sends the commit to {@code nodes.get(i)}, and on to the next node while one cannot serve it now, all within
     * one deadline ({@code until}): the next commit waits for this one's answer that long at most.
     */
    private void sendCommit(CommitOffsetsRequest request, List<String> nodes, int i, io.grpc.Deadline until,
                            java.util.function.Consumer<StrataException> done) {
        String node = nodes.get(i);
        com.google.common.util.concurrent.ListenableFuture<CommitOffsetsResponse> call;
        try {
            call = ClientCalls.futureUnaryCall(router.channelTo(node).newCall(GroupServiceGrpc.getCommitOffsetsMethod(),
                    CallOptions.DEFAULT.withDeadline(until)), request);
        } catch (RuntimeException e) {
            done.accept(StrataException.from(e));
            return;
        }
        call.addListener(() -> {
            StrataException failure = null;
            try {
                call.get();
            } catch (ExecutionException e) {
                failure = StrataException.from(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = StrataException.from(e);
            }
            if (failure != null && NodeRouter.movesOn(failure, true) && i + 1 < nodes.size()) {
                if (failure.unreachable()) {
                    router.markDown(node);
                }
                sendCommit(request, nodes, i + 1, until, done);
                return;
            }
            done.accept(failure);
        }, Runnable::run);
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
        if (joinCall != null) {
            joinCall.cancel(null); // a join held by a frozen node ends now, and no further node is asked
        }
        // Not shutdownNow(): an interrupted timer thread would cancel the calls it makes next, the leave of a member
        // whose join answered just before the close among them. Its periodic tasks end here; a call it is making
        // ends within that call's deadline.
        timer.shutdown();
        Session last = session.get();
        if (last.memberId() != null && !last.lost()) {
            leave(last.memberId());
        }
    }

    private void leave(String member) {
        try {
            onAnyNode(stub -> stub.leaveGroup(LeaveGroupRequest.newBuilder().setGroup(group).setMemberId(member)
                    .build()));
        } catch (StrataException e) {
            // Gone already, or no node reachable: the session then ends on its own.
        }
    }
}
