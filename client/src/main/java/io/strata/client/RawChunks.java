package io.strata.client;

import io.grpc.Status;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.RawChunk;
import io.strata.api.v1.SkippedRecords;
import io.strata.format.BlockFormatException;
import io.strata.format.ChunkCodec;
import io.strata.format.LogRecord;
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
            List<LogRecord> records;
            try {
                List<LogRecord> stored = ChunkCodec.decode(chunk.getData().asReadOnlyByteBuffer(), chunk.getCrc32C(),
                        chunk.getUncompressedLength(), chunk.getStoredRecordCount());
                records = io.strata.format.SkippedRecords.drop(stored, chunk.getStoredRecordCount(),
                        chunk.getSkippedList().stream().mapToInt(SkippedRecords::getFirstPosition).toArray(),
                        chunk.getSkippedList().stream().mapToInt(SkippedRecords::getCount).toArray());
            } catch (BlockFormatException e) {
                throw new StrataException(Status.Code.DATA_LOSS, "chunk of " + topic + "/" + partition
                        + " at offset " + chunk.getBaseOffset() + " is damaged: " + e.getMessage());
            }
            if (records.size() != chunk.getRecordCount()) {
                throw new StrataException(Status.Code.DATA_LOSS, "chunk of " + topic + "/" + partition
                        + " at offset " + chunk.getBaseOffset() + " holds " + records.size() + " records, expected "
                        + chunk.getRecordCount());
            }
            for (int i = 0; i < records.size(); i++) {
                long offset = chunk.getBaseOffset() + i;
                if (offset >= fromOffset) {
                    LogRecord r = records.get(i);
                    out.add(new ConsumerRecord(topic, partition, offset, r.timestampMs(), r.key(), r.value(),
                            r.headers().isEmpty() ? List.of()
                                    : r.headers().stream().map(h -> new RecordHeader(h.key(), h.value())).toList()));
                }
            }
        }
        return out;
    }
}
