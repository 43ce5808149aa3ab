package io.strata.fetch.share;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.strata.api.v1.Header;
import io.strata.api.v1.ShareAcknowledgeRequest;
import io.strata.api.v1.ShareAcknowledgeResponse;
import io.strata.api.v1.ShareFetchRequest;
import io.strata.api.v1.ShareFetchResponse;
import io.strata.api.v1.SharedRecord;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.IndexView;
import io.strata.format.RecordHeader;
import io.strata.metadata.PartitionId;
import io.strata.metadata.group.GroupSettingsStore;
import io.strata.metadata.share.ShareStateStore;
import io.strata.queues.share.SharePartition;
import io.strata.queues.share.SharePolicy;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Share groups on the fetch path (docs/queues.md): hands members records they acquire, and takes their answers.
 * Decisions are {@link SharePartition}'s, stored by {@link SharePartitions} before anyone hears of them; the
 * records themselves are read as any fetch reads them. A share group starts at each partition's log start (a
 * queue's backlog is its work). Thread-safe.
 */
public final class ShareHandler {
    static final int DEFAULT_MAX_RECORDS = 500;
    static final int MAX_RECORDS = 10_000;
    static final long MAX_WAIT_MS = 30_000;
    /** The most offsets one ack may name (more than any window holds). */
    /**
     * The longest a fetch that found nothing waits before it looks again, unless new records, a decision of this
     * node about its partitions, or the next lock or back-off to run out wake it first. What other nodes decide
     * (a member acknowledging through another node) is seen at the first look after {@link #RESYNC_IDLE_MS}, or
     * at once when this node's next decision about the partition finds its state moved.
     */
    private static final long RECHECK_MS = 500;
    /**
     * How long a partition's state may be held unchanged before a fetch that finds nothing in it reads it again:
     * an idle member's polls cost the store a read per partition this often at most.
     */
    public static final long RESYNC_IDLE_MS = 5_000;

    private final FetchHandler fetch;
    private final IndexView index;
    private final SharePartitions partitions;
    private final GroupPolicies policies;
    private final DeadLetters deadLetters;
    private final ShareAcknowledgements acknowledgements;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private final Executor work;
    private final java.util.concurrent.atomic.LongAdder delivered = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder redelivered = new java.util.concurrent.atomic.LongAdder();
    private volatile java.util.function.LongConsumer acknowledgedNanos = nanos -> { };
    /** Where each fetch starts among the partitions, so that every partition gets its turn. */
    private final AtomicInteger rotation = new AtomicInteger();

    /**
     * @param defaults  the node's share-group defaults, which groups' own settings override
     * @param appender  where dead-letter copies are written
     * @param guard     whether a group's dead-letter copies may still be written
     * @param timer     only schedules the look-again of a fetch that found nothing, and dead-letter retries; the
     *                  work runs on {@code work}
     * @param decisions where partitions' decisions are taken and stored, one at a time: a single thread that runs
     *                  nothing else slow (reading records runs on {@code work})
     */
    public ShareHandler(FetchHandler fetch, IndexView index, ShareStateStore store, GroupSettingsStore settings,
                        SharePolicy defaults, RecordAppender appender, DeadLetterGuard guard, Clock clock,
                        ScheduledExecutorService timer, Executor work, Executor decisions) {
        this.fetch = fetch;
        this.index = index;
        this.policies = new GroupPolicies(settings, defaults);
        this.deadLetters = new DeadLetters(fetch, policies, appender, guard, timer, work);
        this.partitions = new SharePartitions(store, deadLetters::wake, clock, decisions);
        deadLetters.use(partitions);
        this.acknowledgements = new ShareAcknowledgements(fetch, index, partitions, policies, clock);
        this.clock = clock;
        this.timer = timer;
        this.work = work;
    }

    public CompletableFuture<ShareFetchResponse> shareFetch(ShareFetchRequest request) {
        try {
            check(request.getGroup(), request.getMemberId());
            if (request.getMaxRecords() < 0 || request.getMaxRecords() > MAX_RECORDS || request.getMaxWaitMs() < 0
                    || request.getMaxBytes() < 0) {
                throw Status.INVALID_ARGUMENT.withDescription("max_records is 0 to " + MAX_RECORDS
                        + ", max_wait_ms and max_bytes not negative").asRuntimeException();
            }
        } catch (RuntimeException bad) {
            return CompletableFuture.failedFuture(bad);
        }
        io.strata.queues.filter.RecordFilter filter;
        try {
            filter = request.hasFilter() ? FetchHandler.filter(request.getFilter())
                    : io.strata.queues.filter.RecordFilter.ALL;
        } catch (RuntimeException bad) {
            return CompletableFuture.failedFuture(bad);
        }
        int max = request.getMaxRecords() == 0 ? DEFAULT_MAX_RECORDS : request.getMaxRecords();
        int maxBytes = fetch.maxBytes(request.getMaxBytes());
        long deadline = clock.millis() + Math.min(request.getMaxWaitMs(), MAX_WAIT_MS);
        io.grpc.Context call = io.grpc.Context.current();
        return policies.of(request.getGroup()).thenCompose(group -> allPartitions(request.getTopic(),
                request.getPartitionsList()).thenCompose(pids -> fetchUntil(request, group.policy(), pids, max,
                maxBytes, filter, deadline, call)));
    }

