package io.strata.client;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.strata.api.v1.ClusterDescription;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.DescribeClusterRequest;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.format.Sharding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Knows the nodes of the cluster and picks one for each call.
 * <ul>
 *   <li>Ingest: the partition's metadata shard is ranked over the ingest nodes (soft affinity, by rendezvous
 *   hashing, {@link Sharding#rank}), so in the normal case one node commits a shard and commits rarely
 *   conflict.</li>
 *   <li>Fetch: the partition itself is ranked over the fetch nodes, so each chunk is read from the object
 *   store by about one node of the cluster. Ingest nodes rank the same way to hand fresh chunks over.</li>
 *   <li>Everything every node answers (topics, groups, the cluster): the <em>home</em> node, which stays the
 *   same while it answers (and moves on when it refuses a group member's join for now: {@link #passHomeOver});
 *   {@link #onAnyNode} tries the other nodes the client knows (the addresses it was
 *   given, then the cluster's nodes) when it cannot, so no single node's loss ends a client's work.</li>
 * </ul>
 * In each ranking the first node that is not marked down gets the call, and a node joining or leaving moves
 * only its own share. Correctness never depends on it: any node serves any partition, and when nothing is
 * known of the cluster (or no node describes one) every call goes to the addresses the client was given.
 *
 * <p>The view of the cluster is refreshed from DescribeCluster at most every {@code refresh}, and at once
 * after a node is marked down. Channels to nodes are made on first use and closed when their node leaves
 * the cluster or the router closes. Thread-safe; owned by {@link StrataClient}.
 */
final class NodeRouter implements AutoCloseable {
    /** How long a node that failed a request is passed over. */
    private static final long DOWN_MILLIS = 10_000;
    /** The shortest time between two reads of the cluster, however many nodes fail meanwhile. */
    private static final long MIN_REFRESH_MILLIS = 1_000;
    /** The most a read of the cluster waits for a node (a frozen one must not hold up a producer for long). */
    private static final long DESCRIBE_DEADLINE_MILLIS = 5_000;

    private static final MethodDescriptor<FetchRequest, FetchChunksResponse> FETCH_CHUNKS =
            FetchServiceGrpc.getFetchChunksMethod().toBuilder(ProtoUtils.marshaller(FetchRequest.getDefaultInstance()),
                    new AliasingMarshaller<>(FetchChunksResponse.getDefaultInstance())).build();

    /** The addresses the client was given, in its order of preference. */
    private final List<String> seeds;
    private final Duration deadline;
    private final long refreshMillis;
    private final NodeChannels channels;
    private final Map<String, Long> downUntil = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicReference<View> view =
            new java.util.concurrent.atomic.AtomicReference<>(new View(0, List.of(), List.of(), 0, 0));
    /** Set while one thread reads the cluster; the others route by what is known meanwhile. */
    private final java.util.concurrent.atomic.AtomicBoolean refreshing = new java.util.concurrent.atomic.AtomicBoolean();
    /** Where calls any node answers go while it answers (see {@link #home()}); null: to be chosen. */
    private volatile String home;

    /**
     * The cluster as last read at {@code readAtMillis}, to be read again at {@code dueAtMillis}. While no
     * fetch node is live (the only one restarting), the fetch nodes last seen are kept: they are where the
     * partitions will be read again, while the other nodes cannot serve a fetch at all.
     */
    private record View(int shards, List<String> ingestNodes, List<String> fetchNodes, long readAtMillis,
                        long dueAtMillis) {
        /** The same, read again as soon as the last read is {@link #MIN_REFRESH_MILLIS} old. */
        View soon() {
            return new View(shards, ingestNodes, fetchNodes, readAtMillis,
                    Math.min(dueAtMillis, readAtMillis + MIN_REFRESH_MILLIS));
        }

        /** Every node that serves clients, in address order. */
        Set<String> clientNodes() {
            Set<String> all = new TreeSet<>(ingestNodes);
            all.addAll(fetchNodes);
            return all;
        }
    }

    /**
     * {@code connect} null: the client cannot dial nodes itself (in-process or custom transports), so every
     * call goes to the bootstrap channel and nothing is routed or failed over.
     */
    NodeRouter(ManagedChannel bootstrap, List<String> seeds, Function<String, ManagedChannel> connect,
               Duration deadline, Duration refresh) {
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("a client needs at least one server address");
        }
        this.seeds = List.copyOf(new LinkedHashSet<>(seeds));
        this.channels = new NodeChannels(bootstrap, connect, deadline, this::markDown, () -> candidates().size() > 1);
        this.deadline = deadline;
        this.refreshMillis = refresh.toMillis();
    }

    /**
     * How a record takes a bytes field of an answer parsed here: the field's own array where the client dials
     * nodes itself (answers cross the network, and gRPC's standard marshaller copies each bytes field into an
     * array of the message's own: {@link ArrayCapture#bytes}), a copy otherwise. An in-process channel hands the
     * receiver the sender's own message, whose arrays the sender keeps (a node's decoded-chunk cache, say).
     */
    java.util.function.Function<com.google.protobuf.ByteString, byte[]> answerBytes() {
        return channels.dials() ? ArrayCapture::bytes : com.google.protobuf.ByteString::toByteArray;
    }

    /** Where a partition's records go: a node address (the home node's when routing is off or unknown). */
    String ingestNodeFor(long topicId, int partition) {
        View current = current();
        if (current.shards() <= 0) {
            return pick(List.of());
        }
        return pick(Sharding.rank(Sharding.shardOf(topicId, partition, current.shards()), current.ingestNodes()));
    }

    /** Where a partition is read from: the owning fetch node, or the next live one (the home node when unknown). */
    String fetchNodeFor(long topicId, int partition) {
        return fetchNodeFor(topicId, partition, null);
    }

    /**
     * The same when the partition's last fetch failed on {@code failedOn} (null: it did not fail): the next live
     * node in the partition's ranking after that one, round, so a node that answers but cannot serve (starting,
     * failing) is passed over as one that cannot be reached is; that node itself when no other is live.
     */
    String fetchNodeFor(long topicId, int partition, String failedOn) {
        List<String> ranked = Sharding.rank(Sharding.partitionKey(topicId, partition), current().fetchNodes());
        int at = failedOn == null ? -1 : ranked.indexOf(failedOn);
        if (at < 0) {
            return pick(ranked);
        }
        for (int i = 1; i < ranked.size(); i++) {
            String node = ranked.get((at + i) % ranked.size());
            if (!isDown(node)) {
                return node;
            }
        }
        return failedOn;
    }

    /** How many nodes a failing fetch is tried on at once, before its retries are spaced out: each fetch node (or home). */
    int fetchCandidates() {
        return Math.max(1, current().fetchNodes().size());
    }

    private String pick(List<String> ranked) {
        if (ranked.isEmpty()) {
            return home();
        }
        for (String node : ranked) {
            if (!isDown(node)) {
                return node;
            }
        }
        return ranked.get(0);
    }

    boolean isDown(String node) {
        return downUntil.getOrDefault(node, 0L) > System.currentTimeMillis();
    }

    /**
     * The node for calls any node answers: the last one that answered such a call (or the one after a node
     * that refused a join for now), while it is not marked down (so a group member's session stays where it
     * is); else the first node known that is not down.
     */
    String home() {
        if (!channels.dials()) {
            return seeds.get(0);
        }
        String current = home;
        if (current != null && !isDown(current)) {
            return current;
        }
        String next = candidates().get(0);
        home = next;
        return next;
    }

    /**
     * The nodes to try for a call any node answers, best first: the home node, the addresses the client was
     * given, the cluster's other nodes; those marked down last, the one that comes back soonest first.
     */
    List<String> candidates() {
        if (!channels.dials()) {
            return List.of(seeds.get(0));
        }
        Set<String> all = new LinkedHashSet<>();
        String current = home;
        if (current != null) {
            all.add(current);
        }
        all.addAll(seeds);
        all.addAll(view.get().clientNodes());
        List<String> up = new ArrayList<>();
        List<String> down = new ArrayList<>();
        for (String node : all) {
            (isDown(node) ? down : up).add(node);
        }
        down.sort(Comparator.comparingLong(n -> downUntil.getOrDefault(n, 0L)));
        up.addAll(down);
        return up;
    }

    /**
     * A blocking call that any node answers and that is safe to repeat, made on the home node and, while
     * nodes cannot serve it (the node is unreachable, makes no connection within {@link NodeChannels#CONNECT_MILLIS}, or
     * answers UNAVAILABLE: stopping, or without the role the call needs; or CANCELLED or RESOURCE_EXHAUSTED:
     * {@link #movesOn}), on each other node known, once; one
     * passed over for its connection is asked last again when no other node served the call. The node that
     * answers becomes the home node. Any other failure is the call's answer. Throws StrataException; when no node could be reached, it names them
     * ({@link StrataException#nodes()}).
     *
     * <p>A call whose connection broke under it may have been carried out by the node before it went away; it
     * is sent again all the same, so only calls that may be repeated come here: reads, a commit of the same
     * offsets under the same ownership, a join (a member joined twice holds its share of partitions until
     * its session times out). The others go to {@link #onAnyNodeAtMostOnce}.
     */
    <T> T onAnyNode(Function<Channel, T> call) {
        return onAnyNode(call, true);
    }

    /**
     * The same for a call that must not be carried out twice (creating or deleting a topic or a group,
     * moving offsets): it goes on to another node only when it surely never reached the one before (no
     * connection could be made, or none in time). A connection that broke under it, or a node answering
     * UNAVAILABLE, leaves its outcome unknown: that failure is its answer.
     */
    <T> T onAnyNodeAtMostOnce(Function<Channel, T> call) {
        return onAnyNode(call, false);
    }

    private <T> T onAnyNode(Function<Channel, T> call, boolean repeatable) {
        Attempts<T> attempts = new Attempts<>(call, repeatable);
        // A node that makes no connection in time is passed over before the call goes to it (a frozen node's
        // kernel accepts connections for it, and the call would wait there until its deadline). When no node that
        // did could serve the call, one passed over has it last (connected by then, or the first): it may only be
        // slow.
        List<String> order = candidates();
        List<String> slow = new ArrayList<>();
        io.grpc.Context context = io.grpc.Context.current();
        for (String node : order) {
            if (context.isCancelled()) {
                break; // its caller gave up (a consumer closing): no further node is dialled or asked
            }
            if (order.size() > 1 && !connects(node)) {
                slow.add(node);
                attempts.passedOver(node);
            } else if (attempts.on(node)) {
                return attempts.answer;
            }
        }
        if (context.isCancelled()) {
            throw new StrataException(Status.Code.CANCELLED, "the call was cancelled by its caller");
        }
        if (!slow.isEmpty() && attempts.on(slow.stream().filter(channels::ready).findFirst().orElse(slow.get(0)))) {
            return attempts.answer;
        }
        throw attempts.failure();
    }

    /** One call's tries on node after node: its answer, or the failures that send it on. */
    private final class Attempts<T> {
        private final Function<Channel, T> call;
        private final boolean repeatable;
        private final List<String> tried = new ArrayList<>();
        private StrataException last;
        private boolean allUnreachable = true;
        T answer;

        Attempts(Function<Channel, T> call, boolean repeatable) {
            this.call = call;
            this.repeatable = repeatable;
        }

        /** The node made no connection in time: not asked (yet). */
        void passedOver(String node) {
            tried.add(node);
            if (last == null) {
                last = noConnection();
            }
        }

        /**
         * Asks {@code node}: true when it answered (the answer is {@link #answer}), false when the call may go to
         * the next node. Throws any other failure: the call's answer.
         */
        boolean on(String node) {
            try {
                answer = call.apply(channel(node));
                home = node;
                return true;
            } catch (RuntimeException e) {
                StrataException failure = StrataException.from(e);
                if (!movesOn(failure, repeatable)) {
                    throw failure;
                }
                if (failure.unreachable()) {
                    markDown(node);
                } else {
                    allUnreachable = false;
                }
                if (!tried.contains(node)) {
                    tried.add(node);
                }
                last = failure;
                return false;
            }
        }

        /** Why no node answered: the last real refusal, or the failure to reach them, naming them all. */
        StrataException failure() {
            return allUnreachable && tried.size() > 1 ? last.triedOn(tried) : last;
        }
    }

    /**
     * Whether a call that failed so goes on to the next node. One that surely never reached the node always does.
     * One that may be repeated also does when the node could not serve it now: unreachable or answering
     * UNAVAILABLE (stopping, or without the role), ending the call (CANCELLED) or overloaded (RESOURCE_EXHAUSTED),
     * all of which another node may not be. DEADLINE_EXCEEDED does not: the call's deadline is spent (each node
     * would get a whole one more), and a slow node may still carry it out after a newer call elsewhere (a commit
     * moving offsets back). A failure of the node's own (INTERNAL, UNKNOWN), a contended call (ABORTED) and every
     * refusal are the call's answer too.
     */
    static boolean movesOn(StrataException failure, boolean repeatable) {
        if (failure.code() == Status.Code.UNAVAILABLE) {
            return repeatable || failure.neverSent();
        }
        return repeatable && MOVE_ON.contains(failure.code());
    }

    private static final Set<Status.Code> MOVE_ON = Set.of(Status.Code.CANCELLED, Status.Code.RESOURCE_EXHAUSTED);

    /** The failure of a call that never reached a node, as the node made no connection in time. */
    StrataException noConnection() {
        return channels.noConnection();
    }

    /** {@link NodeChannels#connects}: whether the node makes a connection in time (marked down if not). */
    boolean connects(String node) {
        return channels.connects(node);
    }

    /** The channel to a node, made on first use (the bootstrap channel when the client cannot dial). */
    Channel channelTo(String address) {
        return channel(address);
    }

    ProducerServiceGrpc.ProducerServiceStub producerStub(String address) {
        return ProducerServiceGrpc.newStub(channel(address));
    }

    ProducerServiceGrpc.ProducerServiceBlockingStub producerBlockingStub(String address) {
        return ProducerServiceGrpc.newBlockingStub(channel(address));
    }

    AdminServiceGrpc.AdminServiceBlockingStub adminBlockingStub(String address) {
        return AdminServiceGrpc.newBlockingStub(channel(address));
    }

    /** FetchChunks to the node; the answer's chunks are views of the bytes received ({@link AliasingMarshaller}). */
    ListenableFuture<FetchChunksResponse> fetchChunks(String address, FetchRequest request, long deadlineMillis) {
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
        return ClientCalls.futureUnaryCall(channel(address).newCall(FETCH_CHUNKS, options), request);
    }

    /** Fetch to the node: records it decoded (and filtered, when the request has a filter). */
    ListenableFuture<io.strata.api.v1.FetchResponse> fetch(String address, FetchRequest request, long deadlineMillis) {
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
        return ClientCalls.futureUnaryCall(channel(address).newCall(FetchServiceGrpc.getFetchMethod(), options), request);
    }

    /**
     * The home node answered a call any node answers with a failure another node might not give (it is full,
     * starting, or slow): the next node the client knows becomes home, round, without marking this one down (it
     * still serves its role).
     */
    void passHomeOver() {
        if (!channels.dials()) {
            return;
        }
        Set<String> known = new LinkedHashSet<>(seeds);
        known.addAll(view.get().clientNodes());
        List<String> nodes = new ArrayList<>(known);
        int at = nodes.indexOf(home != null ? home : candidates().get(0)); // the node just asked
        for (int i = 1; i < nodes.size(); i++) {
            String next = nodes.get((at + i) % nodes.size()); // at -1 (gone from the view): from the first
            if (!isDown(next)) {
                home = next;
                return;
            }
        }
    }

    /** A request to the node failed as unreachable: pass it over for a while and look at the cluster again. */
    void markDown(String address) {
        if (channels.dials()) {
            downUntil.put(address, System.currentTimeMillis() + DOWN_MILLIS);
            refreshSoon();
        }
    }

    /**
     * A node could not serve a call of its role (it answered that it cannot now: stopping, starting, no longer
     * running the role, failing): the cluster may have changed, so it is read again soon, at most once every
     * {@link #MIN_REFRESH_MILLIS}.
     * Never blocks: gRPC's threads call it.
     */
    void refreshSoon() {
        view.updateAndGet(View::soon);
    }

    private ManagedChannel channel(String address) {
        return channels.get(address);
    }

    /**
     * The view of the cluster, read again when due by the one thread that finds it so (the others route by
     * what is known meanwhile: routing is a preference, never a condition of correctness). The read has a
     * short deadline of its own, as it happens on callers' threads (a producer's sender, a polling consumer).
     */
    private View current() {
        View current = view.get();
        if (!channels.dials() || System.currentTimeMillis() < current.dueAtMillis()
                || !refreshing.compareAndSet(false, true)) {
            return current;
        }
        try {
            View next;
            try {
                long describeMillis = Math.min(deadline.toMillis(), DESCRIBE_DEADLINE_MILLIS);
                ClusterDescription cluster = onAnyNode(channel -> ClusterServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(describeMillis, TimeUnit.MILLISECONDS)
                        .describeCluster(DescribeClusterRequest.getDefaultInstance()));
                List<String> ingest = new ArrayList<>();
                List<String> fetch = new ArrayList<>();
                cluster.getNodesList().forEach(n -> {
                    if (n.getRolesList().contains("ingest")) {
                        ingest.add(n.getAddress());
                    }
                    if (n.getRolesList().contains("fetch")) {
                        fetch.add(n.getAddress());
                    }
                });
                long now = System.currentTimeMillis();
                boolean fetchNodesGone = fetch.isEmpty() && !current.fetchNodes().isEmpty();
                next = new View(cluster.getMetadataShards(), ingest.stream().sorted().toList(),
                        fetchNodesGone ? current.fetchNodes() : fetch.stream().sorted().toList(), now,
                        now + (fetchNodesGone ? MIN_REFRESH_MILLIS : refreshMillis));
            } catch (StrataException e) {
                // Keep what was known (or nothing: the given addresses) and try again: soon when no node could
                // answer now, after the refresh time when one did (a node that does not describe a cluster).
                long now = System.currentTimeMillis();
                next = new View(current.shards(), current.ingestNodes(), current.fetchNodes(), now,
                        now + (e.code() == Status.Code.UNAVAILABLE || e.code() == Status.Code.DEADLINE_EXCEEDED
                                ? MIN_REFRESH_MILLIS : refreshMillis));
            }
            Set<String> live = new LinkedHashSet<>(next.clientNodes());
            live.addAll(seeds);
            String h = home;
            if (h != null) {
                live.add(h);
            }
            channels.closeAllBut(live);
            view.set(next);
            return next;
        } finally {
            refreshing.set(false);
        }
    }

    /** The addresses the router knows, by role, for tests and diagnostics. */
    Map<String, List<String>> known() {
        Map<String, List<String>> m = new HashMap<>();
        View current = current();
        m.put("ingest", current.ingestNodes());
        m.put("fetch", current.fetchNodes());
        return m;
    }

    @Override
    public void close() {
        channels.close();
    }
}
