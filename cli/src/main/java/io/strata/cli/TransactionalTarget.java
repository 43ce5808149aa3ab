package io.strata.cli;

import io.strata.bench.ProduceTarget;
import io.strata.client.Producer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Recorder;

/**
 * A produce benchmark's transactional producer (docs/transactions.md): its records go in transactions of
 * {@code perTransaction} records each, committed on the sending thread, so a run's throughput pays for every commit
 * as an application's would: waiting for each ({@code commitTransaction}), or {@code pipelined}, beginning the next
 * while the last one's answer is out ({@code commitTransactionAsync}). Each commit's latency (the flush of the
 * transaction's last records and the commit itself, until its answer) goes to {@code commits}; a commit that fails
 * ends the run. Used by one benchmark thread.
 */
final class TransactionalTarget implements ProduceTarget {
    private final Producer producer;
    private final String topic;
    private final int perTransaction;
    private final Recorder commits;
    private final boolean pipelined;
    private int inTransaction;
    /** Pipelined commits not yet answered (at most two: Producer.beginTransaction waits for the older). */
    private final java.util.ArrayDeque<CompletableFuture<Void>> out = new java.util.ArrayDeque<>();

    TransactionalTarget(Producer producer, String topic, int perTransaction, Recorder commits, boolean pipelined) {
        if (perTransaction < 1) {
            throw new IllegalArgumentException("a transaction holds at least one record");
        }
        this.producer = producer;
        this.topic = topic;
        this.perTransaction = perTransaction;
        this.commits = commits;
        this.pipelined = pipelined;
    }

    @Override
    public CompletableFuture<?> send(byte[] value) {
        if (inTransaction == 0) {
            while (!out.isEmpty() && out.peekFirst().isDone()) {
                out.pollFirst().join(); // a failed commit ends the run
            }
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
        inTransaction = 0;
        if (!pipelined) {
            producer.commitTransaction();
            commits.recordValue(Math.max(1, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start)));
            return;
        }
        out.addLast(producer.commitTransactionAsync().whenComplete((v, failure) -> {
            if (failure == null) {
                commits.recordValue(Math.max(1, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start)));
            }
        }));
    }

    @Override
    public void flush() {
        if (inTransaction > 0) {
            commit();
        }
        while (!out.isEmpty()) {
            out.pollFirst().join();
        }
        producer.flush();
    }

    @Override
    public void close() {
        flush();
        producer.close();
    }
}