    /**
     * The group was deleted (by this node, which hears of it first): what this node holds of its partitions is
     * dropped, so that its members' next fetch here starts the group afresh rather than after
     * {@link #RESYNC_IDLE_MS}.
     */
    public void groupDeleted(String group) {
        partitions.forgetGroup(group);
    }

    /** Records handed to members by this node (each delivery counts). */
    public long delivered() {
        return delivered.sum();
    }

    /** Deliveries after the first of their record (released, timed out, or their member left). */
    public long redelivered() {
        return redelivered.sum();
    }

    /** Rounds of dead-letter copies held back: who named the topic may not have them written (they wait). */
    public long deadLettersDenied() {
        return deadLetters.denied();
    }

    /** Records copied to dead-letter topics by this node. */
    public long deadLettered() {
        return deadLetters.written();
    }

    /** The partitions asked for (each checked), or every partition of the topic. */
    private CompletableFuture<List<PartitionId>> allPartitions(String topic, List<Integer> asked) {
        CompletableFuture<List<Integer>> numbers = !asked.isEmpty()
                ? CompletableFuture.completedFuture(asked.stream().distinct().toList())
                : fetch.partitionCount(topic).thenApply(n -> java.util.stream.IntStream.range(0, n).boxed().toList());
        return numbers.thenCompose(ps -> {
            List<CompletableFuture<PartitionId>> each = ps.stream().map(p -> fetch.resolve(topic, p)).toList();
            return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                    .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
        });
    }

    private CompletableFuture<ShareFetchResponse> fetchUntil(ShareFetchRequest request, SharePolicy policy,
                                                             List<PartitionId> pids, int max, int maxBytes,
                                                             io.strata.queues.filter.RecordFilter filter,
                                                             long deadline, io.grpc.Context call) {
        int from = Math.floorMod(rotation.getAndIncrement(), pids.size());
        List<PartitionId> order = new ArrayList<>(pids.subList(from, pids.size()));
        order.addAll(pids.subList(0, from));
        if (call.isCancelled()) {
            // The member gave up waiting: take nothing for it (it would stay locked until its lock ran out).
            return CompletableFuture.failedFuture(Status.CANCELLED.withDescription("the caller went away")
                    .asRuntimeException());
        }
        Taken taken = new Taken(max, maxBytes, filter);
        List<SharePartitions.Key> keys = pids.stream().map(pid -> new SharePartitions.Key(request.getGroup(),
                request.getTopic(), pid.topicId(), pid.partition())).toList();
        // Decisions stored from here on wake the wait below, even those that land before it is registered.
        long[] versions = keys.stream().mapToLong(partitions::version).toArray();
        return acquireFrom(request, policy, order, 0, taken).thenCompose(v -> {
            long now = clock.millis();
            if (!taken.records.isEmpty() && call.isCancelled()) {
                // Acquired for a member that went away meanwhile: given back at once, uncounted, rather than
                // locked from everyone until the lock runs out.
                return giveBack(request, policy, pids, taken.records, taken).thenCompose(x -> CompletableFuture
                        .<ShareFetchResponse>failedFuture(Status.CANCELLED.withDescription("the caller went away")
                                .asRuntimeException()));
            }
            if (!taken.records.isEmpty() || now >= deadline) {
                return answer(request, policy, pids, taken, now);
            }
            if (call.isCancelled()) {
                // The member gave up waiting: take nothing more for it (it would stay locked until its lock ran out).
                return CompletableFuture.failedFuture(Status.CANCELLED.withDescription("the caller went away")
                        .asRuntimeException());
            }
            CompletableFuture<ShareFetchResponse> later = new CompletableFuture<>();
            CompletableFuture<Void> woken = partitions.changed(keys);
            if (taken.progressed) {
                woken.complete(null); // records were passed over (filtered out): the next ones may pass, look at once
            }
            for (int k = 0; k < keys.size(); k++) {
                if (partitions.version(keys.get(k)) != versions[k]) {
                    woken.complete(null);
                }
            }
            long wait = Math.min(RECHECK_MS, deadline - now);
            long nextDeadline = partitions.nextDeadlineMs(keys);
            if (nextDeadline > 0) {
                wait = Math.min(wait, nextDeadline - now + 1);
            }
            // Whichever comes first: a decision of this node about these partitions, records past what the acquire
            // saw, the next lock or back-off to run out, or the recheck (what other nodes decided).
            List<CompletableFuture<Boolean>> waiters = new ArrayList<>();
            if (!woken.isDone()) {
                for (PartitionId pid : pids) {
                    Long seen = taken.logEnds.get(pid);
                    if (seen == null) {
                        continue; // its read failed this round: the recheck looks again
                    }
                    CompletableFuture<Boolean> grew = index.awaitBeyond(pid, seen, java.time.Duration.ofMillis(wait));
                    waiters.add(grew);
                    // "Grown" also answers for a partition whose index is not held: only a larger end wakes.
                    grew.thenAccept(g -> {
                        if (g && index.partition(pid).endOffset() > seen) {
                            woken.complete(null);
                        }
                    });
                }
            }
            java.util.concurrent.ScheduledFuture<?> recheck = timer.schedule(() -> woken.complete(null), wait,
                    TimeUnit.MILLISECONDS);
            io.grpc.Context.CancellationListener gone = context -> woken.complete(null); // ends at once, taking nothing
            call.addListener(gone, Runnable::run);
            woken.whenComplete((x, e) -> {
                call.removeListener(gone);
                recheck.cancel(false);
                waiters.forEach(w -> w.complete(false)); // no longer waited for: out of the index's lists
            });
            // The group's policy read again each time round: a long poll does not keep settings a second old. A
            // moment's pause first, so that wakes in quick succession do not spin.
            woken.thenRun(() -> timer.schedule(() -> work.execute(() -> policies.of(request.getGroup())
                    .thenCompose(group -> fetchUntil(request, group.policy(), pids, max, maxBytes, filter, deadline,
                            call))
                    .whenComplete((r, e) -> {
                        if (e != null) {
                            later.completeExceptionally(e);
                        } else {
                            later.complete(r);
                        }
                    })), 2, TimeUnit.MILLISECONDS));
            return later;
        });
    }

