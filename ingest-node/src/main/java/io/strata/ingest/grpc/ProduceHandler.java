package io.strata.ingest.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.Acks;
import io.strata.api.v1.InitProducerResponse;
import io.strata.api.v1.ProduceError;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.ingest.AppendResult;
import io.strata.ingest.IngestPipeline;
import io.strata.ingest.PartitionBatch;
import io.strata.format.BatchInfo;
import io.strata.format.DeliverAt;
import io.strata.metadata.BatchOutcome;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.format.LogRecord;
import io.strata.format.RecordHeader;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Turns a {@link ProduceRequest} into validated partition batches and the pipeline's answer into a
 * {@link ProduceResponse}. The whole request is checked before any of it is appended, so a request with
 * one bad entry stores nothing. Request errors fail the answer with a {@link StatusRuntimeException}
 * carrying the precise status; storage failures pass through for the gRPC layer to map. Thread-safe.
 */
public final class ProduceHandler {
    private final IngestPipeline pipeline;
    private final TopicCache topics;
    private final ProducerIds producerIds;
    private final Clock clock;
    private final AtomicInteger sticky = new AtomicInteger();
    private final LongAdder duplicateRecords = new LongAdder();
    private final LongAdder refusedRecords = new LongAdder();
    private final LongAdder storedRecords = new LongAdder();
    private final PendingRequests pending;
    private volatile java.util.function.LongConsumer answered = nanos -> { };
    private volatile TransactionalProduce transactions = TransactionalProduce.NONE;

    public ProduceHandler(IngestPipeline pipeline, TopicCache topics, ProducerIds producerIds, Clock clock) {
        this.pipeline = pipeline;
        // Half the buffer: requests read but not yet in the buffer, beside the buffer itself.
        this.pending = new PendingRequests(Math.max(2L * pipeline.settings().maxRequestBytes(),
                pipeline.settings().maxBufferedBytes() / 2));
        this.topics = topics;
        this.producerIds = producerIds;
        this.clock = clock;
    }

    /** Records of idempotent retries answered with the original's offsets instead of being stored again. */
    public long duplicateRecords() {
        return duplicateRecords.sum();
    }

    /** Records of idempotent batches refused for their sequence. */
    public long refusedRecords() {
        return refusedRecords.sum();
    }

    /** Records stored by the produce requests this node answered. */
    public long storedRecords() {
        return storedRecords.sum();
    }

    /** How this node checks that a transactional batch goes to a partition its open transaction added. */
    public void useTransactions(TransactionMembership membership) {
        useTransactions(membership, TransactionCommits.NONE);
    }

    /** As {@link #useTransactions(TransactionMembership)}, and how it commits for requests that carry the commit. */
    public void useTransactions(TransactionMembership membership, TransactionCommits commits) {
        this.transactions = new TransactionalProduce(membership, commits);
    }

    /** The ids this node issues (the node binds them to principals once it knows the cluster's key). */
    public ProducerIds producerIds() {
        return producerIds;
    }

    /** A new producer id, issued to {@code principal}. */
    public CompletableFuture<InitProducerResponse> initProducer(String principal) {
        return producerIds.issue(principal).thenApply(id -> InitProducerResponse.newBuilder().setProducerId(id)
                .setSequenceWindow(io.strata.metadata.ProducerBatch.RETRY_WINDOW).build());
    }

    /**
     * Requests received and not yet admitted, bounded by the buffer's size: a stream reads only while there
     * is room (see {@link ProduceStream}), a unary call that does not fit is refused at once.
     */
    public PendingRequests pending() {
        return pending;
    }

    /** A unary call: refused with RESOURCE_EXHAUSTED at once when the requests waiting for admission fill their bound. */
    public CompletableFuture<ProduceResponse> produce(ProduceRequest request) {
        return produceInOrder(request, null, new CompletableFuture<>()); // bounded and timed as any call
    }

