package io.strata.server.txn;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.CheckBackRequest;
import io.strata.api.v1.CheckHalfRequest;
import io.strata.api.v1.CheckHalfResponse;
import io.strata.api.v1.HalfCheck;
import io.strata.api.v1.HalfDecision;
import io.strata.api.v1.NodeServiceGrpc;
import io.strata.fetch.half.HalfChecker;
import io.strata.format.HalfMessages;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.NodeInfo;
import io.strata.metadata.half.HalfStore;
import io.strata.security.Identity;
import io.strata.security.Need;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Producers' check-back streams on this node (docs/transactions.md, "Half messages with check-back"), and the asking:
 * a node that holds streams of a producer group says so in the metadata store (under a lease, withdrawn with the last
 * stream or the node); a check of the group goes to one of this node's streams, else to a node that holds some, over
 * the node-to-node port. A producer that does not answer within {@link #ANSWER_TIMEOUT_MS} counts as "unknown": the
 * next check asks again, perhaps another producer. Thread-safe.
 */
public final class CheckBackStreams implements HalfChecker, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CheckBackStreams.class);
    static final long ANSWER_TIMEOUT_MS = 10_000;
    private static final Duration REGISTRATION_TTL = Duration.ofSeconds(10);

    private final MetadataStore metadata;
    private final HalfStore store;
    private final String nodeId;
    private final Function<String, ManagedChannel> dialer;
    /** Whether a stream's principal may see (and decide) a half message of the topic: produce on it. */
    private final BiPredicate<Identity, Need> allowed;
    private final ScheduledExecutorService timer;
    private final Map<String, Group> groups = new ConcurrentHashMap<>();
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final AtomicLong checkIds = new AtomicLong();
    private volatile boolean closed;

    /** One stream: where its checks go, and the answers it owes. */
    private static final class Member {
        final StreamObserver<HalfCheck> out;
        final Identity who;
        final Map<Long, CompletableFuture<HalfDecision>> owed = new ConcurrentHashMap<>();

        Member(StreamObserver<HalfCheck> out, Identity who) {
            this.out = out;
            this.who = who;
        }

        synchronized void send(HalfCheck check) {
            out.onNext(check);
        }

        /** Ends the stream (serialized with {@link #send}); a stream ended already is left as it is. */
        synchronized void end(Status status) {
            try {
                if (status == null) {
                    out.onCompleted();
                } else {
                    out.onError(status.asRuntimeException());
                }
            } catch (RuntimeException ignored) {
                // already ended, or cancelled
            }
        }
    }

    /** A group's streams on this node, and its registration. */
    private static final class Group {
        final List<Member> members = new ArrayList<>();
        HalfStore.Registration registration;
        /** A registration of this group is being granted (only one at a time). */
        boolean registering;
        int next;
    }

    public CheckBackStreams(MetadataStore metadata, String nodeId, Function<String, ManagedChannel> dialer,
                            BiPredicate<Identity, Need> allowed, ScheduledExecutorService timer) {
        this.metadata = metadata;
        this.store = metadata.halves();
        this.nodeId = nodeId;
        this.dialer = dialer;
        this.allowed = allowed;
        this.timer = timer;
    }

    /** A producer's stream: its first message names its group; then it answers the checks sent on {@code out}. */
    public StreamObserver<CheckBackRequest> open(StreamObserver<HalfCheck> out, Identity who) {
        return new StreamObserver<>() {
            private String group;
            private Member member;
            private boolean refused;

            @Override
            public void onNext(CheckBackRequest request) {
                if (refused) {
                    return; // answered with an error already
                }
                if (group == null) {
                    String problem = request.hasAnswer() ? "the first message names the producer group"
                            : HalfMessages.groupProblem(request.getProducerGroup());
                    if (problem != null || closed) {
                        refused = true;
                        out.onError((closed ? Status.UNAVAILABLE.withDescription("this node is stopping")
                                : Status.INVALID_ARGUMENT.withDescription(problem)).asRuntimeException());
                        return;
                    }
                    // A check carries a half message's record: only a principal that may produce as the group (its
                    // name as a transactional id in ACLs) is sent the group's checks.
                    Need asGroup = Need.transactionalId(io.strata.metadata.security.AclOperation.PRODUCE,
                            request.getProducerGroup());
                    if (!allowed.test(who, asGroup)) {
                        refused = true;
                        out.onError(Status.PERMISSION_DENIED.withDescription(who.principal() + " may not produce as "
                                + "producer group '" + request.getProducerGroup() + "' (no ACL on transactional id '"
                                + request.getProducerGroup() + "' allows it)").asRuntimeException());
                        return;
                    }
                    group = request.getProducerGroup();
                    member = new Member(out, who);
                    join(group, member);
                    return;
                }
                if (request.hasAnswer() && member != null) {
                    CompletableFuture<HalfDecision> owed = member.owed.remove(request.getAnswer().getCheckId());
                    if (owed != null) {
                        owed.complete(request.getAnswer().getDecision());
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                leave();
            }

            @Override
            public void onCompleted() {
                Member m = member;
                leave();
                if (m != null) {
                    m.end(null);
                } else if (!refused) {
                    try {
                        out.onCompleted();
                    } catch (RuntimeException ignored) {
                        // already ended, or cancelled
                    }
                }
            }

            private void leave() {
                if (member != null) {
                    CheckBackStreams.this.leave(group, member);
                    member.owed.values().forEach(f -> f.complete(HalfDecision.HALF_DECISION_UNKNOWN));
                    member = null;
                }
            }
        };
    }

    private void join(String group, Member member) {
        Group registerFor = null;
        synchronized (this) {
            Group g = groups.computeIfAbsent(group, k -> new Group());
            g.members.add(member);
            if (g.registration == null && !g.registering) {
                g.registering = true;
                registerFor = g;
            }
        }
        if (registerFor != null) {
            register(group, registerFor);
        }
    }

    /**
     * Says this node holds streams of the group, for as long as {@code g} (this group's streams, until its last one
     * leaves) lasts: again whenever the registration is lost meanwhile. A registration granted after {@code g} is
     * gone is withdrawn at once.
     */
    private void register(String group, Group g) {
        store.registerProducer(group, nodeId, REGISTRATION_TTL).whenComplete((registration, e) -> {
            boolean keep;
            synchronized (this) {
                g.registering = false;
                keep = e == null && !closed && groups.get(group) == g && !g.members.isEmpty() && g.registration == null;
                if (keep) {
                    g.registration = registration;
                }
            }
            if (e != null) {
                LOG.warnf("producer group '%s': cannot register its check-back streams (%s); trying again", group,
                        e.toString());
                retryLater(group, g);
            } else if (!keep) {
                registration.close();
            } else {
                registration.lost().thenRun(() -> {
                    synchronized (this) {
                        if (g.registration != registration) {
                            return;
                        }
                        g.registration = null;
                    }
                    retryLater(group, g);
                });
            }
        });
    }

    private void retryLater(String group, Group g) {
        if (closed) {
            return;
        }
        timer.schedule(() -> {
            synchronized (this) {
                if (closed || groups.get(group) != g || g.members.isEmpty() || g.registration != null || g.registering) {
                    return;
                }
                g.registering = true;
            }
            register(group, g);
        }, 1, TimeUnit.SECONDS);
    }

    private void leave(String group, Member member) {
        HalfStore.Registration withdraw = null;
        synchronized (this) {
            Group g = groups.get(group);
            if (g == null || !g.members.remove(member)) {
                return;
            }
            if (g.members.isEmpty()) {
                groups.remove(group);
                withdraw = g.registration;
            }
        }
        if (withdraw != null) {
            withdraw.close();
        }
    }

    /** Asks a live producer of the group: one of this node's, else one of a node that holds some. */
    @Override
    public CompletableFuture<HalfDecision> check(String group, HalfCheck check) {
        CompletableFuture<HalfDecision> local = askLocal(group, check);
        if (local != null) {
            return local;
        }
        return store.producerNodes(group).thenCombine(metadata.listNodes(), (holders, nodes) -> {
            List<NodeInfo> live = nodes.stream().filter(n -> holders.contains(n.nodeId()) && !n.nodeId().equals(nodeId))
                    .toList();
            return live;
        }).thenCompose(live -> {
            if (live.isEmpty()) {
                LOG.debugf("no producer of group '%s' is live to check half message %s", group, check.getId());
                return CompletableFuture.completedFuture(HalfDecision.HALF_DECISION_UNKNOWN);
            }
            NodeInfo node = live.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(live.size()));
            CompletableFuture<HalfDecision> answer = new CompletableFuture<>();
            NodeServiceGrpc.newStub(channels.computeIfAbsent(node.internalAddress(), dialer))
                    .withDeadlineAfter(ANSWER_TIMEOUT_MS + 2_000, TimeUnit.MILLISECONDS)
                    .checkHalf(CheckHalfRequest.newBuilder().setProducerGroup(group).setCheck(check).build(),
                            new StreamObserver<>() {
                                @Override
                                public void onNext(CheckHalfResponse value) {
                                    answer.complete(value.getDecision());
                                }

                                @Override
                                public void onError(Throwable t) {
                                    answer.complete(HalfDecision.HALF_DECISION_UNKNOWN);
                                }

                                @Override
                                public void onCompleted() {
                                    answer.complete(HalfDecision.HALF_DECISION_UNKNOWN);
                                }
                            });
            return answer;
        }).exceptionally(e -> HalfDecision.HALF_DECISION_UNKNOWN);
    }

    /**
     * Asks one of this node's streams of the group whose producer may produce to the message's topic; null when
     * there is none. Completes with the answer, or "unknown" past {@link #ANSWER_TIMEOUT_MS}.
     */
    public CompletableFuture<HalfDecision> askLocal(String group, HalfCheck check) {
        Member member = null;
        synchronized (this) {
            Group g = groups.get(group);
            if (g != null) {
                for (int i = 0; i < g.members.size() && member == null; i++) {
                    Member m = g.members.get(Math.floorMod(g.next++, g.members.size()));
                    if (allowed.test(m.who, Need.topic(io.strata.metadata.security.AclOperation.PRODUCE,
                            check.getTopic()))) {
                        member = m;
                    }
                }
            }
        }
        if (member == null) {
            return null;
        }
        long id = checkIds.incrementAndGet();
        CompletableFuture<HalfDecision> answer = new CompletableFuture<>();
        member.owed.put(id, answer);
        Member asked = member;
        try {
            asked.send(check.toBuilder().setCheckId(id).build());
        } catch (RuntimeException e) {
            asked.owed.remove(id);
            return CompletableFuture.completedFuture(HalfDecision.HALF_DECISION_UNKNOWN);
        }
        return answer.completeOnTimeout(HalfDecision.HALF_DECISION_UNKNOWN, ANSWER_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .whenComplete((d, e) -> asked.owed.remove(id));
    }

    @Override
    public void close() {
        closed = true;
        List<Group> all;
        synchronized (this) {
            all = new ArrayList<>(groups.values());
            groups.clear();
        }
        for (Group g : all) {
            if (g.registration != null) {
                g.registration.close();
            }
            for (Member m : g.members) {
                m.owed.values().forEach(f -> f.complete(HalfDecision.HALF_DECISION_UNKNOWN));
                m.end(Status.UNAVAILABLE.withDescription("this node is stopping; open the stream at another"));
            }
        }
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
