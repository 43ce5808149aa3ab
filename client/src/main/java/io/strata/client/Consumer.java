package io.strata.client;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.strata.api.v1.FetchRequest;
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
 * <p>A node that cannot be reached, or cannot serve now, is passed over ({@link FetchRetries}): a partition's
 * fetches go to the next fetch node in its ranking, and while none can serve (a single fetch node restarting)
 * they are tried again, spaced out, and polls answer what the other partitions have; a poll fails only when a
 * partition has had no answer for a whole deadline of the client. The group's calls move between nodes the same
 * way ({@link GroupSubscription}).
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
    /** Read and written by the polling thread only. */
    private long bytesFetched;
    /** Partitions whose fetch has completed, in completion order (filled on gRPC threads). */
    private final LinkedBlockingQueue<Integer> completed = new LinkedBlockingQueue<>();
    /** Partitions whose fetches failed lately: where and when to try again. */
    private final FetchRetries retries;
    /** A decoded record's key, value and headers from the answer (NodeRouter.answerBytes). */
    private final java.util.function.Function<com.google.protobuf.ByteString, byte[]> bytes;

    /** A fetch out: its answer is due by {@code dueAtNanos} (sent, plus the wait it asked for). */
    private record Pending(long offset, String node, long dueAtNanos, ListenableFuture<FetchedBatch> answer) {
    }

    /** Put on {@link #completed} to wake a waiting poll: the group's assignment changed, or {@link #wakeup}. */
    private static final int WAKE = -1;
    /** Set by {@link #wakeup}: the poll that sees it answers at once. */
    private final java.util.concurrent.atomic.AtomicBoolean wokenUp = new java.util.concurrent.atomic.AtomicBoolean();

    private long topicId = -1;
    /** Non-null once subscribed to a group. */
    private GroupSubscription group;
    private final GroupSubscription.Fetching fetching = new GroupSubscription.Fetching() {
        @Override
        public List<Integer> assignment() {
            return assignment;
        }

        @Override
        public Long position(int partition) {
            return positions.get(partition);
        }

        @Override
        public void add(int partition, long offset) {
            assignment.add(partition);
            positions.put(partition, offset);
        }

        @Override
        public void drop(Collection<Integer> partitions) {
            Consumer.this.drop(partitions);
        }
    };
    /**
     * A fetch failure met while other partitions' records were taken in: those records are returned first
     * (their positions have moved, and a commit of them must not skip records nobody received) and the
     * failure is thrown by the next poll.
     */
    private StrataException deferred;

    Consumer(String topic, NodeRouter router, Admin admin, ConsumerConfig config, Duration deadline) {
        this.topic = topic;
        this.router = router;
        this.admin = admin;
        this.config = config;
        this.deadline = deadline;
        this.retries = new FetchRetries(router, deadline);
        this.bytes = router.answerBytes();
    }

    public String topic() {
        return topic;
    }

    /**
     * This topic read as a member of share group {@code group} instead (docs/queues.md): records of every
     * partition, each acquired by one member at a time and answered on its own. Use the answer, not this
     * consumer, from then on.
     */
    public ShareConsumer share(String group) {
        if (this.group != null || !assignment.isEmpty()) {
            throw new IllegalStateException("a consumer that reads partitions itself or in a consumer group cannot "
                    + "also be a share group's member");
        }
        // A filter (ConsumerConfig.withTags, withFilter) is the group's: records it leaves out are done for it.
        io.strata.api.v1.RecordFilter filter = !config.filtered() ? null : io.strata.api.v1.RecordFilter.newBuilder()
                .addAllTags(config.tags()).setExpression(config.filter()).build();
        return new ShareConsumer(topic, group, router, admin, deadline, ShareConsumer.MAX_RECORDS_PER_FETCH, filter);
    }

    /** Reads these partitions from now on; positions of partitions that stay assigned are kept. */
    public void assign(Collection<Integer> partitions) {
        if (group != null) {
            throw new IllegalStateException("this consumer is in group '" + group.group()
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
        assignment.stream().filter(p -> !next.contains(p)).forEach(retries::forget);
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

    /**
     * The next offset to read from the partition, looked up first if it has no position yet: on its fetch node, or
     * while that cannot answer now, as a fetch is asked again ({@link FetchRetries}).
     *
     * @throws StrataException when the lookup failed as any node would fail it, or no fetch node answered it for
     *                         the client's deadline (up to twice that, when the first node asked hung for it)
     */
    public long position(int partition) {
        requireAssigned(partition);
        if (pendingStarts.containsKey(partition)) {
            retries.call(topicId(), partition, retries.nodeFor(topicId(), partition), node -> {
                resolve(partition, node);
                return null;
            });
        }
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
        if (assignment.isEmpty() && group == null) {
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
        if (group != null) {
            group.autoCommit(fetching);
        }
        while (true) {
            if (wokenUp.getAndSet(false)) {
                return out;
            }
            if (group != null) {
                group.apply(fetching);
            }
            long now = System.nanoTime();
            long waitMs = Math.max(0, TimeUnit.NANOSECONDS.toMillis(until - now));
            long wakeAt = until;
            for (int partition : List.copyOf(assignment)) {
                Long retryAt = retries.retryAtNanos(partition, now);
                if (retryAt != null) {
                    wakeAt = Math.min(wakeAt, retryAt);
                } else if (!pending.containsKey(partition)) {
                    start(partition, Math.min(waitMs, config.longPollCap().toMillis()));
                }
            }
            collect(done, out);
            long left = until - System.nanoTime();
            if (!out.isEmpty() || left <= 0) {
                return out;
            }
            // A fetch that failed just now is tried again within this poll, at once or after its pause.
            long collected = System.nanoTime();
            for (int partition : assignment) {
                if (!pending.containsKey(partition) && retries.failing(partition)) {
                    Long retryAt = retries.retryAtNanos(partition, collected);
                    wakeAt = Math.min(wakeAt, retryAt == null ? collected : retryAt);
                }
            }
            if (group != null && group.retryInMillis() >= 0) {
                wakeAt = Math.min(wakeAt, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(group.retryInMillis()));
            }
            try {
                done = completed.poll(Math.max(0, wakeAt - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (done == null && System.nanoTime() - until >= 0) {
                    return out;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return out;
            }
        }
    }

    /**
     * Makes the poll that is waiting (or else the next poll) answer at once, with the records it has; the
     * only method another thread may call, e.g. to stop a polling loop from a shutdown hook.
     */
    /**
     * Bytes of fetch answers this consumer received so far (their encoding as they crossed the network): with a
     * filter, only what passed it; without, the stored chunks.
     */
    public long bytesFetched() {
        return bytesFetched;
    }

    public void wakeup() {
        wokenUp.set(true);
        completed.add(WAKE);
    }

    /**
     * Sends the partition's fetch to its fetch node, looking its start offset up there first if it has none;
     * a node that cannot do that now is passed over ({@link FetchRetries}).
     */
    private void start(int partition, long waitMs) {
        String node = retries.nodeFor(topicId(), partition);
        long lookedUpAt = System.nanoTime();
        try {
            resolve(partition, node);
        } catch (StrataException e) {
            if (!Transient.is(e)) {
                throw e;
            }
            retries.failed(partition, node, lookedUpAt, e);
            return;
        }
        long position = positions.get(partition);
        FetchRequest.Builder request = FetchRequest.newBuilder().setTopic(topic).setPartition(partition)
                .setOffset(position).setMaxBytes(config.maxBytes())
                .setMaxWaitMs((int) Math.min(Integer.MAX_VALUE, waitMs));
        if (config.readCommitted()) {
            request.setIsolationLevel(io.strata.api.v1.IsolationLevel.ISOLATION_LEVEL_READ_COMMITTED);
        }
        ListenableFuture<FetchedBatch> answer;
        if (config.filtered()) {
            // The node filters decoded records; stored chunks would carry what the filter leaves out.
            request.setFilter(io.strata.api.v1.RecordFilter.newBuilder().addAllTags(config.tags())
                    .setExpression(config.filter()));
            answer = com.google.common.util.concurrent.Futures.transform(router.fetch(node, request.build(),
                    deadline.toMillis() + waitMs), FetchedBatch::of, MoreExecutors.directExecutor());
        } else {
            answer = com.google.common.util.concurrent.Futures.transform(router.fetchChunks(node, request.build(),
                    deadline.toMillis() + waitMs), FetchedBatch::of, MoreExecutors.directExecutor());
        }
        pending.put(partition, new Pending(position, node, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs),
                answer));
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
            FetchedBatch response;
            try {
                response = Futures.getDone(p.answer());
            } catch (java.util.concurrent.ExecutionException e) {
                StrataException f = StrataException.from(e.getCause());
                if (!Transient.is(f)) {
                    retries.forget(partition);
                    if (failure == null) {
                        failure = f;
                    }
                } else {
                    try {
                        retries.failed(partition, p.node(), p.dueAtNanos(), f);
                    } catch (StrataException tooLong) {
                        if (failure == null) {
                            failure = tooLong;
                        }
                    }
                }
                continue;
            }
            retries.forget(partition);
            bytesFetched += response.wireBytes();
            // A partition with more to read gets its next fetch before this answer is decoded, so the node and
            // the network work while this thread inflates (as Kafka's consumer pre-fetches): a catch-up read
            // never waits a round trip between answers. It asks without waiting, as records are there; a
            // partition at its end long-polls from the next poll on, as before. A damaged answer takes it back.
            positions.put(partition, Math.max(position, response.nextOffset()));
            if (response.nextOffset() < response.readableEnd(config.readCommitted())) {
                start(partition, 0);
            }
            try {
                out.addAll(response.decode(topic, partition, position, config.readCommitted(), bytes));
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
        if (this.group != null) {
            throw new IllegalStateException("already in group '" + this.group.group() + "'");
        }
        if (!assignment.isEmpty()) {
            throw new IllegalStateException("partitions were assigned by hand; a consumer either assigns or subscribes");
        }
        topicId(); // an unknown topic fails here, not in the group
        GroupMembership joining = new GroupMembership(group, topic, router, config, deadline,
                () -> completed.add(WAKE));
        joining.join();
        this.group = new GroupSubscription(topic, joining, listener, config, deadline);
    }

    public void subscribe(String group) {
        subscribe(group, RebalanceListener.NONE);
    }

    /** A group member's positions as a transaction commits them: its group, member id, and each one's ownership. */
    record TransactionPositions(String group, String memberId, String topic, Map<Integer, long[]> offsetAndEpoch) {
    }

    /**
     * The positions to commit with a transaction ({@link Producer#sendOffsetsToTransaction}): each partition the
     * consumer owns in its group now, with the epoch of that ownership.
     *
     * @throws IllegalStateException when the consumer is in no group, or does not own a partition
     */
    TransactionPositions transactionPositions(Map<Integer, Long> offsets) {
        if (group == null) {
            throw new IllegalStateException("offsets committed with a transaction are a group's: subscribe first");
        }
        return group.transactionPositions(offsets);
    }

    /** The group's member id of this consumer, or null when it is not in a group. */
    public String memberId() {
        return group == null ? null : group.memberId();
    }

    private void drop(Collection<Integer> partitions) {
        for (int p : partitions) {
            cancel(p);
            assignment.remove(Integer.valueOf(p));
            positions.remove(p);
            pendingStarts.remove(p);
            retries.forget(p);
        }
    }

    /**
     * Commits the positions of every owned partition: the records polled so far count as processed. Throws
     * StrataException: FAILED_PRECONDITION when a partition was revoked (nothing was committed; the next poll
     * tells the listener), NOT_FOUND when the member's session ended.
     */
    public void commitSync() {
        requireGroup().commitSync(fetching);
    }

    /** Commits these offsets (partition → the next offset to read) of owned partitions. */
    public void commitSync(Map<Integer, Long> offsets) {
        requireGroup().commitSync(offsets);
    }

    /**
     * Commits the positions of every owned partition without waiting; {@code callback} gets the offsets and
     * null, or the failure, on a gRPC thread.
     */
    public void commitAsync(java.util.function.BiConsumer<Map<Integer, Long>, StrataException> callback) {
        requireGroup().commitAsync(fetching, callback);
    }

    private GroupSubscription requireGroup() {
        if (group == null) {
            throw new IllegalStateException("commits need a group: subscribe first");
        }
        return group;
    }

    /**
     * Cancels the fetches still out; in a group, commits the positions (when auto-commit is on) and leaves, so
     * the partitions move at once. The consumer can poll again afterwards only without a group.
     */
    @Override
    public void close() {
        List.copyOf(pending.keySet()).forEach(this::cancel);
        completed.clear();
        if (group != null) {
            GroupSubscription leaving = group;
            group = null;
            leaving.close(fetching);
        }
    }

    private long topicId() {
        if (topicId < 0) {
            topicId = admin.topic(topic).topicId();
        }
        return topicId;
    }

    /** Looks the partition's start offset up on {@code node}, if it has none yet. */
    private void resolve(int partition, String node) {
        OffsetQuery start = pendingStarts.get(partition);
        if (start != null) {
            // Offsets are looked up where the partition is read: the node it routes to runs the fetch role.
            positions.put(partition, admin.on(node).listOffsets(topic, partition, start, config.readCommitted())
                    .offset());
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