    /**
     * A call whose order against the caller's other calls matters (the Kafka door's pipelined requests of one
     * connection): bounded as a unary call (RESOURCE_EXHAUSTED at once when the requests waiting for admission fill
     * their bound), and {@code admitted} completes once its records are in the open block or it was refused, so
     * the caller can hand over the next one behind it.
     */
    public CompletableFuture<ProduceResponse> produceInOrder(ProduceRequest request, CompletableFuture<Void> admitted) {
        return produceInOrder(request, null, admitted);
    }

    /**
     * As {@link #produceInOrder(ProduceRequest, CompletableFuture)}, for a caller in this process that built some
     * entries' batches itself with {@link io.strata.format.BatchBuilder} from records it checked (the Kafka door):
     * {@code built[i]}, when not null, is entry i's batch header, and the batch is taken without being inflated
     * again to check it. Never for bytes that came from the network as they are.
     */
    public CompletableFuture<ProduceResponse> produceInOrder(ProduceRequest request, BatchInfo[] built,
                                                             CompletableFuture<Void> admitted) {
        if (built != null && built.length != request.getEntriesCount()) {
            throw new IllegalArgumentException("one header per entry");
        }
        long arrived = System.nanoTime();
        long size = heldBytes(request);
        if (!pending.tryTake(size)) {
            admitted.complete(null);
            return CompletableFuture.failedFuture(Status.RESOURCE_EXHAUSTED.withDescription("ingest node has "
                    + pending.used() + " bytes of requests waiting to enter its buffer (the most it holds is "
                    + pending.capacity() + "): retry later, or spread the load over more nodes").asRuntimeException());
        }
        admitted.whenComplete((v, e) -> pending.give(size));
        CompletableFuture<ProduceResponse> answer;
        try {
            answer = produce(request, built, admitted);
        } catch (RuntimeException e) {
            admitted.complete(null);
            throw e;
        }
        if (durable(request)) {
            answer.thenRun(() -> answered.accept(System.nanoTime() - arrived));
        }
        return answer;
    }

    /**
     * What a parsed request holds in memory, as far as the bound on requests waiting for admission counts
     * it: its bytes, and an object's worth per record and header (an empty record is 2 bytes on the wire
     * and tens of bytes parsed).
     */
    static long heldBytes(ProduceRequest request) {
        long held = request.getSerializedSize();
        for (int i = 0; i < request.getEntriesCount(); i++) {
            TopicPartitionRecords entry = request.getEntries(i);
            held += (long) entry.getRecordsCount() * PartitionBatch.RECORD_OBJECT_BYTES;
            for (Record r : entry.getRecordsList()) {
                held += (long) r.getHeadersCount() * PartitionBatch.RECORD_OBJECT_BYTES / 2;
            }
        }
        return held;
    }

    /**
     * Produces a request; {@code admitted} completes once its records are in the open block or it was
     * refused, so a stream can admit its next request behind it and keep the stream's order.
     */
    public CompletableFuture<ProduceResponse> produce(ProduceRequest request, CompletableFuture<Void> admitted) {
        return produce(request, null, admitted);
    }

    private CompletableFuture<ProduceResponse> produce(ProduceRequest request, BatchInfo[] built,
                                                       CompletableFuture<Void> admitted) {
        CompletableFuture<ProduceResponse> answer = admit(request, built, admitted);
        answer.whenComplete((r, e) -> admitted.complete(null)); // every path ends admission
        return answer;
    }

    /**
     * Told, for every request with {@code acks=DURABLE} answered without a failure of the whole request, how
     * long it took from its arrival (read from the call or stream) to its answer: the node's share of what a
     * producer waits, queueing behind a stream's earlier requests and for buffer space included. Refused and
     * invalid requests, answered at once, and acks=NONE requests, answered once buffered, are left out: they
     * would hide the durable path's latency. Must be quick.
     */
    public void answerTimes(java.util.function.LongConsumer listener) {
        this.answered = listener;
    }

    /** Where a stream reports its durable requests' times (see {@link #answerTimes}). */
    public void durableAnswered(long nanos) {
        answered.accept(nanos);
    }

