package io.strata.compaction;

import io.strata.compaction.plan.PartitionLog;
import io.strata.compaction.plan.Piece;
import io.strata.format.ChunkCodec;
import io.strata.format.SegmentChunk;
import io.strata.format.SkippedRecords;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.SegmentRef;
import io.strata.metadata.ShardSnapshot;
import io.strata.metadata.SkippedRange;
import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.segment.SegmentFooterReader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a partition's whole log the way a consumer's data reaches it, straight from the index and the
 * objects (WAL chunks, segments through their footers), independently of the fetch node: the oracle the
 * compaction tests compare with what was produced.
 */
final class LogReader {
    record Record(long offset, String key, String value, long timestampMs) {
    }

    /** The partition's log start and its records in offset order. */
    record Log(long logStart, long end, List<Record> records) {
    }

    static Log read(MetadataStore metadata, ObjectStore objects, PartitionId partition) {
        ShardSnapshot snapshot = metadata.compaction().readShard(metadata.shardOf(partition)).join();
        PartitionLog log = PartitionLog.of(snapshot).get(partition);
        if (log == null) {
            return new Log(0, 0, List.of());
        }
        List<Record> records = new ArrayList<>();
        for (Piece piece : log.pieces()) {
            if (piece instanceof Piece.Wal wal) {
                decode(objects, wal.chunk(), records);
                continue;
            }
            SegmentRef s = ((Piece.Segment) piece).segment();
            List<SegmentChunk> footer = new SegmentFooterReader(objects).read(s.objectKey(), s.footerOffset(),
                    s.footerLength(), s.footerCrc32c()).join();
            for (SegmentChunk c : footer.subList(s.firstChunk(), footer.size())) {
                decode(objects, ChunkRef.of(partition, s.objectKey(), c), records);
            }
        }
        long start = log.pieces().isEmpty() ? log.logStart() : Math.max(log.logStart(), log.pieces().get(0).baseOffset());
        return new Log(start, log.endOffset(), records);
    }

    private static void decode(ObjectStore objects, ChunkRef c, List<Record> out) {
        ByteBuffer bytes = objects.get(ObjectKey.of(c.objectKey()), ByteRange.of(c.byteOffset(), c.byteLength())).join();
        int[] index = SkippedRecords.offsetIndexes(c.storedRecordCount(),
                c.skipped().stream().mapToInt(SkippedRange::firstPosition).toArray(),
                c.skipped().stream().mapToInt(SkippedRange::count).toArray());
        ChunkCodec.decode(bytes, c.crc32c(), c.uncompressedLength(), c.storedRecordCount(), c.baseOffset(),
                (position, delta, ts, key, value, headers) -> {
                    long i = index == null ? delta : index[position];
                    if (i >= 0) {
                        out.add(new Record(c.baseOffset() + i, key == null ? null : new String(key),
                                new String(value), ts));
                    }
                });
    }
}
