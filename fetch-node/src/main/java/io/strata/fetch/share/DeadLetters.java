package io.strata.fetch.share;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.strata.api.v1.Header;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.format.RecordHeader;
import io.strata.metadata.PartitionId;
import io.strata.queues.share.SharePartition;
import io.strata.queues.share.StateRun;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the dead-letter copies of records a share group archived (docs/queues.md, "Dead-letter topics").
 * A record waits in its partition's state as DEAD_LETTERING, numbered in the order it was archived; its copy
 * goes to the group's dead-letter topic (partition: the source partition modulo the topic's partitions) through
 * the ingest path as the partition's idempotent dead-letter producer, with the record's number as its sequence,
 * and only then is the record marked archived. A node that crashes between the two leaves the record waiting;
 * whichever node next holds the partition writes the copy again under the same producer and sequence, and the
 * ingest path stores it once. Copies are written in sequence order, one record per batch (so that a batch
 * written again is always the same batch), up to {@link #BATCHES} per request. Thread-safe.
 */
final class DeadLetters {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);
    static final String PREFIX = io.strata.format.DeadLetterHeaders.PREFIX;
    /** Single-record batches per request: well within the ingest path's retry window, so a retry is recognised. */
    static final int BATCHES = io.strata.metadata.ProducerBatch.RETRY_WINDOW / 2;
    /** Copies' bytes per request, well within a node's request bound (strata.ingest.max-request-bytes). */
    static final long MAX_REQUEST_BYTES = 2L << 20;
    private static final long RETRY_FIRST_MS = 1_000;
    private static final long RETRY_MOST_MS = 30_000;

    private final FetchHandler fetch;
    private final GroupPolicies policies;
    private final RecordAppender appender;
    private final DeadLetterGuard guard;
    private final ScheduledExecutorService timer;
    private final Executor work;
    private SharePartitions partitions;
    /** Partitions being driven: true when woken again meanwhile (another round follows). */
    private final Map<SharePartitions.Key, Boolean> running = new ConcurrentHashMap<>();
    /**
     * Partitions whose copies go one per request (a request of several was refused as too large), until nothing of
     * theirs waits.
     */
    private final java.util.Set<SharePartitions.Key> single = ConcurrentHashMap.newKeySet();
    /** Since when this node has seen a partition's writer aim elsewhere than the group's settings now say. */
    private final Map<SharePartitions.Key, Long> mismatchSince = new ConcurrentHashMap<>();
    private final LongAdder written = new LongAdder();
    private final LongAdder denied = new LongAdder();

    DeadLetters(FetchHandler fetch, GroupPolicies policies, RecordAppender appender, DeadLetterGuard guard,
                ScheduledExecutorService timer, Executor work) {
        this.fetch = fetch;
        this.policies = policies;
        this.appender = appender;
        this.guard = guard;
        this.timer = timer;
        this.work = work;
    }

    void use(SharePartitions partitions) {
        this.partitions = partitions;
    }

    /** Dead-letter copies acknowledged by the ingest path (a copy sent again after a crash may count twice). */
    long written() {
        return written.sum();
    }

    /** Rounds that found copies waiting which who named the dead-letter topic may not have written. */
    long denied() {
        return denied.sum();
    }

    /** The partition has records waiting for their copy: write them (at once, or after the round under way). */
    void wake(SharePartitions.Key key) {
        boolean[] start = {false};
        running.compute(key, (k, v) -> {
            start[0] = v == null;
            return v == null ? Boolean.FALSE : Boolean.TRUE;
        });
        if (start[0]) {
            work.execute(() -> drive(key, RETRY_FIRST_MS));
        }
    }

    private void drive(SharePartitions.Key key, long retryMs) {
        running.put(key, Boolean.FALSE); // wakes from here on ask for another round
        CompletableFuture<Boolean> round;
        try {
            round = round(key);
        } catch (RuntimeException e) {
            round = CompletableFuture.failedFuture(e);
        }
        round.whenComplete((more, failure) -> {
            if (failure != null) {
                LOG.warn("dead-letter copies of share group {} partition {} of {}: {} (trying again in {} ms)",
                        key.group(), key.partition(), key.topic(), rootMessage(failure), retryMs);
                timer.schedule(() -> work.execute(() -> drive(key, Math.min(RETRY_MOST_MS, retryMs * 2))), retryMs,
                        TimeUnit.MILLISECONDS);
                return;
            }
            // Ends the drive unless there is more, or a wake came meanwhile: decided in one step, so no wake is lost.
            boolean again = more || running.compute(key, (k, v) -> v == Boolean.TRUE ? Boolean.FALSE : null) != null;
            if (again) {
                work.execute(() -> drive(key, RETRY_FIRST_MS));
            }
        });
    }

    /** What a round found in the state: the records waiting, and the writer. */
    private record Waiting(List<StateRun> runs, SharePartition.DeadLetterWriter writer) {
    }

    /**
     * One step; answers whether there is more to do at once. The state is read from the store first: another node
     * may have written copies (or replaced the writer) since this one last held the partition.
     */
    private CompletableFuture<Boolean> round(SharePartitions.Key key) {
        return policies.of(key.group()).thenCompose(group -> partitions.apply(key, group.policy(), () -> 0,
                        state -> new Waiting(state.deadLettering(), state.deadLetterWriter()), true)
                .thenComposeAsync(waiting -> {
                    if (waiting.runs().isEmpty()) {
                        mismatchSince.remove(key);
                        single.remove(key);
                        return CompletableFuture.completedFuture(false);
                    }
                    boolean noTopic = group.deadLetterTopic().isEmpty();
                    if (!noTopic && !guard.mayCopy(group.namedBy(), group.namedByGroups(), key.topic(),
                            group.deadLetterTopic())) {
                        // Kept waiting, not archived without a copy: an ACL fixed (or the topic named again by
                        // someone allowed) lets the copies go; the partition's window waits meanwhile.
                        denied.increment();
                        return CompletableFuture.failedFuture(new IllegalStateException((group.namedBy().isEmpty()
                                ? "no one" : group.namedBy()) + ", who named the dead-letter topic "
                                + group.deadLetterTopic() + ", may not consume " + key.topic() + " or produce to "
                                + group.deadLetterTopic() + " (name it again with strata groups alter as a principal "
                                + "who may, or grant the ACLs)"));
                    }
                    if (noTopic) {
                        // Archived without a copy; the next copies start afresh under a new writer.
                        return partitions.apply(key, group.policy(), () -> 0, state -> {
                            state.deadLettering().forEach(r -> state.deadLettered(r.first(), r.last()));
                            state.useDeadLetterWriter(null);
                            return false;
                        });
                    }
                    return fetch.partitionCount(group.deadLetterTopic()).thenCompose(count -> {
                        int target = key.partition() % count;
                        SharePartition.DeadLetterWriter w = waiting.writer();
                        if (w == null) {
                            return newWriter(key, group, null, group.deadLetterTopic(), target);
                        }
                        if (!w.topic().equals(group.deadLetterTopic()) || w.partition() != target) {
                            // Another node may still see the old settings or partition count (each is cached for
                            // a second or two): replace the writer only once this node saw it aim elsewhere for a
                            // while, so that two nodes do not take turns replacing each other's.
                            long since = mismatchSince.computeIfAbsent(key, k -> System.nanoTime());
                            if (System.nanoTime() - since < TimeUnit.SECONDS.toNanos(3)) {
                                return CompletableFuture.failedFuture(new IllegalStateException("the dead-letter "
                                        + "target moved from " + w.topic() + "[" + w.partition() + "] to "
                                        + group.deadLetterTopic() + "[" + target + "]; confirming"));
                            }
                            mismatchSince.remove(key);
                            return newWriter(key, group, w, group.deadLetterTopic(), target);
                        }
                        mismatchSince.remove(key);
                        return write(key, group, waiting, w);
                    });
                }, work));
    }

    /** Installs a new producer as the partition's writer, unless another node changed the writer meanwhile. */
    private CompletableFuture<Boolean> newWriter(SharePartitions.Key key, GroupPolicies.GroupPolicy group,
                                                 SharePartition.DeadLetterWriter replaced, String topic, int target) {
        return appender.newProducerId().thenCompose(id -> partitions.apply(key, group.policy(), () -> 0, state -> {
            if (java.util.Objects.equals(state.deadLetterWriter(), replaced)) {
                state.useDeadLetterWriter(new SharePartition.DeadLetterWriter(id, topic, target));
            }
            return true;
        }));
    }

    private CompletableFuture<Boolean> write(SharePartitions.Key key, GroupPolicies.GroupPolicy group, Waiting waiting,
                                             SharePartition.DeadLetterWriter w) {
        int most = single.contains(key) ? 1 : BATCHES;
        List<long[]> offsets = new ArrayList<>(); // {offset, sequence}, the first ones in sequence order
        Map<Long, StateRun> runOf = new HashMap<>();
        for (StateRun r : waiting.runs()) {
            for (long o = r.first(); o <= r.last() && offsets.size() < most; o++) {
                offsets.add(new long[] {o, r.deadLetterSequence(o)});
                runOf.put(o, r);
            }
        }
        PartitionId source = new PartitionId(key.topicId(), key.partition());
        long lowest = offsets.stream().mapToLong(o -> o[0]).min().orElseThrow();
        long highest = offsets.stream().mapToLong(o -> o[0]).max().orElseThrow();
        return fetch.recordsBetween(source, lowest, highest).thenCompose(read -> {
            Map<Long, io.strata.format.LogRecord> records = new HashMap<>();
            read.records().forEach(r -> records.put(r.offset(), r.record()));
            ProduceRequest.Builder request = ProduceRequest.newBuilder().setTimeoutMs(30_000)
                    .setProducerId(w.producerId());
            List<long[]> sent = new ArrayList<>();
            long bytes = 0;
            for (long[] o : offsets) {
                if (o[0] >= read.readTo()) {
                    break; // this node cannot read it yet: later, and nothing after it (the sequence would gap)
                }
                Record copy = copy(key, runOf.get(o[0]), o[0], records.get(o[0]));
                if (!sent.isEmpty() && bytes + copy.getSerializedSize() > MAX_REQUEST_BYTES) {
                    break;
                }
                bytes += copy.getSerializedSize();
                request.addEntries(entry(w, o[1], copy));
                sent.add(o);
            }
            if (sent.isEmpty()) {
                return CompletableFuture.failedFuture(new IllegalStateException("offset " + lowest
                        + " is not readable on this node yet"));
            }
            return send(key, group, w, sent, request.build(), false, runOf);
        });
    }

    private static TopicPartitionRecords.Builder entry(SharePartition.DeadLetterWriter w, long sequence, Record copy) {
        return TopicPartitionRecords.newBuilder().setTopic(w.topic()).setPartition(w.partition())
                .setBaseSequence(sequence).addRecords(copy);
    }

    /**
     * Sends the copies and settles what the ingest path answered: copies stored (now, before, or long before)
     * are marked archived, provided the writer is still the one they were sent as; a producer the ingest path
     * no longer knows, or a gap in its sequence (records retention removed before their copy), makes way for a
     * new writer; a request refused as too large goes one copy at a time, and a copy too large on its own goes
     * without the record, as {@code record-too-large}.
     */
    private CompletableFuture<Boolean> send(SharePartitions.Key key, GroupPolicies.GroupPolicy group,
                                            SharePartition.DeadLetterWriter w, List<long[]> sent, ProduceRequest request,
                                            boolean stripped, Map<Long, StateRun> runOf) {
        return appender.append(request).handle((response, failure) -> {
            List<long[]> stored = new ArrayList<>();
            Status.Code refusal = null;
            if (failure != null) {
                // A request all of whose entries were refused fails as a whole with their status.
                refusal = Status.fromThrowable(failure).getCode();
                if (refusal == Status.Code.ALREADY_EXISTS) {
                    stored.addAll(sent); // every one stored long before
                    refusal = null;
                } else if (refusal != Status.Code.ABORTED && refusal != Status.Code.FAILED_PRECONDITION
                        && refusal != Status.Code.INVALID_ARGUMENT) {
                    throw new java.util.concurrent.CompletionException(failure);
                }
            } else {
                for (int i = 0; i < sent.size(); i++) {
                    PartitionAppend a = appendFor(response, i);
                    int code = a == null || !a.hasError() ? 0 : a.getError().getCode();
                    if (a != null && (code == 0 || code == Status.Code.ALREADY_EXISTS.value())) {
                        stored.add(sent.get(i)); // stored now, before (a retry), or long before (stale)
                    } else {
                        refusal = a == null ? Status.Code.INTERNAL : Status.Code.values()[Math.min(code,
                                Status.Code.values().length - 1)];
                        break; // what follows a refused copy cannot have been stored (the sequence would gap)
                    }
                }
            }
            return new Object[] {stored, refusal};
        }).thenCompose(settled -> {
            @SuppressWarnings("unchecked")
            List<long[]> stored = (List<long[]>) settled[0];
            Status.Code refusal = (Status.Code) settled[1];
            written.add(stored.size());
            CompletableFuture<Boolean> marked = stored.isEmpty() ? CompletableFuture.completedFuture(true)
                    : partitions.apply(key, group.policy(), () -> 0, state -> {
                        if (java.util.Objects.equals(state.deadLetterWriter(), w)) {
                            stored.forEach(o -> state.deadLettered(o[0], o[0]));
                        }
                        return true;
                    });
            if (refusal == null) {
                return marked;
            }
            if (refusal == Status.Code.ABORTED || refusal == Status.Code.FAILED_PRECONDITION) {
                return marked.thenCompose(v -> newWriter(key, group, w, w.topic(), w.partition()));
            }
            if (refusal == Status.Code.INVALID_ARGUMENT && stored.isEmpty() && sent.size() > 1) {
                single.add(key);
                return CompletableFuture.completedFuture(true);
            }
            if (refusal == Status.Code.INVALID_ARGUMENT && stored.isEmpty() && !stripped) {
                long[] o = sent.get(0);
                Record copy = copy(key, runOf.get(o[0]), o[0], null, "record-too-large");
                ProduceRequest alone = ProduceRequest.newBuilder().setTimeoutMs(30_000).setProducerId(w.producerId())
                        .addEntries(entry(w, o[1], copy)).build();
                return send(key, group, w, List.of(o), alone, true, runOf);
            }
            return marked.thenCompose(v -> CompletableFuture.failedFuture(new IllegalStateException(
                    "the dead-letter topic " + w.topic() + " refused a copy (" + refusal + ")")));
        });
    }
    private static PartitionAppend appendFor(io.strata.api.v1.ProduceResponse response, int entry) {
        return response.getAppendsList().stream().filter(a -> a.getEntryIndex() == entry).findFirst().orElse(null);
    }


    /** The dead-letter record: the original's key, value and headers, and where it came from and why. */
    static Record copy(SharePartitions.Key key, StateRun run, long offset, io.strata.format.LogRecord original) {
        return copy(key, run, offset, original, original == null ? "record-removed" : run.reason());
    }

    /** As above, saying {@code reason} (a copy without its record says why it has none). */
    static Record copy(SharePartitions.Key key, StateRun run, long offset, io.strata.format.LogRecord original,
                       String reason) {
        Record.Builder b = Record.newBuilder();
        if (original != null) {
            if (original.key() != null) {
                b.setKey(ByteString.copyFrom(original.key()));
            }
            b.setValue(ByteString.copyFrom(original.value()));
        }
        for (RecordHeader h : io.strata.format.DeadLetterHeaders.of(original == null ? List.of() : original.headers(),
                key.topic(), key.partition(), offset, key.group(), run.deliveries(), reason, run.error(),
                original == null ? -1 : original.timestampMs())) {
            b.addHeaders(Header.newBuilder().setKey(h.key()).setValue(ByteString.copyFrom(h.value())));
        }
        return b.build();
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