    /** Whether the request's answer waits for its records to be durable (the requests {@link #answerTimes} times). */
    public static boolean durable(ProduceRequest request) {
        return request.getAcks() == Acks.ACKS_DURABLE;
    }

    private CompletableFuture<ProduceResponse> admit(ProduceRequest request, BatchInfo[] built,
                                                     CompletableFuture<Void> admitted) {
        BatchInfo[] batches;
        try {
            batches = ProduceRequestChecks.check(request, built, pipeline.settings(), clock.millis());
        } catch (StatusRuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Map<String, Integer> highestPartition = new LinkedHashMap<>(); // a topic grown elsewhere is re-read
        request.getEntriesList().forEach(e -> highestPartition.merge(e.getTopic(), e.hasPartition() ? e.getPartition() : -1,
                Math::max));
        Map<String, CompletableFuture<Optional<Topic>>> lookups = new LinkedHashMap<>();
        highestPartition.forEach((n, p) -> lookups.put(n, topics.get(n, p)));
        long timeoutMs = request.getTimeoutMs() > 0 ? request.getTimeoutMs()
                : pipeline.settings().produceTimeout().toMillis();
        boolean durable = request.getAcks() == Acks.ACKS_DURABLE;
        long requestId = request.getRequestId(); // the answer needs no more of the request: let it go once admitted
        TransactionalProduce txns = transactions; // one view of the node's transactions for the whole request
        TransactionalProduce.Ending end = TransactionalProduce.Ending.of(request, timeoutMs);
        // Whether the request's transaction goes into its block to be committed with its records (in one write).
        java.util.concurrent.atomic.AtomicBoolean inOneWrite = new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<Boolean> knownProducer = request.getProducerId() == 0
                ? CompletableFuture.completedFuture(true) : producerIds.isIssued(request.getProducerId());
        return CompletableFuture.allOf(lookups.values().toArray(CompletableFuture[]::new))
                .thenCombine(knownProducer, (v, known) -> {
                    if (!known) {
                        // ABORTED, as for a producer whose state expired: the producer starts afresh with a new id.
                        throw Status.ABORTED.withDescription("unknown producer id " + request.getProducerId()
                                + ": ask InitProducer for one").asRuntimeException();
                    }
                    return known;
                })
                .thenCompose(v -> {
                    Map<String, Topic> resolved = new LinkedHashMap<>();
                    lookups.forEach((name, f) -> resolved.put(name, f.join().orElseThrow(() -> Status.NOT_FOUND
                            .withDescription("unknown topic " + io.strata.metadata.InputText.quoted(name)).asRuntimeException())));
                    List<PartitionBatch> toAppend = toBatches(request, resolved, batches);
                    if (request.getProducerEpoch() == 0) {
                        return pipeline.append(toAppend, durable, admitted);
                    }
                    java.util.Set<io.strata.metadata.PartitionId> partitions = new java.util.HashSet<>();
                    toAppend.forEach(b -> partitions.add(b.partition()));
                    return txns.admit(request, partitions)
                            .thenCompose(oneWrite -> {
                                inOneWrite.set(oneWrite != null);
                                return admitted.isDone()
                                    // Answered meanwhile (its timeout): stored now, it would land behind the
                                    // stream's next request, out of sequence.
                                    ? CompletableFuture.<List<AppendResult>>failedFuture(Status.DEADLINE_EXCEEDED
                                            .withDescription("the transaction check outlasted the request's "
                                                    + "timeout; nothing was stored").asRuntimeException())
                                    : pipeline.append(toAppend, durable, admitted, oneWrite);
                            });
                })
                .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                .thenApply(results -> {
                    for (AppendResult r : results) {
                        if (r.duplicate()) {
                            duplicateRecords.add(r.recordCount());
                        } else if (r.refused() != null) {
                            refusedRecords.add(r.recordCount());
                        } else {
                            storedRecords.add(r.recordCount());
                        }
                    }
                    return toResponse(requestId, results, lookups);
                })
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(translate(e, timeoutMs)))
                .thenCompose(response -> end != null ? txns.commitAfter(end, response, inOneWrite.get())
                        : CompletableFuture.completedFuture(response));
    }

