package io.strata.bench;

import java.util.concurrent.CompletableFuture;

/**
 * What a produce benchmark drives: one producer of some system (Strata's client, or Kafka's for the
 * comparison), sending values to one topic. The same driver runs every target, so their figures compare.
 */
public interface ProduceTarget extends AutoCloseable {
    /** Sends one record; the future completes once the system acknowledged it as durable. */
    CompletableFuture<?> send(byte[] value);

    /** Sends what is buffered and waits for every acknowledgement. */
    void flush();

    @Override
    void close();
}
