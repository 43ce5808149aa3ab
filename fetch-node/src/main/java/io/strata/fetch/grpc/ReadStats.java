package io.strata.fetch.grpc;

import io.strata.metadata.ChunkRef;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * What a fetch node's reads served to readers (not its own scans for share groups or delays): records and stored
 * bytes, and how old the
 * newest record was when a reader at the end of its partition got it, the end-to-end latency a consumer at the
 * tail sees (from the record's timestamp, so a producer's clock counts).
 */
public final class ReadStats {
    private final LongAdder records = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private volatile LongConsumer endToEnd = ms -> { };

    /** Where the end-to-end latencies go, in milliseconds. */
    public void endToEnd(LongConsumer sink) {
        this.endToEnd = sink;
    }

    /** A read from {@code offset} that found {@code chunks} (up to {@code upTo}) of a partition ending at {@code end}. */
    void read(long offset, List<ChunkRef> chunks, long upTo, long end, long nowMs) {
        if (chunks.isEmpty()) {
            return;
        }
        long served = 0;
        long stored = 0;
        for (ChunkRef c : chunks) {
            long from = Math.max(offset, c.baseOffset());
            long to = Math.min(c.endOffset(), upTo);
            if (to > from) {
                // Offsets, not records: a compacted chunk's count is its records, spread over its offsets.
                served += Math.max(0, Math.min(c.recordCount(), to - from));
                stored += c.byteLength();
            }
        }
        records.add(served);
        bytes.add(stored);
        ChunkRef newest = chunks.get(chunks.size() - 1);
        if (newest.baseOffset() >= offset && newest.endOffset() >= end && newest.maxTimestampMs() > 0) {
            endToEnd.accept(Math.max(0, nowMs - newest.maxTimestampMs()));
        }
    }

    public long records() {
        return records.sum();
    }

    public long bytes() {
        return bytes.sum();
    }
}
