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

    /** A read answered to a reader (its chunks of aborted records only, passed over unread, do not count). */
    void read(FetchHandler.ChunkRead read, long nowMs) {
        List<ChunkRef> chunks = read.chunks();
        long served = 0;
        long stored = 0;
        ChunkRef newest = null;
        for (int c = 0; c < chunks.size(); c++) {
            if (read.bytes().get(c) == null) {
                continue;
            }
            ChunkRef chunk = chunks.get(c);
            long from = Math.max(read.offset(), chunk.baseOffset());
            long to = Math.min(chunk.endOffset(), read.upTo());
            if (to > from) {
                // Offsets, not records: a compacted chunk's count is its records, spread over its offsets.
                served += Math.min(chunk.recordCount(), to - from);
                stored += chunk.byteLength();
            }
            newest = chunk;
        }
        records.add(served);
        bytes.add(stored);
        if (newest != null && newest.baseOffset() >= read.offset() && newest.endOffset() >= read.endOffset()
                && newest.maxTimestampMs() > 0) {
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