    /**
     * Where an entry's records for partition {@code p} go: the partition, its delayed records' staging log, or its
     * half messages' half log.
     */
    private static io.strata.metadata.PartitionId target(Topic topic, int p, TopicPartitionRecords entry) {
        io.strata.metadata.PartitionId pid = topic.partition(p);
        return entry.getHalf() ? pid.half() : entry.getDelayed() ? pid.staging() : pid;
    }

    private List<PartitionBatch> toBatches(ProduceRequest request, Map<String, Topic> resolved, BatchInfo[] encoded) {
        long now = clock.millis();
        List<PartitionBatch> batches = new ArrayList<>();
        for (int i = 0; i < request.getEntriesCount(); i++) {
            TopicPartitionRecords entry = request.getEntries(i);
            Topic topic = resolved.get(entry.getTopic());
            if (entry.hasPartition()) {
                int p = entry.getPartition();
                if (p < 0 || p >= topic.partitions()) {
                    throw ProduceRequestChecks.invalid("partition " + p + " is out of range for topic '"
                            + topic.name() + "' (0.." + (topic.partitions() - 1) + ")");
                }
                if (encoded[i] != null) {
                    batches.add(new PartitionBatch(i, topic.name(), target(topic, p, entry), null,
                            entry.getBatch().asReadOnlyByteBuffer(), encoded[i], request.getProducerId(),
                            entry.getBaseSequence(), request.getProducerEpoch()));
                    continue;
                }
                List<LogRecord> records = new ArrayList<>(entry.getRecordsCount());
                // A delayed record's staging timestamp is its arrival: the staging log's retention counts from it.
                entry.getRecordsList().forEach(r -> records.add(toLogRecord(r, now, arrival(entry))));
                batches.add(new PartitionBatch(i, topic.name(), target(topic, p, entry), records, null, null,
                        request.getProducerId(), entry.getBaseSequence(), request.getProducerEpoch()));
            } else {
                // Keyed records follow their key; unkeyed ones stick together in one partition per entry.
                int stickyPartition = Math.floorMod(sticky.getAndIncrement(), topic.partitions());
                Map<Integer, List<LogRecord>> byPartition = new LinkedHashMap<>();
                for (Record r : entry.getRecordsList()) {
                    int p = r.hasKey() ? Murmur2Partitioner.partition(r.getKey().toByteArray(), topic.partitions())
                            : stickyPartition;
                    byPartition.computeIfAbsent(p, x -> new ArrayList<>()).add(toLogRecord(r, now,
                            arrival(entry)));
                }
                int entryIndex = i;
                byPartition.forEach((p, records) ->
                        batches.add(new PartitionBatch(entryIndex, topic.name(), target(topic, p, entry), records)));
            }
        }
        return batches;
    }

    /** Whether the entry's records wait in a staging log, stamped with their arrival (its retention counts from it). */
    private static boolean arrival(TopicPartitionRecords entry) {
        return entry.getDelayed() || entry.getHalf();
    }

    /** {@code arrival}: the record's timestamp is {@code now} whatever it says (a delayed record's, in staging). */
    private static LogRecord toLogRecord(Record r, long now, boolean arrival) {
        List<RecordHeader> headers = new ArrayList<>(r.getHeadersCount() + 1);
        r.getHeadersList().forEach(h -> headers.add(new RecordHeader(h.getKey(), h.getValue().toByteArray())));
        if (r.getDeliverAtMs() != 0) {
            headers.add(DeliverAt.header(r.getDeliverAtMs())); // the last one counts
        }
        return new LogRecord(r.hasKey() ? r.getKey().toByteArray() : null, r.getValue().toByteArray(), headers,
                arrival || r.getTimestampMs() == 0 ? now : r.getTimestampMs());
    }

