package io.strata.client;

import io.strata.format.BatchBuilder;
import io.strata.format.ByteArrayPool;
import io.strata.format.LogRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Records for one partition that travel as one record batch (encoded as they are added, compressed when
 * the batch is sent), with the future of each. Its fields are guarded by the {@link RecordAccumulator}'s
 * lock until it is drained; after that only the producer's sender thread and the thread completing its
 * request touch it.
 */
final class ProducerBatch {
    final String topic;
    final int partition;
    final BatchBuilder records;
    final List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
    /** Completes (never exceptionally) once every record's future is completed, whatever the outcome. */
    final CompletableFuture<Void> done = new CompletableFuture<>();
    /** Encoded bytes before compression. */
    int bytes;
    /** The buffer permits its records hold, given back when it is done. */
    int permits;
    boolean lingered;
    // Sending state, touched by the sender thread only.
    /** The sequence of its first record, once numbered for the producer id it was numbered for; -1: not yet. */
    long sequence = -1;
    /** Its place among a partition's batches, taken when it was drained (its records' order): where it retries. */
    long retryKey = -1;
    long producerId;
    /**
     * Sent at least once and not known to be refused: it may be stored under {@code producerId} and
     * {@code sequence}, so it is only ever sent again with them (never renumbered for a new producer id).
     */
    boolean mayBeStored;
    /**
     * An attempt that ended without an answer proving it stored nothing (a broken stream, a timeout) was made:
     * if the node then says it keeps no state of the producer, that attempt may still be stored.
     */
    boolean storedByAnEarlierAttempt;
    int attempts;
    long retryAtNanos;
    /** Past this the batch fails instead of being retried (its delivery timeout from its creation). */
    long deadlineNanos;
    /** A half messages' batch: its topic's id, as the node answered (the messages' ids name it). */
    long topicId;
    /** A transactional producer's batch: the transaction it belongs to (its sequence), from its first drain; 0: none. */
    long txnSequence;

    /**
     * {@code expectedBytes}: where the batch's buffer starts, so that it seldom needs to grow; its buffers
     * come from {@code pool} and go back when the batch is done.
     */
    ProducerBatch(String topic, int partition, int expectedBytes, ByteArrayPool pool) {
        this.topic = topic;
        this.partition = partition;
        this.records = new BatchBuilder(expectedBytes, pool);
    }

    /** The compressed batch, built once: a retry sends the same bytes. */
    java.nio.ByteBuffer encoded;

    java.nio.ByteBuffer encoded(int level) {
        if (encoded == null) {
            encoded = records.build(level);
        }
        return encoded.duplicate();
    }

    void add(LogRecord record, int acquired, CompletableFuture<RecordMetadata> future) {
        bytes += records.append(record);
        futures.add(future);
        permits += acquired;
    }

    int recordCount() {
        return futures.size();
    }

    boolean isFull(int maxBatchBytes) {
        return bytes >= maxBatchBytes;
    }

    /** Whether its records are delayed: its partition is the staging partition of their target's. */
    boolean delayed() {
        return (partition & io.strata.format.DeliverAt.STAGING_BIT) != 0 && !half();
    }

    /** Whether its records are half messages: its partition is the half log of their target's. */
    boolean half() {
        return io.strata.format.HalfMessages.isLog(partition);
    }

    /** The partition its records are for. */
    int target() {
        return io.strata.format.HalfMessages.target(partition);
    }

    /**
     * Stored: its records' futures complete, and its buffers go back to the pool (nothing is resent now). Delayed
     * records have no offset yet (-1).
     */
    void complete(long baseOffset, long topicId) {
        release();
        int target = target();
        boolean half = half();
        for (int i = 0; i < futures.size(); i++) {
            futures.get(i).complete(half ? new RecordMetadata(topic, target, -1,
                    new io.strata.format.HalfMessages.Id(topicId, target, baseOffset + i).toString())
                    : new RecordMetadata(topic, target, baseOffset < 0 ? -1 : baseOffset + i));
        }
        done.complete(null);
    }

    void fail(Throwable failure) {
        release();
        futures.forEach(f -> f.completeExceptionally(failure));
        done.complete(null);
    }

    private void release() {
        encoded = null;
        records.release();
    }
}