    /**
     * The records taken whose locks still run, and how long the member holds them at least from now. A read of
     * many partitions can outlast the lock of the first: those are given back, as of the moment they were
     * acquired (so uncounted, unless a decision about their partition saw the lock run out meanwhile and
     * counted the delivery as failed), and handed out again.
     */
    private CompletableFuture<ShareFetchResponse> answer(ShareFetchRequest request, SharePolicy policy,
                                                         List<PartitionId> pids, Taken taken, long now) {
        long lockMs = policy.lockMs();
        ShareFetchResponse.Builder b = ShareFetchResponse.newBuilder();
        List<SharedRecord> late = new ArrayList<>();
        for (SharedRecord r : taken.records) {
            long ends = taken.lockEndsMs.getOrDefault(r.getPartition(), now + policy.lockMs());
            if (ends > now) {
                b.addRecords(r);
                lockMs = Math.min(lockMs, ends - now);
            } else {
                late.add(r);
            }
        }
        ShareFetchResponse answer = b.setLockMs(lockMs).build();
        return late.isEmpty() ? CompletableFuture.completedFuture(answer)
                : giveBack(request, policy, pids, late, taken).thenApply(x -> answer);
    }

    /**
     * Gives the records back to the group, a decision per partition, as of when they were acquired: uncounted,
     * unless a decision since saw their lock run out (then their delivery counted as failed).
     */
    private CompletableFuture<Void> giveBack(ShareFetchRequest request, SharePolicy policy, List<PartitionId> pids,
                                             List<SharedRecord> records, Taken taken) {
        Map<Integer, List<SharedRecord>> byPartition = new LinkedHashMap<>();
        records.forEach(r -> byPartition.computeIfAbsent(r.getPartition(), p -> new ArrayList<>()).add(r));
        List<CompletableFuture<Void>> given = new ArrayList<>();
        for (PartitionId pid : pids) {
            List<SharedRecord> back = byPartition.get(pid.partition());
            if (back == null) {
                continue;
            }
            SharePartitions.Key key = new SharePartitions.Key(request.getGroup(), request.getTopic(), pid.topicId(),
                    pid.partition());
            long at = taken.acquiredAtMs.getOrDefault(pid.partition(), clock.millis());
            given.add(partitions.apply(key, policy, () -> 0, state -> {
                for (SharedRecord r : back) {
                    // This delivery only: the record may be the member's again by now, handed out anew elsewhere.
                    state.answer(request.getMemberId(), r.getOffset(), r.getOffset(), r.getDeliveryCount(),
                            SharePartition.Answer.GIVE_BACK, -1, null, at);
                }
                return (Void) null;
            }).exceptionally(e -> null)); // not given back: its lock runs out as for a member that died
        }
        return CompletableFuture.allOf(given.toArray(CompletableFuture[]::new));
    }

