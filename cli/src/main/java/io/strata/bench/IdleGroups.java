package io.strata.bench;

import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.Assignment;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.JoinGroupRequest;
import io.strata.api.v1.JoinGroupResponse;
import io.strata.api.v1.LeaveGroupRequest;
import io.strata.api.v1.LeaveGroupResponse;
import io.strata.api.v1.SyncAssignmentRequest;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Holds many consumer groups alive, each with one member that heartbeats on its assignment stream (as the Java
 * client does, each at its own phase),
 * as a background load: run the produce or e2e benchmark meanwhile to see whether groups slow the data path.
 * Members are plain gRPC calls (no consumer threads), so one process holds tens of thousands. Prints
 * {@code idle_groups.<figure>=<value>} lines when they are all assigned, and again when it lets them go.
 */
public final class IdleGroups {
    private final Channel channel;
    private final String topic;
    private final int groups;
    private final Duration session;
    private final PrintWriter out;
    private final PrintWriter progress;
    private final AtomicLong heartbeats = new AtomicLong();
    private final AtomicLong heartbeatFailures = new AtomicLong();
    private final AtomicLong assigned = new AtomicLong();
    private final AtomicLong streamFailures = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicReference<String> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();

    public IdleGroups(Channel channel, String topic, int groups, Duration session, PrintWriter out, PrintWriter progress) {
        this.channel = channel;
        this.topic = topic;
        this.groups = groups;
        this.session = session;
        this.out = out;
        this.progress = progress;
    }

    private record Member(String group, String id, long heartbeatMs) {
    }

    private static <T> StreamObserver<T> completing(CompletableFuture<T> future) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                future.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                future.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        };
    }

    public void run(Duration hold) throws InterruptedException {
        GroupServiceGrpc.GroupServiceStub stub = GroupServiceGrpc.newStub(channel);
        String prefix = "idle-" + System.currentTimeMillis() + "-";
        List<Member> members = java.util.Collections.synchronizedList(new ArrayList<>());
        Semaphore inFlight = new Semaphore(64);
        // Each member beats on its own assignment stream, as the Java client does, at its own phase (as
        // independent consumers would): not all at once.
        ScheduledExecutorService beats = Executors.newScheduledThreadPool(2);
        long every = Math.max(100, session.toMillis() / 3);
        long start = System.nanoTime();
        try {
            for (int i = 0; i < groups; i++) {
                inFlight.acquire();
                CompletableFuture<JoinGroupResponse> joined = new CompletableFuture<>();
                String group = prefix + i;
                stub.withDeadlineAfter(30, TimeUnit.SECONDS).joinGroup(JoinGroupRequest.newBuilder().setGroup(group)
                        .addTopics(topic).setClientId("idle").setSessionTimeoutMs((int) session.toMillis()).build(),
                        completing(joined));
                joined.whenComplete((r, e) -> {
                    inFlight.release();
                    if (r == null) {
                        return;
                    }
                    members.add(new Member(group, r.getMemberId(), r.getHeartbeatIntervalMs()));
                    StreamObserver<SyncAssignmentRequest> requests = stub.syncAssignment(new StreamObserver<Assignment>() {
                        private boolean counted;

                        @Override
                        public void onNext(Assignment a) {
                            if (a.getHeartbeatAck()) {
                                heartbeats.incrementAndGet();
                            } else if (!counted && a.getOwnedCount() > 0) {
                                counted = true;
                                assigned.incrementAndGet();
                            }
                        }

                        @Override
                        public void onError(Throwable t) {
                            streamFailures.incrementAndGet();
                            firstFailure.compareAndSet(null, "assignment stream: " + t);
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
                    synchronized (requests) {
                        requests.onNext(SyncAssignmentRequest.newBuilder().setGroup(group).setMemberId(r.getMemberId())
                                .build());
                    }
                    beats.scheduleAtFixedRate(() -> {
                        try {
                            synchronized (requests) {
                                requests.onNext(SyncAssignmentRequest.getDefaultInstance());
                            }
                        } catch (RuntimeException x) {
                            heartbeatFailures.incrementAndGet();
                        }
                    }, java.util.concurrent.ThreadLocalRandom.current().nextLong(every), every, TimeUnit.MILLISECONDS);
                });
                if ((i + 1) % 1000 == 0) {
                    progress.printf(Locale.ROOT, "%d groups joined, %d assigned%n", i + 1, assigned.get());
                    progress.flush();
                }
            }
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (assigned.get() < groups && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            double readySeconds = (System.nanoTime() - start) / 1e9;
            print("ready", readySeconds);
            Thread.sleep(hold.toMillis());
            print("held", readySeconds);
        } finally {
            beats.shutdownNow();
            Semaphore leaving = new Semaphore(64);
            for (Member m : List.copyOf(members)) {
                leaving.acquire();
                CompletableFuture<LeaveGroupResponse> left = new CompletableFuture<>();
                stub.withDeadlineAfter(30, TimeUnit.SECONDS).leaveGroup(LeaveGroupRequest.newBuilder()
                        .setGroup(m.group()).setMemberId(m.id()).build(), completing(left));
                left.whenComplete((r, e) -> leaving.release());
            }
            leaving.acquire(64);
        }
    }

    private void print(String phase, double readySeconds) {
        out.printf(Locale.ROOT, "idle_groups.phase=%s%n", phase);
        out.printf(Locale.ROOT, "idle_groups.groups=%d%n", groups);
        out.printf(Locale.ROOT, "idle_groups.assigned=%d%n", assigned.get());
        out.printf(Locale.ROOT, "idle_groups.ready_s=%.1f%n", readySeconds);
        out.printf(Locale.ROOT, "idle_groups.heartbeats=%d%n", heartbeats.get());
        out.printf(Locale.ROOT, "idle_groups.heartbeat_failures=%d%n", heartbeatFailures.get());
        out.printf(Locale.ROOT, "idle_groups.stream_failures=%d%n", streamFailures.get());
        if (firstFailure.get() != null) {
            progress.println("first failure: " + firstFailure.get());
            progress.flush();
        }
        out.flush();
    }
}
