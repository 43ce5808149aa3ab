package io.strata.client;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.Acks;
import io.strata.api.v1.InitProducerRequest;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.format.LogRecord;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends records in batches: a partition's records wait up to the linger for company, then go as record
 * batches the producer encodes and compresses itself (so a node stores them without compressing again),
 * together with the other partitions' ready batches in one ProduceRequest with durable acks. Every batch
 * names its partition, chosen here (the key's murmur2 hash, or a sticky partition for records without
 * key), so each record's offset is known from its batch's base offset. A partition has one request in
 * flight at a time (carrying every batch of it that is ready), which keeps its records in send order even
 * across retries.
 *
 * <p>Idempotence (on by default): the producer takes an id from InitProducer and numbers each partition's
 * records; a request that gRPC retries after a lost answer is stored once. When a batch fails for good,
 * the producer takes a new id and numbers afresh, so later batches never wait on a gap.
 *
 * <p>Thread-safe. It owns one thread, "strata-producer-N", which fires linger timers, compresses batches
 * and sends requests; requests complete on gRPC's threads, which also complete the record futures, so
 * callbacks on them should not block. Made and closed by {@link StrataClient}, or closed earlier by its user.
 */
public final class Producer implements AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();

    private final IngestRouter router;
    private final PartitionCounts partitionCounts;
    private final ProducerConfig config;
    private final Duration deadline;
    private final RecordAccumulator accumulator;
    private final Semaphore buffer;
    private final ScheduledExecutorService sender;
    /** Tells the client that made this producer that it no longer needs closing. */
    private final java.util.function.Consumer<Producer> onClose;
    private volatile boolean closed;
    // Idempotence state: touched by the sender thread only.
    private long producerId;
    private final Map<String, Long> nextSequences = new HashMap<>();

    Producer(IngestRouter router, Admin admin, ProducerConfig config, Duration deadline,
             java.util.function.Consumer<Producer> onClose) {
        this.router = router;
        this.partitionCounts = new PartitionCounts(admin);
        this.config = config;
        this.deadline = deadline;
        this.accumulator = new RecordAccumulator(config);
        this.buffer = new Semaphore(config.bufferBytes());
        this.onClose = onClose;
        String name = "strata-producer-" + IDS.incrementAndGet();
        this.sender = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    public CompletableFuture<RecordMetadata> send(String topic, Integer partition, byte[] key, byte[] value) {
        return send(topic, partition, key, value, List.of(), 0);
    }

    /**
     * Buffers one record. {@code partition} null: the key's partition, or for a null key a sticky one; the
     * first send to a topic without a partition blocks to learn the topic's partition count. Blocks while
     * {@link ProducerConfig#bufferBytes()} are taken. {@code timestampMs} 0: now.
     *
     * @return completes with where the record was stored, or fails with a {@link StrataException}
     *         (or IllegalArgumentException / IllegalStateException for a bad argument or a closed producer)
     */
    public CompletableFuture<RecordMetadata> send(String topic, Integer partition, byte[] key, byte[] value,
                                                  List<RecordHeader> headers, long timestampMs) {
        CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
        try {
            if (closed) {
                throw new IllegalStateException("the producer is closed");
            }
            if (topic == null || topic.isEmpty() || (partition != null && partition < 0) || timestampMs < 0) {
                throw new IllegalArgumentException("a record needs a topic, a partition >= 0 and a timestamp >= 0, got '"
                        + topic + "', " + partition + " and " + timestampMs);
            }
            LogRecord record = new LogRecord(key, Objects.requireNonNull(value, "value"),
                    headers.stream().map(h -> new io.strata.format.RecordHeader(h.key(), h.value())).toList(),
                    timestampMs == 0 ? System.currentTimeMillis() : timestampMs);
            int target;
            int partitionCount = 0;
            if (partition != null) {
                target = partition;
            } else {
                partitionCount = partitionCounts.of(topic);
                target = key != null ? KeyPartitioner.partition(key, partitionCount) : RecordAccumulator.STICKY;
            }
            int size = record.encodedSizeUpperBound();
            // A record larger than the whole buffer takes all of it rather than waiting forever.
            int permits = Math.min(size, config.bufferBytes());
            buffer.acquire(permits);
            RecordAccumulator.Appended appended =
                    accumulator.append(topic, target, partitionCount, record, size, permits, result);
            boolean ready = appended.ready();
            ProducerBatch created = appended.created();
            if (created != null && !created.lingered) {
                try {
                    sender.schedule(() -> onLingerExpired(created), config.linger().toNanos(), TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException e) {
                    // Closed while this send was under way: the record is buffered already, so it goes now.
                    accumulator.lingerExpired(created);
                    ready = true;
                }
            }
            if (ready) {
                wakeSender();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result.completeExceptionally(e);
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    /**
     * Sends everything buffered now and waits until every record sent before this call is answered (its
     * future completed). Not to be called from a callback of a record's future, which would wait for itself.
     */
    public void flush() {
        List<CompletableFuture<Void>> pending = accumulator.beginFlush();
        try {
            wakeSender();
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        } finally {
            accumulator.endFlush();
        }
    }

    /** Refuses new records, waits until every buffered record is answered, and stops the sender thread. */
    @Override
    public void close() {
        closed = true;
        try {
            flush();
        } finally {
            sender.shutdownNow();
            onClose.accept(this);
        }
    }

    private void onLingerExpired(ProducerBatch batch) {
        accumulator.lingerExpired(batch);
        sendReady();
    }

    private void wakeSender() {
        try {
            sender.execute(this::sendReady);
        } catch (RejectedExecutionException e) {
            sendReady(); // closing: the caller's thread sends what is left
        }
    }

    /**
     * Runs on the sender thread: drains every ready batch and sends one request to each ingest node that
     * owns some of their partitions.
     */
    private void sendReady() {
        for (List<ProducerBatch> batches = accumulator.drainReady(); !batches.isEmpty();
             batches = accumulator.drainReady()) {
            Map<String, List<ProducerBatch>> byNode = new java.util.LinkedHashMap<>();
            for (ProducerBatch batch : batches) {
                String node;
                try {
                    node = router.nodeFor(partitionCounts.topic(batch.topic).topicId(), batch.partition);
                } catch (RuntimeException e) {
                    node = router.bootstrap(); // the topic's id is unknown (it may be gone): the bootstrap node answers why
                }
                byNode.computeIfAbsent(node, n -> new java.util.ArrayList<>()).add(batch);
            }
            byNode.forEach(this::sendRequest);
        }
    }

    private void sendRequest(String node, List<ProducerBatch> batches) {
        ProduceRequest.Builder request = ProduceRequest.newBuilder().setAcks(Acks.ACKS_DURABLE);
        try {
            if (config.idempotent()) {
                if (producerId == 0) {
                    producerId = router.producerBlockingStub(node)
                            .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                            .initProducer(InitProducerRequest.getDefaultInstance()).getProducerId();
                }
                request.setProducerId(producerId);
            }
            for (ProducerBatch batch : batches) {
                TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(batch.topic)
                        .setPartition(batch.partition)
                        .setBatch(UnsafeByteOperations.unsafeWrap(batch.records.build(config.compressionLevel())));
                if (config.idempotent()) {
                    String tp = batch.topic + "/" + batch.partition;
                    long sequence = nextSequences.getOrDefault(tp, 0L);
                    nextSequences.put(tp, sequence + batch.recordCount());
                    entry.setBaseSequence(sequence);
                }
                request.addEntries(entry);
            }
            router.producerStub(node).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                    .produce(request.build(), observer(node, batches));
        } catch (RuntimeException e) {
            // No future may be left hanging, even if the call could not be started.
            batches.forEach(b -> b.fail(StrataException.from(e)));
            finish(batches, true);
        }
    }

    private StreamObserver<ProduceResponse> observer(String node, List<ProducerBatch> batches) {
        return new StreamObserver<>() {
            private ProduceResponse response;

            @Override
            public void onNext(ProduceResponse value) {
                response = value;
            }

            @Override
            public void onError(Throwable t) {
                StrataException failure = StrataException.from(t);
                if (failure.unreachable() || failure.code() == Status.Code.UNAVAILABLE) {
                    router.markDown(node);
                }
                if (failure.code() == Status.Code.NOT_FOUND) {
                    batches.forEach(b -> partitionCounts.forget(b.topic));
                }
                batches.forEach(b -> b.fail(failure));
                finish(batches, true);
            }

            @Override
            public void onCompleted() {
                finish(batches, !completeAll(batches, response));
            }
        };
    }

    /**
     * The request is answered: give its buffer back and let its partitions send again. After a failure an
     * idempotent producer starts a new id first (on the sender thread, before anything else is sent), since
     * the failed batch may or may not be stored and its sequences cannot be reused safely.
     */
    private void finish(List<ProducerBatch> batches, boolean failed) {
        if (failed && config.idempotent()) {
            runOnSender(() -> {
                producerId = 0;
                nextSequences.clear();
            });
        }
        accumulator.completed(batches);
        buffer.release(batches.stream().mapToInt(b -> b.permits).sum());
        runOnSender(this::sendReady);
    }

    private void runOnSender(Runnable task) {
        try {
            sender.execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    /**
     * Entry i of the request was batch i; each entry named one partition, so it has exactly one append.
     * Answers whether every batch was stored.
     */
    private static boolean completeAll(List<ProducerBatch> batches, ProduceResponse response) {
        Map<Integer, PartitionAppend> byEntry = new HashMap<>();
        for (PartitionAppend append : response == null ? List.<PartitionAppend>of() : response.getAppendsList()) {
            byEntry.put(append.getEntryIndex(), append);
        }
        boolean allStored = true;
        for (int i = 0; i < batches.size(); i++) {
            ProducerBatch batch = batches.get(i);
            PartitionAppend append = byEntry.get(i);
            if (append == null || append.getPartition() != batch.partition
                    || append.getRecordCount() != batch.recordCount()) {
                batch.fail(new StrataException(Status.Code.INTERNAL, "the node's answer does not account for the "
                        + batch.recordCount() + " records sent to " + batch.topic + "/" + batch.partition
                        + " as entry " + i));
                allStored = false;
            } else if (append.hasError()) {
                batch.fail(new StrataException(Status.fromCodeValue(append.getError().getCode()).getCode(),
                        append.getError().getMessage()));
                allStored = false;
            } else {
                batch.complete(append.getBaseOffset());
            }
        }
        return allStored;
    }
}