    /** What one fetch took so far, against its bounds. */
    private static final class Taken {
        final List<SharedRecord> records = new ArrayList<>();
        final int maxRecords;
        final int maxBytes;
        final io.strata.queues.filter.RecordFilter filter;
        /** Each partition's end as the acquire saw it (partitions whose read failed are absent). */
        final Map<PartitionId, Long> logEnds = new java.util.concurrent.ConcurrentHashMap<>();
        /** When the locks of what was acquired in each partition (by number) run out. */
        final Map<Integer, Long> lockEndsMs = new java.util.concurrent.ConcurrentHashMap<>();
        /** When the acquire in each partition (by number) decided. */
        final Map<Integer, Long> acquiredAtMs = new java.util.concurrent.ConcurrentHashMap<>();
        /** Whether records were passed over (accepted undelivered: filtered out, or removed by compaction). */
        volatile boolean progressed;
        long bytes;

        Taken(int maxRecords, int maxBytes, io.strata.queues.filter.RecordFilter filter) {
            this.maxRecords = maxRecords;
            this.maxBytes = maxBytes;
            this.filter = filter;
        }

        int left() {
            return maxRecords - records.size();
        }

        boolean full() {
            return records.size() >= maxRecords || (!records.isEmpty() && bytes >= maxBytes);
        }
    }

    /**
     * Acquires from the partitions in order until the fetch is full, each partition's records read before the
     * next is asked. A partition that fails (its read, a contended store) is passed over, and what was acquired
     * there and cannot be delivered is given back uncounted: one partition never costs the others their turn.
     */
    private CompletableFuture<Void> acquireFrom(ShareFetchRequest request, SharePolicy policy, List<PartitionId> order,
                                                int i, Taken taken) {
        if (i >= order.size() || taken.full()) {
            return CompletableFuture.completedFuture(null);
        }
        PartitionId pid = order.get(i);
        SharePartitions.Key key = new SharePartitions.Key(request.getGroup(), request.getTopic(), pid.topicId(),
                pid.partition());
        // When the acquire decided, and the lock it gave (the policy it decided by: the latest its node knew).
        long[] acquiredAt = new long[2];
        CompletableFuture<Void> one = index.load(pid).thenCompose(v -> {
            long logStart = index.partition(pid).logStartOffset();
            long logEnd = index.partition(pid).endOffset();
            taken.logEnds.put(pid, logEnd);
            long now = clock.millis();
            acquiredAt[0] = now;
            int left = taken.left();
            java.util.function.Function<SharePartition, List<SharePartition.Acquired>> acquire = state -> {
                state.logStartMoved(logStart);
                acquiredAt[1] = state.policy().lockMs();
                return state.acquire(request.getMemberId(), left, logEnd, now);
            };
            // Nothing to take from a state held unchanged for a while: it may have changed elsewhere without
            // this node writing over it (the group deleted, records released on another node); read it again.
            return partitions.apply(key, policy, () -> logStart, acquire).thenCompose(got -> !got.isEmpty()
                    || partitions.msSinceSynced(key) < RESYNC_IDLE_MS ? CompletableFuture.completedFuture(got)
                    : partitions.apply(key, policy, () -> logStart, acquire, true));
        }).thenComposeAsync(acquired -> {
            if (!acquired.isEmpty()) {
                taken.acquiredAtMs.put(pid.partition(), acquiredAt[0]);
                taken.lockEndsMs.put(pid.partition(), acquiredAt[0] + acquiredAt[1]);
            }
            return deliver(request, policy, pid, key, acquired, taken);
        }, work);
        // The next partition on the work executor: a fetch over thousands of partitions does not grow the stack.
        return one.handle((v, failure) -> null)
                .thenComposeAsync(v -> acquireFrom(request, policy, order, i + 1, taken), work);
    }

