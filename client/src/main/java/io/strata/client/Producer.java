package io.strata.client;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.Acks;
import io.strata.api.v1.Header;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc.ProducerServiceStub;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
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
 * Sends records in batches: a partition's records wait up to the linger for company, then go as one entry
 * of a ProduceRequest (durable acks) together with the other partitions' ready batches. Every entry names
 * its partition, chosen here (the key's murmur2 hash, or a sticky partition for records without key), so
 * each record's offset is known from its entry's base offset. A partition has one request in flight at a
 * time, which keeps its records in send order even across retries.
 *
 * <p>Thread-safe. It owns one thread, "strata-producer-linger-N", which only fires linger timers; requests
 * complete on gRPC's threads, which also complete the record futures, so callbacks on them should not block.
 * Made and closed by {@link StrataClient}, or closed earlier by its user.
 */
public final class Producer implements AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();

    private final ProducerServiceStub stub;
    private final PartitionCounts partitionCounts;
    private final ProducerConfig config;
    private final Duration deadline;
    private final RecordAccumulator accumulator;
    private final Semaphore buffer;
    private final ScheduledExecutorService lingerTimer;
    /** Tells the client that made this producer that it no longer needs closing. */
    private final java.util.function.Consumer<Producer> onClose;
    private volatile boolean closed;

    Producer(ProducerServiceStub stub, Admin admin, ProducerConfig config, Duration deadline,
             java.util.function.Consumer<Producer> onClose) {
        this.stub = stub;
        this.partitionCounts = new PartitionCounts(admin);
        this.config = config;
        this.deadline = deadline;
        this.accumulator = new RecordAccumulator(config);
        this.buffer = new Semaphore(config.bufferBytes());
        this.onClose = onClose;
        String name = "strata-producer-linger-" + IDS.incrementAndGet();
        this.lingerTimer = Executors.newSingleThreadScheduledExecutor(r -> {
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
     * {@link ProducerConfig#bufferBytes()} are taken. {@code timestampMs} 0: the node's clock.
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
            if (topic == null || topic.isEmpty() || (partition != null && partition < 0)) {
                throw new IllegalArgumentException("a record needs a topic and a partition >= 0, got '" + topic
                        + "' and " + partition);
            }
            Record record = toRecord(key, Objects.requireNonNull(value, "value"), headers, timestampMs);
            int target;
            int partitionCount = 0;
            if (partition != null) {
                target = partition;
            } else {
                partitionCount = partitionCounts.of(topic);
                target = key != null ? KeyPartitioner.partition(key, partitionCount) : RecordAccumulator.STICKY;
            }
            int size = record.getSerializedSize();
            // A record larger than the whole buffer takes all of it rather than waiting forever.
            int permits = Math.min(size, config.bufferBytes());
            buffer.acquire(permits);
            RecordAccumulator.Appended appended =
                    accumulator.append(topic, target, partitionCount, record, size, permits, result);
            boolean ready = appended.ready();
            ProducerBatch created = appended.created();
            if (created != null && !created.lingered) {
                try {
                    lingerTimer.schedule(() -> onLingerExpired(created), config.linger().toNanos(),
                            TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException e) {
                    // Closed while this send was under way: the record is buffered already, so send it now.
                    accumulator.lingerExpired(created);
                    ready = true;
                }
            }
            if (ready) {
                sendReady();
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
            sendReady();
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        } finally {
            accumulator.endFlush();
        }
    }

    /** Refuses new records, waits until every buffered record is answered, and stops the linger thread. */
    @Override
    public void close() {
        closed = true;
        try {
            flush();
        } finally {
            lingerTimer.shutdownNow();
            onClose.accept(this);
        }
    }

    private void onLingerExpired(ProducerBatch batch) {
        accumulator.lingerExpired(batch);
        sendReady();
    }

    private void sendReady() {
        for (List<ProducerBatch> batches = accumulator.drainReady(); !batches.isEmpty();
             batches = accumulator.drainReady()) {
            sendRequest(batches);
        }
    }

    private void sendRequest(List<ProducerBatch> batches) {
        ProduceRequest.Builder request = ProduceRequest.newBuilder().setAcks(Acks.ACKS_DURABLE);
        for (ProducerBatch batch : batches) {
            request.addEntries(TopicPartitionRecords.newBuilder().setTopic(batch.topic)
                    .setPartition(batch.partition).addAllRecords(batch.records));
        }
        try {
            stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                    .produce(request.build(), observer(batches));
        } catch (RuntimeException e) {
            // No future may be left hanging, even if the call could not be started.
            batches.forEach(b -> b.fail(StrataException.from(e)));
            finish(batches);
        }
    }

    private StreamObserver<ProduceResponse> observer(List<ProducerBatch> batches) {
        return new StreamObserver<>() {
            private ProduceResponse response;

            @Override
            public void onNext(ProduceResponse value) {
                response = value;
            }

            @Override
            public void onError(Throwable t) {
                StrataException failure = StrataException.from(t);
                if (failure.code() == Status.Code.NOT_FOUND) {
                    batches.forEach(b -> partitionCounts.forget(b.topic));
                }
                batches.forEach(b -> b.fail(failure));
                finish(batches);
            }

            @Override
            public void onCompleted() {
                completeAll(batches, response);
                finish(batches);
            }
        };
    }

    private void finish(List<ProducerBatch> batches) {
        accumulator.completed(batches);
        buffer.release(batches.stream().mapToInt(b -> b.permits).sum());
        sendReady();
    }

    /** Entry i of the request was batch i; each entry named one partition, so it has exactly one append. */
    private static void completeAll(List<ProducerBatch> batches, ProduceResponse response) {
        Map<Integer, PartitionAppend> byEntry = new HashMap<>();
        for (PartitionAppend append : response == null ? List.<PartitionAppend>of() : response.getAppendsList()) {
            byEntry.put(append.getEntryIndex(), append);
        }
        for (int i = 0; i < batches.size(); i++) {
            ProducerBatch batch = batches.get(i);
            PartitionAppend append = byEntry.get(i);
            if (append == null || append.getPartition() != batch.partition
                    || append.getRecordCount() != batch.records.size()) {
                batch.fail(new StrataException(Status.Code.INTERNAL, "the node's answer does not account for the "
                        + batch.records.size() + " records sent to " + batch.topic + "/" + batch.partition
                        + " as entry " + i));
            } else {
                batch.complete(append.getBaseOffset());
            }
        }
    }

    private static Record toRecord(byte[] key, byte[] value, List<RecordHeader> headers, long timestampMs) {
        Record.Builder record = Record.newBuilder().setValue(ByteString.copyFrom(value)).setTimestampMs(timestampMs);
        if (key != null) {
            record.setKey(ByteString.copyFrom(key));
        }
        for (RecordHeader h : headers) {
            record.addHeaders(Header.newBuilder().setKey(h.key()).setValue(ByteString.copyFrom(h.value())));
        }
        return record.build();
    }
}
