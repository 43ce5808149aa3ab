package io.strata.fetch.share;

import com.google.protobuf.ByteString;
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
import java.nio.charset.StandardCharsets;
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
    static final String PREFIX = "strata.dlq.";
    /** Single-record batches per request: fewer than the ingest path's retry window, so a retry is recognised. */
    static final int BATCHES = 16;
    private static final long RETRY_FIRST_MS = 1_000;
    private static final long RETRY_MOST_MS = 30_000;

    private final FetchHandler fetch;
    private final GroupPolicies policies;
    private final RecordAppender appender;
    private final ScheduledExecutorService timer;
    private final Executor work;
    private SharePartitions partitions;
    /** Partitions being driven: true when asked again meanwhile (another round follows). */
    private final Map<SharePartitions.Key, Boolean> running = new ConcurrentHashMap<>();
    private final LongAdder written = new LongAdder();

    DeadLetters(FetchHandler fetch, GroupPolicies policies, RecordAppender appender, ScheduledExecutorService timer,
                Executor work) {
        this.fetch = fetch;
        this.policies = policies;
        this.appender = appender;
        this.timer = timer;
        this.work = work;
    }

    void use(SharePartitions partitions) {
        this.partitions = partitions;
    }

    /** Dead-letter copies written (each record once, however many times it was sent). */
    long written() {
        return written.sum();
    }

    /** The partition has records waiting for their copy: write them (at once, or after the round under way). */
    void wake(SharePartitions.Key key) {
        if (running.put(key, Boolean.FALSE) == null) {
            work.execute(() -> drive(key, RETRY_FIRST_MS));
        } else {
            running.put(key, Boolean.TRUE);
        }
    }

    private void drive(SharePartitions.Key key, long retryMs) {
        running.put(key, Boolean.FALSE);
        round(key).whenComplete((more, failure) -> {
            if (failure != null) {
                LOG.warn("dead-letter copies of share group {} partition {} of {}: {} (trying again in {} ms)",
                        key.group(), key.partition(), key.topic(), rootMessage(failure), retryMs);
                timer.schedule(() -> work.execute(() -> drive(key, Math.min(RETRY_MOST_MS, retryMs * 2))), retryMs,
                        TimeUnit.MILLISECONDS);
            } else if (more || running.get(key) == Boolean.TRUE) {
                work.execute(() -> drive(key, RETRY_FIRST_MS));
            } else if (!running.remove(key, Boolean.FALSE)) {
                work.execute(() -> drive(key, RETRY_FIRST_MS)); // woken between the check and the removal
            }
        });
    }

    /** What a round found in the state: the records waiting, and the writer. */
    private record Waiting(List<StateRun> runs, SharePartition.DeadLetterWriter writer) {
    }

    /** One step; answers whether there is more to do at once. */
    private CompletableFuture<Boolean> round(SharePartitions.Key key) {
        return policies.of(key.group()).thenCompose(group -> partitions.apply(key, group.policy(), () -> 0,
                        state -> new Waiting(state.deadLettering(), state.deadLetterWriter()))
                .thenCompose(waiting -> {
                    if (waiting.runs().isEmpty()) {
                        return CompletableFuture.completedFuture(false);
                    }
                    if (group.deadLetterTopic().isEmpty()) {
                        // The group no longer names a topic: the records are archived without a copy.
                        return partitions.apply(key, group.policy(), () -> 0, state -> {
                            waiting.runs().forEach(r -> state.deadLettered(r.first(), r.last()));
                            return false;
                        });
                    }
                    return fetch.partitionCount(group.deadLetterTopic()).thenCompose(count -> {
                        int target = key.partition() % count;
                        SharePartition.DeadLetterWriter w = waiting.writer();
                        if (w == null || !w.topic().equals(group.deadLetterTopic()) || w.partition() != target) {
                            return newWriter(key, group, w, group.deadLetterTopic(), target);
                        }
                        return write(key, group, waiting, w);
                    });
                }));
    }

    /** Installs a new producer as the partition's writer, unless another node did meanwhile. */
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
        // The first BATCHES offsets in sequence order, run by run.
        List<long[]> offsets = new ArrayList<>(); // {offset, sequence}
        Map<Long, StateRun> runOf = new HashMap<>();
        for (StateRun r : waiting.runs()) {
            for (long o = r.first(); o <= r.last() && offsets.size() < BATCHES; o++) {
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
            for (long[] o : offsets) {
                if (o[0] >= read.readTo()) {
                    break; // this node cannot read it yet: later, and nothing after it (the sequence would gap)
                }
                request.addEntries(TopicPartitionRecords.newBuilder().setTopic(w.topic()).setPartition(w.partition())
                        .setBaseSequence(o[1]).addRecords(copy(key, runOf.get(o[0]), o[0], records.get(o[0]))));
                sent.add(o);
            }
            if (sent.isEmpty()) {
                return CompletableFuture.failedFuture(new IllegalStateException("offset " + lowest
                        + " is not readable on this node yet"));
            }
            return appender.append(request.build()).thenCompose(response -> {
                List<long[]> stored = new ArrayList<>();
                boolean producerLost = false;
                for (int i = 0; i < sent.size(); i++) {
                    PartitionAppend a = appendFor(response, i);
                    int code = a == null || !a.hasError() ? 0 : a.getError().getCode();
                    if (a != null && (code == 0 || code == io.grpc.Status.Code.ALREADY_EXISTS.value())) {
                        stored.add(sent.get(i)); // stored now, before (a retry), or long before (stale)
                    } else if (code == io.grpc.Status.Code.ABORTED.value()
                            || code == io.grpc.Status.Code.FAILED_PRECONDITION.value()) {
                        producerLost = true; // its state expired, or numbers before went missing: start afresh
                        break;
                    } else {
                        break;
                    }
                }
                boolean lost = producerLost;
                written.add(stored.size());
                CompletableFuture<Boolean> marked = stored.isEmpty() ? CompletableFuture.completedFuture(true)
                        : partitions.apply(key, group.policy(), () -> 0, state -> {
                            stored.forEach(o -> state.deadLettered(o[0], o[0]));
                            return true;
                        });
                if (lost) {
                    return marked.thenCompose(v -> newWriter(key, group, w, w.topic(), w.partition()));
                }
                if (stored.size() < sent.size()) {
                    return marked.thenCompose(v -> CompletableFuture.failedFuture(new IllegalStateException(
                            "the dead-letter topic " + w.topic() + " refused a copy: " + describe(response))));
                }
                return marked;
            });
        });
    }

    private static PartitionAppend appendFor(io.strata.api.v1.ProduceResponse response, int entry) {
        return response.getAppendsList().stream().filter(a -> a.getEntryIndex() == entry).findFirst().orElse(null);
    }

    private static String describe(io.strata.api.v1.ProduceResponse response) {
        return response.getAppendsList().stream().filter(PartitionAppend::hasError)
                .map(a -> a.getError().getMessage()).findFirst().orElse("no answer for it");
    }

    /** The dead-letter record: the original's key, value and headers, and where it came from and why. */
    static Record copy(SharePartitions.Key key, StateRun run, long offset, io.strata.format.LogRecord original) {
        Record.Builder b = Record.newBuilder();
        if (original != null) {
            if (original.key() != null) {
                b.setKey(ByteString.copyFrom(original.key()));
            }
            b.setValue(ByteString.copyFrom(original.value()));
            for (RecordHeader h : original.headers()) {
                b.addHeaders(Header.newBuilder().setKey(h.key()).setValue(ByteString.copyFrom(h.value())));
            }
        }
        header(b, "topic", key.topic());
        header(b, "partition", Integer.toString(key.partition()));
        header(b, "offset", Long.toString(offset));
        header(b, "group", key.group());
        header(b, "delivery-count", Integer.toString(run.deliveries()));
        header(b, "reason", original == null ? "record-removed" : run.reason());
        if (!run.error().isEmpty()) {
            header(b, "error", run.error());
        }
        if (original != null) {
            header(b, "timestamp", Long.toString(original.timestampMs()));
        }
        return b.build();
    }

    private static void header(Record.Builder b, String name, String value) {
        b.addHeaders(Header.newBuilder().setKey(PREFIX + name).setValue(ByteString.copyFrom(value,
                StandardCharsets.UTF_8)));
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