    /**
     * The answer of a call. Entries an idempotent producer sent out of sequence carry their error; when every
     * entry was refused, the call itself fails with the first refusal's status, so a one-entry request gets a
     * plain status.
     */
    private static ProduceResponse toResponse(long requestId, List<AppendResult> results,
                                              Map<String, CompletableFuture<Optional<Topic>>> topics) {
        ProduceResponse.Builder response = ProduceResponse.newBuilder().setRequestId(requestId);
        BatchOutcome.Rejected firstRefusal = null;
        boolean anyStored = false;
        for (AppendResult r : results) {
            boolean half = io.strata.format.HalfMessages.isLog(r.partition());
            boolean delayed = !half && (r.partition() & io.strata.metadata.PartitionId.STAGING_BIT) != 0;
            PartitionAppend.Builder append = PartitionAppend.newBuilder().setEntryIndex(r.entryIndex())
                    .setTopic(r.topic()).setPartition(io.strata.format.HalfMessages.target(r.partition()))
                    .setBaseOffset(delayed ? -1 : r.baseOffset()).setDelayed(delayed).setHalf(half)
                    .setRecordCount(r.recordCount()).setLogAppendTimeMs(r.logAppendTimeMs())
                    .setDuplicate(r.duplicate());
            if (half) {
                append.setTopicId(topics.get(r.topic()).join().orElseThrow().topicId());
            }
            if (r.refused() != null) {
                Status status = statusOf(r.refused());
                append.setError(ProduceError.newBuilder().setCode(status.getCode().value())
                        .setMessage(status.getDescription()).setReason(r.refused().reason().name()));
                firstRefusal = firstRefusal == null ? r.refused() : firstRefusal;
            } else {
                anyStored = true;
            }
            response.addAppends(append);
        }
        if (!anyStored && firstRefusal != null) {
            throw io.strata.api.ErrorReason.failure(statusOf(firstRefusal), firstRefusal.reason().name());
        }
        return response.build();
    }

    /**
     * A gap is FAILED_PRECONDITION (send the missing batch first); a batch past sequence 0 of a producer the
     * partition keeps no state of ABORTED (start the producer afresh: retry at a higher level); a stale sequence
     * ALREADY_EXISTS; a topic deleted before the commit NOT_FOUND, as for a topic unknown from the start.
     */
    static Status statusOf(BatchOutcome.Rejected refused) {
        Status status = switch (refused.reason()) {
            case SEQUENCE_GAP -> Status.FAILED_PRECONDITION;
            case UNKNOWN_PRODUCER -> Status.ABORTED;
            case STALE_SEQUENCE -> Status.ALREADY_EXISTS;
            case TOPIC_DELETED -> Status.NOT_FOUND;
            case PRODUCER_FENCED -> Status.FAILED_PRECONDITION; // "producer fenced: ..." (docs/transactions.md)
            case TRANSACTION_NOT_OPEN -> Status.FAILED_PRECONDITION;
        };
        return status.withDescription(refused.message());
    }

    private static Throwable translate(Throwable e, long timeoutMs) {
        Throwable cause = e;
        while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof TimeoutException t) {
            if (t.getMessage() != null && t.getMessage().startsWith("no buffer space")) {
                return Status.RESOURCE_EXHAUSTED.withDescription("ingest node buffer is full: " + t.getMessage())
                        .asRuntimeException();
            }
            return Status.DEADLINE_EXCEEDED.withDescription("produce not acknowledged within " + timeoutMs
                    + " ms; the records may or may not be stored").asRuntimeException();
        }
        if (cause instanceof io.strata.ingest.block.ByteBudget.NeverFits n) {
            // Within the request limit as sent, larger than the node's whole buffer once taken in (records cost
            // more there than on the wire): the same however often it is sent.
            return Status.INVALID_ARGUMENT.withDescription("the request's records would take " + n.bytes()
                    + " bytes in the node's buffer, more than all of it (" + n.capacity() + " bytes, "
                    + "strata.ingest.max-buffered-bytes): send fewer records per request").asRuntimeException();
        }
        if (cause instanceof IllegalStateException s && "ingest node is shutting down".equals(s.getMessage())) {
            return Status.UNAVAILABLE.withDescription(s.getMessage()).asRuntimeException();
        }
        return cause;
    }
}
