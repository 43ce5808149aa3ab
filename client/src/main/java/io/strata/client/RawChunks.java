package io.strata.client;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.RawChunk;
import io.strata.format.BlockFormatException;
import io.strata.format.ChunkCodec;
import io.strata.format.SkippedRecords;
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
     * The records of {@code response} at or after {@code fromOffset} and before {@code upTo}, in offset order,
     * without those of aborted transactions (the chunks' {@code aborted} ranges, answered to read-committed reads).
     *
     * @throws StrataException (DATA_LOSS) when a chunk is corrupt: never altered data
     */
    static List<ConsumerRecord> decode(String topic, int partition, FetchChunksResponse response, long fromOffset,
                                       long upTo) {
        List<ConsumerRecord> out = new ArrayList<>();
        for (RawChunk chunk : response.getChunksList()) {
            if (endOffset(chunk) <= fromOffset || chunk.getBaseOffset() >= upTo) {
                continue;
            }
            try {
                List<ConsumerRecord> records = decode(topic, partition, chunk, fromOffset);
                if (upTo != Long.MAX_VALUE || chunk.getAbortedCount() > 0) {
                    records.removeIf(r -> r.offset() >= upTo || aborted(chunk, r.offset()));
                }
                out.addAll(records);
            } catch (BlockFormatException e) {
                throw damaged(topic, partition, chunk, e.getMessage());
            }
        }
        return out;
    }

    private static boolean aborted(RawChunk chunk, long offset) {
        for (io.strata.api.v1.OffsetRange r : chunk.getAbortedList()) {
            if (offset >= r.getFirst() && offset <= r.getLast()) {
                return true;
            }
        }
        return false;
    }

    /** The offset after the last one the chunk covers. */
    static long endOffset(RawChunk chunk) {
        return chunk.getBaseOffset() + (chunk.getOffsetCount() > 0 ? chunk.getOffsetCount() : chunk.getRecordCount());
    }

    /**
     * The chunk's records from {@code fromOffset} on, made as the chunk decodes. Stored records that got no
     * offset (an idempotent producer's retried batch, stored twice) are dropped; the rest take consecutive
     * offsets from the chunk's base, or their own in a key-compacted chunk.
     */
    private static List<ConsumerRecord> decode(String topic, int partition, RawChunk chunk, long fromOffset) {
        int[] index = SkippedRecords.offsetIndexes(chunk.getStoredRecordCount(),
                chunk.getSkippedList().stream().mapToInt(io.strata.api.v1.SkippedRecords::getFirstPosition).toArray(),
                chunk.getSkippedList().stream().mapToInt(io.strata.api.v1.SkippedRecords::getCount).toArray());
        long base = chunk.getBaseOffset();
        long end = endOffset(chunk);
        int[] withOffsets = {0};
        List<ConsumerRecord> records = new ArrayList<>(Math.min(chunk.getRecordCount(), 1 << 16));
        ChunkCodec.decode(arrayView(chunk.getData()), chunk.getCrc32C(), chunk.getUncompressedLength(),
                chunk.getStoredRecordCount(), base, (position, offsetDelta, timestampMs, key, value, headers) -> {
                    if (index != null && position >= index.length) {
                        throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                                "more records than the " + index.length + " the index says");
                    }
                    long i = index == null ? offsetDelta : index[position];
                    if (i < 0) {
                        return;
                    }
                    if (base + i >= end) {
                        throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "record offset "
                                + (base + i) + " is past the chunk's end " + end);
                    }
                    withOffsets[0]++;
                    if (base + i >= fromOffset) {
                        records.add(new ConsumerRecord(topic, partition, base + i, timestampMs, key, value,
                                headers.isEmpty() ? List.of()
                                        : headers.stream().map(h -> new RecordHeader(h.key(), h.value())).toList()));
                    }
                });
        if (withOffsets[0] != chunk.getRecordCount()) {
            throw damaged(topic, partition, chunk, "it holds " + withOffsets[0] + " records with offsets, expected "
                    + chunk.getRecordCount());
        }
        return records;
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
        ArrayCapture capture = ArrayCapture.of(bytes);
        return capture.whole() ? capture.view() : ByteBuffer.wrap(bytes.toByteArray());
    }
}
