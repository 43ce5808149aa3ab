package io.strata.bench;

import java.time.Duration;
import java.util.function.Consumer;

/** What the consume and end-to-end benchmarks read from: a Strata consumer or another system's. */
public interface ConsumeSource extends AutoCloseable {
    /** Waits up to {@code timeout} for records and hands each record's value to {@code values}. */
    void poll(Duration timeout, Consumer<byte[]> values);

    /** True once every partition has been read up to the end it had when the source was opened. */
    boolean caughtUp();

    /** Bytes of fetch answers received so far, or -1 where the source cannot say. */
    default long fetchedBytes() {
        return -1;
    }

    @Override
    void close();
}
