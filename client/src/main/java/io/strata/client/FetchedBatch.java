package io.strata.client;

import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.Header;
import java.util.ArrayList;
import java.util.List;

/**
 * One fetch's answer, whichever way it came: stored chunks the consumer decodes itself (FetchChunks, the usual
 * way), or records the node decoded and filtered (Fetch, for a consumer with tags or a filter: a record the
 * filter does not pass never reaches the client). Immutable.
 */
record FetchedBatch(long nextOffset, long endOffset, long lastStableOffset, FetchChunksResponse chunks,
                    FetchResponse records) {
    static FetchedBatch of(FetchChunksResponse chunks) {
        return new FetchedBatch(chunks.getNextOffset(), chunks.getEndOffset(), chunks.getLastStableOffset(), chunks,
                null);
    }

    static FetchedBatch of(FetchResponse records) {
        return new FetchedBatch(records.getNextOffset(), records.getEndOffset(), records.getLastStableOffset(), null,
                records);
    }

    /** Where a reader of this partition stops for now: its end, or read committed, its last stable offset. */
    long readableEnd(boolean readCommitted) {
        return readCommitted ? lastStableOffset : endOffset;
    }

    /** The answer's size as it crossed the network (its protobuf encoding, without gRPC's 5-byte frame). */
    long wireBytes() {
        return chunks != null ? chunks.getSerializedSize() : records.getSerializedSize();
    }

    /**
     * The records at or after {@code fromOffset}, in offset order; {@code readCommitted}, only those below the last
     * stable offset and outside aborted transactions (the node left those out of decoded records already). A decoded
     * record's key, value and headers are taken from the answer by {@code bytes} (NodeRouter.answerBytes).
     *
     * @throws StrataException (DATA_LOSS) when a chunk is corrupt
     */
    List<ConsumerRecord> decode(String topic, int partition, long fromOffset, boolean readCommitted,
                                java.util.function.Function<com.google.protobuf.ByteString, byte[]> bytes) {
        if (chunks != null) {
            if (readCommitted && chunks.getChunksCount() > 0 && chunks.getLastStableOffset() == 0) {
                // Chunks past a last stable offset of 0 come only from a node that knows nothing of isolation
                // levels (an earlier version, mid-upgrade): what it sent may hold uncommitted records.
                throw new StrataException(io.grpc.Status.Code.FAILED_PRECONDITION, "the fetch node of " + topic + "/"
                        + partition + " does not serve read-committed reads (an earlier version): upgrade it");
            }
            return RawChunks.decode(topic, partition, chunks, fromOffset,
                    readCommitted ? chunks.getLastStableOffset() : Long.MAX_VALUE);
        }
        List<ConsumerRecord> out = new ArrayList<>(records.getRecordsCount());
        for (ConsumedRecord r : records.getRecordsList()) {
            if (r.getOffset() < fromOffset) {
                continue;
            }
            List<RecordHeader> headers = new ArrayList<>(r.getHeadersCount());
            for (Header h : r.getHeadersList()) {
                headers.add(new RecordHeader(h.getKey(), bytes.apply(h.getValue())));
            }
            out.add(new ConsumerRecord(topic, partition, r.getOffset(), r.getTimestampMs(),
                    r.hasKey() ? bytes.apply(r.getKey()) : null, bytes.apply(r.getValue()), headers));
        }
        return out;
    }
}