    /**
     * Reads what was acquired and takes the records into the fetch, within its byte bound. Offsets read but
     * without a record (key compaction removed it), and records the fetch's filter leaves out, are accepted at once
     * for the member, as there is nothing to deliver; offsets past the bound, past what this node could read, or whose read failed are given back
     * uncounted.
     */
    private CompletableFuture<Void> deliver(ShareFetchRequest request, SharePolicy policy, PartitionId pid,
                                            SharePartitions.Key key, List<SharePartition.Acquired> acquired,
                                            Taken taken) {
        if (acquired.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<FetchHandler.RangeRead>> reads = acquired.stream()
                .map(a -> fetch.recordsBetween(pid, a.first(), a.last())).toList();
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).handle((v, failure) -> {
            List<long[]> accept = new ArrayList<>();
            List<long[]> giveBack = new ArrayList<>();
            for (int k = 0; k < acquired.size(); k++) {
                SharePartition.Acquired a = acquired.get(k);
                FetchHandler.RangeRead read = reads.get(k).isCompletedExceptionally() ? null : reads.get(k).join();
                if (read == null) {
                    giveBack.add(new long[] {a.first(), a.last()});
                    continue;
                }
                long expected = a.first();
                for (FetchHandler.OffsetRecord r : read.records()) {
                    if (taken.full()) {
                        break;
                    }
                    if (!FetchHandler.passes(taken.filter, r.record())) {
                        continue; // done for the group: accepted with the gap it stands in
                    }
                    if (r.offset() > expected) {
                        accept.add(new long[] {expected, r.offset() - 1});
                    }
                    SharedRecord shared = shared(pid.partition(), r, a.deliveries());
                    taken.records.add(shared);
                    delivered.increment();
                    if (a.deliveries() > 1) {
                        redelivered.increment();
                    }
                    taken.bytes += shared.getSerializedSize();
                    expected = r.offset() + 1;
                }
                long readTo = Math.min(read.readTo(), a.last() + 1);
                if (!taken.full() && expected < readTo) {
                    accept.add(new long[] {expected, readTo - 1});
                    expected = readTo;
                }
                if (expected <= a.last()) {
                    giveBack.add(new long[] {expected, a.last()});
                }
            }
            return new long[][][] {accept.toArray(long[][]::new), giveBack.toArray(long[][]::new)};
        }).thenCompose(settle -> {
            if (settle[0].length == 0 && settle[1].length == 0) {
                return CompletableFuture.completedFuture(null);
            }
            if (settle[0].length > 0) {
                taken.progressed = true;
            }
            long now = clock.millis();
            return partitions.apply(key, policy, () -> 0, state -> {
                for (long[] r : settle[0]) {
                    state.answer(request.getMemberId(), r[0], r[1], SharePartition.Answer.ACCEPT, -1, null, now);
                }
                for (long[] r : settle[1]) {
                    state.answer(request.getMemberId(), r[0], r[1], SharePartition.Answer.GIVE_BACK, -1, null, now);
                }
                return null;
            });
        });
    }

    /**
     * Told how long each acknowledgement took here, from its arrival until its answers were stored (what the member
     * waits for, less the network and its own process).
     */
    public void onAcknowledged(java.util.function.LongConsumer nanos) {
        this.acknowledgedNanos = nanos;
    }

    public CompletableFuture<ShareAcknowledgeResponse> shareAcknowledge(ShareAcknowledgeRequest request) {
        long start = System.nanoTime();
        return acknowledgements.acknowledge(request).whenComplete((r, e) -> {
            if (e == null) {
                acknowledgedNanos.accept(System.nanoTime() - start);
            }
        });
    }

    static void check(String group, String member) {
        try {
            io.strata.metadata.group.GroupSettings.checkName(group);
        } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
        if (member.isEmpty() || member.length() > 128) {
            throw Status.INVALID_ARGUMENT.withDescription("member_id is 1 to 128 characters, the same on every request")
                    .asRuntimeException();
        }
    }

    /** Wraps the decoded record's arrays, which nothing writes (as FetchHandler's answers do). */
    private static SharedRecord shared(int partition, FetchHandler.OffsetRecord r, int deliveries) {
        SharedRecord.Builder b = SharedRecord.newBuilder().setPartition(partition).setOffset(r.offset())
                .setDeliveryCount(deliveries).setTimestampMs(r.record().timestampMs())
                .setValue(UnsafeByteOperations.unsafeWrap(r.record().value()));
        if (r.record().key() != null) {
            b.setKey(UnsafeByteOperations.unsafeWrap(r.record().key()));
        }
        for (RecordHeader h : r.record().headers()) {
            b.addHeaders(Header.newBuilder().setKey(h.key())
                    .setValue(UnsafeByteOperations.unsafeWrap(h.value())));
        }
        return b.build();
    }
}
