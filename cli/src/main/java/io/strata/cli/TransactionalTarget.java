package io.strata.cli;

import io.strata.bench.ProduceTarget;
import io.strata.client.Producer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Recorder;

/**
 * A produce benchmark's transactional producer (docs/transactions.md): its records go in transactions of
 * {@code perTransaction} records each, committed on the sending thread, so a run's throughput pays for every commit
 * as an application's would. Each commit's latency (the flush of the transaction's last records and the commit
 * itself) goes to {@code commits}. Used by one benchmark thread.
 */
final class TransactionalTarget implements ProduceTarget {
    private final Producer producer;
    private final String topic;
    private final int perTransaction;
    private final Recorder commits;
    private int inTransaction;

    TransactionalTarget(Producer producer, String topic, int perTransaction, Recorder commits) {
        if (perTransaction < 1) {
            throw new IllegalArgumentException("a transaction holds at least one record");
        }
        this.producer = producer;
        this.topic = topic;
        this.perTransaction = perTransaction;
        this.commits = commits;
    }

    @Override
    public CompletableFuture<?> send(byte[] value) {
        if (inTransaction == 0) {
            producer.beginTransaction();
        }
        CompletableFuture<?> stored = producer.send(topic, null, null, value);
        if (++inTransaction == perTransaction) {
            commit();
        }
        return stored;
    }

    private void commit() {
        long start = System.nanoTime();
        producer.commitTransaction();
        commits.recordValue(Math.max(1, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start)));
        inTransaction = 0;
    }

    @Override
    public void flush() {
        if (inTransaction > 0) {
            commit();
        }
        producer.flush();
    }

    @Override
    public void close() {
        flush();
        producer.close();
    }
}
