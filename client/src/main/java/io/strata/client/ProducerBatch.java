package io.strata.client;

import io.strata.api.v1.Record;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Records for one partition that travel as one entry of a ProduceRequest, with the future of each. Its
 * fields are guarded by the {@link RecordAccumulator}'s lock until it is drained; after that only the
 * thread completing its request touches it.
 */
final class ProducerBatch {
    final String topic;
    final int partition;
    final List<Record> records = new ArrayList<>();
    final List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
    /** Completes (never exceptionally) once every record's future is completed, whatever the outcome. */
    final CompletableFuture<Void> done = new CompletableFuture<>();
    int bytes;
    /** The buffer permits its records hold, given back when it is done. */
    int permits;
    boolean lingered;

    ProducerBatch(String topic, int partition) {
        this.topic = topic;
        this.partition = partition;
    }

    void add(Record record, int size, int acquired, CompletableFuture<RecordMetadata> future) {
        records.add(record);
        futures.add(future);
        bytes += size;
        permits += acquired;
    }

    boolean isFull(int maxBatchBytes) {
        return bytes >= maxBatchBytes;
    }

    /** Record i got offset baseOffset + i, as the node assigns offsets of one entry consecutively. */
    void complete(long baseOffset) {
        for (int i = 0; i < futures.size(); i++) {
            futures.get(i).complete(new RecordMetadata(topic, partition, baseOffset < 0 ? -1 : baseOffset + i));
        }
        done.complete(null);
    }

    void fail(Throwable failure) {
        futures.forEach(f -> f.completeExceptionally(failure));
        done.complete(null);
    }
}
