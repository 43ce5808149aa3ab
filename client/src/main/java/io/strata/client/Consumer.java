package io.strata.client;

import io.grpc.Status;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchChunksResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Reads assigned partitions of one topic with FetchChunks calls, decoding the stored chunks itself
 * ({@link RawChunks}), and keeps a position per partition (the next offset to read). Each partition is read
 * from the fetch node that owns it ({@link NodeRouter#fetchNodeFor}), so the cluster reads each chunk from
 * the object store about once; when that node cannot be reached the next one in the partition's ranking
 * serves it. A partition with no position yet starts at its end, looked up on first use; {@link #seek},
 * {@link #seekToBeginning}, {@link #seekToEnd} and {@link #seekToTimestamp} change that.
 *
 * <p>Two ways to get partitions: {@link #assign} them (the positions then live in this object only), or
 * {@link #subscribe} to a consumer group, which gives this consumer its share of the topic's partitions, starts
 * each where the group committed, moves partitions when members come and go (telling a
 * {@link RebalanceListener}), and stores the positions the application commits ({@link #commitSync},
 * {@link #commitAsync}, and every {@link ConsumerConfig#autoCommitInterval()} inside {@link #poll}): at least
 * once, as records returned by a poll are committed by a later one.
 *
 * <p>Every assigned partition has at most one fetch out at a time, and they are out together: a poll
 * answers as soon as any partition has records, so a record on one partition is never held up by a long
 * poll on another, and what arrives for the others waits (one answer per partition at most) for the next
 * poll. A partition that has more to read gets its next fetch as soon as its answer is taken in, before the
 * records are decoded and handed out, so at most one answer per partition is ever buffered ahead of the
 * application.
 *
 * <p>Not thread-safe: one thread polls. Holds no threads of its own but, in a group, its membership's
 * heartbeat thread; the client owns the connections. {@link #close} cancels the fetches still out and leaves
 * the group (committing first when auto-commit is on).
 */
public final class Consumer implements AutoCloseable {
    private final String topic;
    private final NodeRouter router;
    private final Admin admin;
    private final ConsumerConfig config;
    private final Duration deadline;
    private final List<Integer> assignment = new ArrayList<>();
    private final Map<Integer, Long> positions = new HashMap<>();
    /** Where a partition without a position starts; resolved through ListOffsets before it is fetched. */
    private final Map<Integer, OffsetQuery> pendingStarts = new HashMap<>();
    /** The fetch out per partition; its answer is used only if the partition's position is still its offset. */
    private final Map<Integer, Pending> pending = new HashMap<>();
    /** Partitions whose fetch has completed, in completion order (filled on gRPC threads). */
    private final LinkedBlockingQueue<Integer> completed = new LinkedBlockingQueue<>();
    /** Consecutive unreachable-node failures per partition, to give up after each fetch node was tried. */
    private final Map<Integer, Integer> failures = new HashMap<>();

    private record Pending(long offset, String node, ListenableFuture<FetchChunksResponse> answer) {
    }

    /** Put on {@link #completed} to wake a waiting poll: the group's assignment changed. */
    private static final int WAKE = -1;

    private long topicId = -1;
    private GroupMembership membership;
    private RebalanceListener listener = RebalanceListener.NONE;
    /** In a group: the epoch of each owned partition's ownership. */
    private final Map<Integer, Long> epochs = new HashMap<>();
    /** In a group: the epoch of ownerships this consumer released (later messages of them are stale). */
    private final Map<Integer, Long> released = new HashMap<>();
    /** In a group: what was last committed, so an unchanged position is not written again. */
    private final Map<Integer, Long> committed = new java.util.concurrent.ConcurrentHashMap<>();
    private long lastAutoCommitNanos;
    /**
     * A fetch failure met while other partitions' records were taken in: those records are returned first
     * (their positions have moved, and a commit of them must not skip records nobody received) and the
     * failure is thrown by the next poll.
     */
    private StrataException deferred;
    /** In a group: partitions given up locally whose release the server has not confirmed; retried each poll. */
    private final java.util.Set<Integer> unreleased = new java.util.TreeSet<>();

    Consumer(String topic, NodeRouter router, Admin admin, ConsumerConfig config, Duration deadline) {
        this.topic = topic;
        this.router = router;
        this.admin = admin;
        this.config = config;
        this.deadline = deadline;
    }

    public String topic() {
        return topic;
    }

    /** Reads these partitions from now on; positions of partitions that stay assigned are kept. */
    public void assign(Collection<Integer> partitions) {
        if (membership != null) {
            throw new IllegalStateException("this consumer is in group '" + membership.group()
                    + "', which assigns its partitions");
        }
        setAssignment(partitions);
    }

    private void setAssignment(Collection<Integer> partitions) {
        List<Integer> next = List.copyOf(new LinkedHashSet<>(partitions));
        if (next.stream().anyMatch(p -> p < 0)) {
            throw new IllegalArgumentException("partitions are numbered from 0: " + partitions);
        }
        List.copyOf(pending.keySet()).stream().filter(p -> !next.contains(p)).forEach(this::cancel);
        positions.keySet().retainAll(next);
        pendingStarts.keySet().retainAll(next);
        for (int p : next) {
            if (!positions.containsKey(p)) {
                pendingStarts.putIfAbsent(p, OffsetQuery.latest());
            }
        }
        assignment.clear();
        assignment.addAll(next);
    }

    /** Assigns every partition of the topic; throws StrataException (NOT_FOUND) for an unknown topic. */
    public void assignAll() {
        assign(IntStream.range(0, admin.describeTopic(topic).partitions()).boxed().toList());
    }

    public List<Integer> assignment() {
        return List.copyOf(assignment);
    }

    public void seek(int partition, long offset) {
        requireAssigned(partition);
        if (offset < 0) {
            throw new IllegalArgumentException("offsets are not negative: " + offset);
        }
        pendingStarts.remove(partition);
        cancel(partition);
        positions.put(partition, offset);
    }

    /** Every assigned partition restarts at its log start, as it is when next polled. */
    public void seekToBeginning() {
        restartAll(OffsetQuery.earliest());
    }

    /** Every assigned partition restarts at its end, as it is when next polled. */
    public void seekToEnd() {
        restartAll(OffsetQuery.latest());
    }

    /**
     * Every assigned partition restarts at its first record whose timestamp is at or after
     * {@code timestampMs} (its end when there is none), looked up when next polled.
     */
    public void seekToTimestamp(long timestampMs) {
        restartAll(OffsetQuery.atTimestamp(timestampMs));
    }

    /** The next offset to read from the partition, looked up first if it has no position yet. */
    public long position(int partition) {
        requireAssigned(partition);
        resolve(partition);
        return positions.get(partition);
    }

    /**
     * Answers the records available from the assigned partitions, waiting up to {@code timeout} for some:
     * as soon as any partition has records, with those of every partition whose answer is in. Each
     * partition's records come in offset order. Empty when nothing came within the timeout.
     *
     * @throws StrataException when a fetch fails; positions then stay where the last answer left them
     */
    public List<ConsumerRecord> poll(Duration timeout) {
        if (assignment.isEmpty() && membership == null) {
            throw new IllegalStateException("assign partitions of '" + topic + "' or subscribe to a group before polling");
        }
        if (deferred != null) {
            StrataException failure = deferred;
            deferred = null;
            throw failure;
        }
        long until = System.nanoTime() + timeout.toNanos();
        List<ConsumerRecord> out = new ArrayList<>();
        Integer done = null;
        if (membership != null) {
            autoCommit();
        }
        while (true) {
            if (membership != null) {
                applyGroupChanges();
            }
            long waitMs = Math.max(0, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()));
            for (int partition : assignment) {
                if (!pending.containsKey(partition)) {
                    start(partition, Math.min(waitMs, config.longPollCap().toMillis()));
                }
            }
            collect(done, out);
            long left = until - System.nanoTime();
            if (!out.isEmpty() || left <= 0) {
                return out;
            }
            try {
                done = completed.poll(left, TimeUnit.NANOSECONDS);
                if (done == null) {
                    return out;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return out;
            }
        }
    }

    private void start(int partition, long waitMs) {
        resolve(partition);
        long position = positions.get(partition);
        FetchRequest request = FetchRequest.newBuilder().setTopic(topic).setPartition(partition)
                .setOffset(position).setMaxBytes(config.maxBytes())
                .setMaxWaitMs((int) Math.min(Integer.MAX_VALUE, waitMs)).build();
        String node = router.fetchNodeFor(topicId(), partition);
        ListenableFuture<FetchChunksResponse> answer = router.fetchChunks(node, request, deadline.toMillis() + waitMs);
        pending.put(partition, new Pending(position, node, answer));
        answer.addListener(() -> completed.add(partition), MoreExecutors.directExecutor());
    }

    /**
     * Takes in every completed fetch ({@code first}, if not null, taken from the queue already): records for
     * partitions still at the fetched offset; failures thrown.
     */
    private void collect(Integer first, List<ConsumerRecord> out) {
        List<Integer> done = new ArrayList<>();
        if (first != null) {
            done.add(first);
        }
        completed.drainTo(done);
        StrataException failure = null;
        for (int partition : done) {
            Pending p = pending.get(partition);
            if (p == null || !p.answer().isDone()) {
                continue;
            }
            pending.remove(partition);
            Long position = positions.get(partition);
            if (position == null || position != p.offset() || p.answer().isCancelled()) {
                continue; // sought elsewhere or unassigned meanwhile
            }
            FetchChunksResponse response;
            try {
                response = Futures.getDone(p.answer());
            } catch (java.util.concurrent.ExecutionException e) {
                StrataException f = StrataException.from(e.getCause());
                int tries = failures.merge(partition, 1, Integer::sum);
                // A fetch changes nothing, so it is safe to ask again; any fetch node serves any partition.
                if (f.code() == Status.Code.UNAVAILABLE && tries <= router.fetchCandidates() + 1) {
                    router.markDown(p.node());
                } else if (failure == null) {
                    failures.remove(partition);
                    failure = f;
                }
                continue;
            }
            failures.remove(partition);
            // A partition with more to read gets its next fetch before this answer is decoded, so the node and
            // the network work while this thread inflates (as Kafka's consumer pre-fetches): a catch-up read
            // never waits a round trip between answers. It asks without waiting, as records are there; a
            // partition at its end long-polls from the next poll on, as before. A damaged answer takes it back.
            positions.put(partition, Math.max(position, response.getNextOffset()));
            if (response.getNextOffset() < response.getEndOffset()) {
                start(partition, 0);
            }
            try {
                out.addAll(RawChunks.decode(topic, partition, response, position));
            } catch (StrataException damaged) {
                cancel(partition);
                positions.put(partition, position);
                if (failure == null) {
                    failure = damaged;
                }
            }
        }
        if (failure != null) {
            if (out.isEmpty()) {
                throw failure;
            }
            deferred = failure;
        }
    }

    /** Cancels the fetch out for the partition, if any (its position changed or it left the assignment). */
    private void cancel(int partition) {
        Pending p = pending.remove(partition);
        if (p != null) {
            p.answer().cancel(true);
        }
    }

    /**
     * Joins the consumer group {@code group}, which from now on assigns this consumer its share of the topic's
     * partitions (none until the first poll hears from the group). Throws StrataException: NOT_FOUND for an
     * unknown topic, INVALID_ARGUMENT for a bad group name or session timeout.
     */
    public void subscribe(String group, RebalanceListener listener) {
        if (membership != null) {
            throw new IllegalStateException("already in group '" + membership.group() + "'");
        }
        if (!assignment.isEmpty()) {
            throw new IllegalStateException("partitions were assigned by hand; a consumer either assigns or subscribes");
        }
        topicId(); // an unknown topic fails here, not in the group
        GroupMembership joining = new GroupMembership(group, topic, router.bootstrapChannel(), config, deadline,
                () -> completed.add(WAKE));
        joining.join();
        this.membership = joining;
        this.listener = listener == null ? RebalanceListener.NONE : listener;
        this.lastAutoCommitNanos = System.nanoTime();
    }

    public void subscribe(String group) {
        subscribe(group, RebalanceListener.NONE);
    }

    /** The group's member id of this consumer, or null when it is not in a group. */
    public String memberId() {
        return membership == null ? null : membership.memberId();
    }

    /** Applies what the group said since the last look: partitions lost, to give up, and newly owned. */
    private void applyGroupChanges() {
        if (membership.lost()) {
            List<Integer> lost = List.copyOf(assignment);
            drop(lost);
            released.clear();
            unreleased.clear();
            if (!lost.isEmpty()) {
                listener.onPartitionsLost(lost);
            }
            membership.join();
            return;
        }
        if (!unreleased.isEmpty()) {
            try {
                membership.commit(Map.of(), Map.of(), unreleased); // without offsets: one the server refused cannot block it
                unreleased.clear();
            } catch (StrataException e) {
                if (notOurs(e)) {
                    unreleased.clear();
                }
            }
        }
        io.strata.api.v1.Assignment a = membership.latest();
        if (a == null) {
            return;
        }
        Map<Integer, io.strata.api.v1.AssignedPartition> owned = new HashMap<>();
        for (io.strata.api.v1.AssignedPartition p : a.getOwnedList()) {
            Long gaveUp = released.get(p.getPartition());
            if (p.getTopic().equals(topic) && (gaveUp == null || gaveUp != p.getEpoch())) {
                owned.put(p.getPartition(), p);
            }
        }
        List<Integer> revoking = a.getRevokingList().stream().filter(p -> p.getTopic().equals(topic))
                .map(io.strata.api.v1.GroupTopicPartition::getPartition).filter(owned::containsKey).toList();
        if (!revoking.isEmpty()) {
            List<Integer> ours = revoking.stream().filter(assignment::contains).toList();
            if (!ours.isEmpty()) {
                listener.onPartitionsRevoked(ours);
            }
            // With auto-commit the positions count as processed; without it the application committed what it
            // processed in onPartitionsRevoked, and only the release is sent.
            Map<Integer, Long> offsets = config.autoCommitInterval().isZero() ? Map.of() : uncommitted(ours);
            try {
                membership.commit(offsets, Map.copyOf(epochs), revoking);
            } catch (StrataException e) {
                if (!notOurs(e)) {
                    unreleased.addAll(revoking); // this consumer stops reading them now; the release is retried
                }
            }
            revoking.forEach(p -> {
                released.put(p, owned.remove(p).getEpoch());
                committed.remove(p);
            });
            drop(ours);
        }
        List<Integer> gone = assignment.stream()
                .filter(p -> !owned.containsKey(p) || owned.get(p).getEpoch() != epochs.get(p)).toList();
        if (!gone.isEmpty()) {
            drop(gone);
            listener.onPartitionsLost(gone);
        }
        List<Integer> added = new ArrayList<>();
        for (var e : new java.util.TreeMap<>(owned).entrySet()) {
            if (!assignment.contains(e.getKey())) {
                assignment.add(e.getKey());
                positions.put(e.getKey(), e.getValue().getStartOffset());
                epochs.put(e.getKey(), e.getValue().getEpoch());
                released.remove(e.getKey());
                added.add(e.getKey());
            }
        }
        if (!added.isEmpty()) {
            listener.onPartitionsAssigned(added);
        }
    }

    /** The server says the partitions are no longer this member's to release (or it is no longer a member). */
    private static boolean notOurs(StrataException e) {
        return e.code() == Status.Code.NOT_FOUND || e.code() == Status.Code.FAILED_PRECONDITION;
    }

    private void drop(Collection<Integer> partitions) {
        for (int p : partitions) {
            cancel(p);
            assignment.remove(Integer.valueOf(p));
            positions.remove(p);
            pendingStarts.remove(p);
            epochs.remove(p);
            committed.remove(p);
        }
    }

    /** The positions of these partitions that changed since they were last committed. */
    private Map<Integer, Long> uncommitted(Collection<Integer> partitions) {
        Map<Integer, Long> out = new HashMap<>();
        for (int p : partitions) {
            Long at = positions.get(p);
            if (at != null && !at.equals(committed.get(p))) {
                out.put(p, at);
            }
        }
        return out;
    }

    private void autoCommit() {
        long every = config.autoCommitInterval().toNanos();
        if (every > 0 && System.nanoTime() - lastAutoCommitNanos >= every) {
            lastAutoCommitNanos = System.nanoTime();
            commitAsync((offsets, failure) -> {
            });
        }
    }

    /**
     * Commits the positions of every owned partition: the records polled so far count as processed. Throws
     * StrataException: FAILED_PRECONDITION when a partition was revoked (nothing was committed; the next poll
     * tells the listener), NOT_FOUND when the member's session ended.
     */
    public void commitSync() {
        commitSync(uncommitted(assignment));
    }

    /** Commits these offsets (partition → the next offset to read) of owned partitions. */
    public void commitSync(Map<Integer, Long> offsets) {
        requireGroup();
        if (offsets.isEmpty()) {
            return;
        }
        membership.commit(offsets, Map.copyOf(epochs), List.of());
        committed.putAll(offsets);
    }

    /**
     * Commits the positions of every owned partition without waiting; {@code callback} gets the offsets and
     * null, or the failure, on a gRPC thread.
     */
    public void commitAsync(java.util.function.BiConsumer<Map<Integer, Long>, StrataException> callback) {
        requireGroup();
        Map<Integer, Long> offsets = uncommitted(assignment);
        if (offsets.isEmpty()) {
            callback.accept(offsets, null);
            return;
        }
        // Remembered at once so the next auto-commit does not send it again; forgotten if it fails, so a
        // later commit (or the one at close) sends it.
        committed.putAll(offsets);
        membership.commitAsync(offsets, Map.copyOf(epochs), failure -> {
            if (failure != null) {
                offsets.forEach(committed::remove);
            }
            callback.accept(offsets, failure);
        });
    }

    private void requireGroup() {
        if (membership == null) {
            throw new IllegalStateException("commits need a group: subscribe first");
        }
    }

    /**
     * Cancels the fetches still out; in a group, commits the positions (when auto-commit is on) and leaves, so
     * the partitions move at once. The consumer can poll again afterwards only without a group.
     */
    @Override
    public void close() {
        List.copyOf(pending.keySet()).forEach(this::cancel);
        completed.clear();
        if (membership != null) {
            try {
                if (!config.autoCommitInterval().isZero() && !membership.lost()) {
                    commitSync();
                }
            } catch (StrataException e) {
                // revoked or gone: its successor starts from the last commit that was accepted
            } finally {
                membership.close();
                membership = null;
                drop(List.copyOf(assignment));
            }
        }
    }

    private long topicId() {
        if (topicId < 0) {
            topicId = admin.topic(topic).topicId();
        }
        return topicId;
    }

    private void resolve(int partition) {
        OffsetQuery start = pendingStarts.get(partition);
        if (start != null) {
            // Offsets are looked up where the partition is read: the node it routes to runs the fetch role.
            Admin fetchNode = admin.on(router.adminBlockingStub(router.fetchNodeFor(topicId(), partition)));
            positions.put(partition, fetchNode.listOffsets(topic, partition, start).offset());
            pendingStarts.remove(partition);
        }
    }

    private void restartAll(OffsetQuery start) {
        for (int p : assignment) {
            cancel(p);
            positions.remove(p);
            pendingStarts.put(p, start);
        }
    }

    private void requireAssigned(int partition) {
        if (!assignment.contains(partition)) {
            throw new IllegalStateException("partition " + partition + " of '" + topic + "' is not assigned");
        }
    }
}
