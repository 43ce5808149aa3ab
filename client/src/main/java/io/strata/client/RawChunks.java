package io.strata.client;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.RawChunk;
import io.strata.api.v1.SkippedRecords;
import io.strata.format.BlockFormatException;
import io.strata.format.ChunkCodec;
import io.strata.format.LogRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the stored chunks a fetch node answers (FetchChunks, Subscribe with raw chunks) into records:
 * checks each chunk's CRC32C, inflates it, drops the stored records that got no offsets, and keeps those
 * from the asked offset on. The decoding work is the consumer's, so a fetch node serves many consumers
 * without decompressing. Stateless.
 */
final class RawChunks {
    private RawChunks() {
    }

    /**
     * The records of {@code response} at or after {@code fromOffset}, in offset order.
     *
     * @throws StrataException (DATA_LOSS) when a chunk is corrupt: never altered data
     */
    static List<ConsumerRecord> decode(String topic, int partition, FetchChunksResponse response, long fromOffset) {
        List<ConsumerRecord> out = new ArrayList<>();
        for (RawChunk chunk : response.getChunksList()) {
            if (chunk.getBaseOffset() + chunk.getRecordCount() <= fromOffset) {
                continue;
            }
            try {
                if (chunk.getSkippedCount() == 0) {
                    decodeInOrder(topic, partition, chunk, fromOffset, out);
                } else {
                    decodeSkipping(topic, partition, chunk, fromOffset, out);
                }
            } catch (BlockFormatException e) {
                throw damaged(topic, partition, chunk, e.getMessage());
            }
        }
        return out;
    }

    /** A chunk whose every stored record has an offset (the usual case): records are made as they decode. */
    private static void decodeInOrder(String topic, int partition, RawChunk chunk, long fromOffset,
                                      List<ConsumerRecord> out) {
        if (chunk.getStoredRecordCount() != chunk.getRecordCount()) {
            throw damaged(topic, partition, chunk, "it stores " + chunk.getStoredRecordCount() + " records, skips none, "
                    + "and counts " + chunk.getRecordCount());
        }
        long base = chunk.getBaseOffset();
        List<ConsumerRecord> records = new ArrayList<>(Math.min(chunk.getRecordCount(), 1 << 16));
        ChunkCodec.decode(arrayView(chunk.getData()), chunk.getCrc32C(), chunk.getUncompressedLength(),
                chunk.getStoredRecordCount(), (position, timestampMs, key, value, headers) -> {
                    long offset = base + position;
                    if (offset >= fromOffset) {
                        records.add(new ConsumerRecord(topic, partition, offset, timestampMs, key, value,
                                clientHeaders(headers)));
                    }
                });
        out.addAll(records); // only once the whole chunk proved sound
    }

    /** A chunk with stored records that got no offsets (an idempotent producer's retries): those are dropped. */
    private static void decodeSkipping(String topic, int partition, RawChunk chunk, long fromOffset,
                                       List<ConsumerRecord> out) {
        List<LogRecord> stored = ChunkCodec.decode(arrayView(chunk.getData()), chunk.getCrc32C(),
                chunk.getUncompressedLength(), chunk.getStoredRecordCount());
        List<LogRecord> records = io.strata.format.SkippedRecords.drop(stored, chunk.getStoredRecordCount(),
                chunk.getSkippedList().stream().mapToInt(SkippedRecords::getFirstPosition).toArray(),
                chunk.getSkippedList().stream().mapToInt(SkippedRecords::getCount).toArray());
        if (records.size() != chunk.getRecordCount()) {
            throw damaged(topic, partition, chunk, "it holds " + records.size() + " records, expected "
                    + chunk.getRecordCount());
        }
        for (int i = 0; i < records.size(); i++) {
            long offset = chunk.getBaseOffset() + i;
            if (offset >= fromOffset) {
                LogRecord r = records.get(i);
                out.add(new ConsumerRecord(topic, partition, offset, r.timestampMs(), r.key(), r.value(),
                        clientHeaders(r.headers())));
            }
        }
    }

    private static List<RecordHeader> clientHeaders(List<io.strata.format.RecordHeader> headers) {
        return headers.isEmpty() ? List.of() : headers.stream().map(h -> new RecordHeader(h.key(), h.value())).toList();
    }

    private static StrataException damaged(String topic, int partition, RawChunk chunk, String why) {
        return new StrataException(Status.Code.DATA_LOSS, "chunk of " + topic + "/" + partition + " at offset "
                + chunk.getBaseOffset() + " is damaged: " + why);
    }

    /**
     * The bytes as a buffer over the array that holds them, so the CRC and zstd read them in place (a
     * read-only view has no array, and both would first copy it). The answer is never written to. A string
     * not held in one array (never the case for a parsed answer) is copied.
     */
    static ByteBuffer arrayView(ByteString bytes) {
        ArrayCapture capture = new ArrayCapture();
        try {
            UnsafeByteOperations.unsafeWriteTo(bytes, capture);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // ArrayCapture throws none
        }
        return capture.whole ? capture.view : ByteBuffer.wrap(bytes.toByteArray());
    }

    /** Keeps the one array a byte string hands over; anything else (several pieces, a buffer) is not whole. */
    private static final class ArrayCapture extends ByteOutput {
        ByteBuffer view;
        boolean whole;

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
            whole = view == null;
            view = ByteBuffer.wrap(value, offset, length).slice();
        }

        @Override
        public void write(byte[] value, int offset, int length) {
            notWhole();
        }

        @Override
        public void write(byte value) {
            notWhole();
        }

        @Override
        public void write(ByteBuffer value) {
            notWhole();
        }

        @Override
        public void writeLazy(ByteBuffer value) {
            notWhole();
        }

        private void notWhole() {
            whole = false;
            view = ByteBuffer.allocate(0);
        }
    }
}
