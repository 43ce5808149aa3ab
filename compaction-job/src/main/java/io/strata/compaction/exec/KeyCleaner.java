package io.strata.compaction.exec;

import static io.strata.compaction.Blocking.await;

import io.strata.compaction.plan.ShardPlan;
import io.strata.compaction.plan.ShardPlanner;
import io.strata.format.BatchBuilder;
import io.strata.format.ChunkBatches;
import io.strata.format.LogRecord;
import io.strata.format.SealedSegment;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.KeyCleaning;
import io.strata.metadata.SkippedRange;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Carries out one key-compaction cleaning ({@link ShardPlan.Clean}) in two reads of its sources, a segment's
 * worth at a time: the first maps each key of the new records to its latest offset, the second keeps the
 * records that stay, with their offsets, in offset batches, and hands each segment's worth to the caller to
 * store as soon as it is full, so memory holds one segment of input and one of output besides the map.
 * Offsets never change: a kept record keeps its offset, and the segments tile the cleaned offsets exactly
 * (readers skip what was removed). Blocking; one cleaning per instance.
 */
final class KeyCleaner {
    /** Stores one segment of the cleaning's output, covering [{@code baseOffset}, {@code endOffset}). */
    @FunctionalInterface
    interface SegmentSink {
        void accept(SealedSegment segment, long baseOffset, long endOffset);
    }

    /** What a cleaning read and left out, and where it leaves the partition. */
    record Result(KeyCleaning cleaning, long recordsRead, long recordsRemoved, long tombstonesRemoved,
                  long keylessRemoved, long abortedRemoved, int segments, long lastOffset) {
    }

    private final ShardPlan.Clean plan;
    private final SourceReader reader;
    private final long segmentBytes;
    private final int chunkBytes;
    private final int compressionLevel;
    private final SegmentSink sink;
    private final KeyOffsetMap latest;

    private final List<ChunkBatches.Placed> output = new ArrayList<>();
    private long outputBytes;
    private long segmentStart;
    private BatchBuilder batch;
    private long batchBase;
    private long lastKept = -1;
    private int segments;
    private long oldestTombstone;
    private long read;
    private long removed;
    private long tombstonesRemoved;
    private long keylessRemoved;
    private long abortedRemoved;
    /** The aborted transactions' batches in the cleaning: first offset to end. */
    private final NavigableMap<Long, Long> abortedBatches = new TreeMap<>();
    /**
     * The record read last, held back until the next one arrives: the cleaning's last record always stays,
     * whatever it is (aborted, keyless, a due tombstone), so the cleaning's end does; a later cleaning that
     * reads past it decides it.
     */
    private LogRecord held;
    private long heldOffset = -1;

    KeyCleaner(ShardPlan.Clean plan, SourceReader reader, long segmentBytes, int chunkBytes, int compressionLevel,
               SegmentSink sink) {
        this.plan = plan;
        this.reader = reader;
        this.segmentBytes = segmentBytes;
        this.chunkBytes = chunkBytes;
        this.compressionLevel = compressionLevel;
        this.sink = sink;
        this.latest = new KeyOffsetMap(plan.expectedKeys());
        this.segmentStart = plan.baseOffset();
        this.oldestTombstone = plan.oldestTombstoneBefore();
        plan.aborted().forEach(a -> abortedBatches.merge(a.baseOffset(), a.baseOffset() + a.recordCount(), Math::max));
    }

    Result run() {
        List<ChunkRef> dirty = plan.sources().stream().filter(c -> c.endOffset() > plan.dirtyFrom()).toList();
        forEachRecord(dirty, (offset, ts, key, value, headers) -> {
            if (offset >= plan.dirtyFrom() && key != null && !aborted(offset)) {
                latest.put(key, offset);
            }
        });
        forEachRecord(plan.sources(), (offset, ts, key, value, headers) -> {
            read++;
            if (held != null) {
                decide(held, heldOffset);
            }
            held = new LogRecord(key, value, headers, ts);
            heldOffset = offset;
        });
        if (held == null) {
            throw new IllegalStateException("the cleaning of " + plan.partition() + " read no record");
        }
        // The last record: the cleaning's end stays where it is. Not counted if a tombstone (a due one would make
        // every pass clean again); a later cleaning that reads past it counts it.
        keep(held, heldOffset);
        flushBatch();
        sink.accept(SegmentBuilder.layout(plan.partition(), segmentStart, plan.cleanEnd(), output, chunkBytes),
                segmentStart, plan.cleanEnd());
        segments++;
        return new Result(new KeyCleaning(plan.cleanedTo(), oldestTombstone, plan.comparedTo()), read, removed,
                tombstonesRemoved, keylessRemoved, abortedRemoved, segments, heldOffset);
    }

    private void decide(LogRecord record, long offset) {
        if (aborted(offset)) { // its transaction never happened for read-committed readers
            abortedRemoved++;
            removed++;
            return;
        }
        if (record.key() == null) {
            keylessRemoved++; // a compacted topic keeps records by key: one without stays no longer than a cleaning
            removed++;
            return;
        }
        if (latest.latest(record.key()) > offset) {
            removed++;
            return;
        }
        boolean tombstone = record.value().length == 0;
        // Only a tombstone compared with the whole log before it may go: there, no older value of its key is left.
        if (tombstone && offset < plan.tombstonesBelow() && record.timestampMs() < plan.deleteHorizonMs()) {
            tombstonesRemoved++;
            removed++;
            return;
        }
        noteTombstone(record, offset);
        keep(record, offset);
        if (outputBytes >= segmentBytes) {
            flushBatch();
            // The next segment starts right after this record: segments tile the offsets whatever was removed.
            sink.accept(SegmentBuilder.layout(plan.partition(), segmentStart, offset + 1, output, chunkBytes),
                    segmentStart, offset + 1);
            segments++;
            output.clear();
            outputBytes = 0;
            segmentStart = offset + 1;
        }
    }

    /** Counts a kept tombstone a later cleaning may drop (one compared with all before it): it is due for it. */
    private void noteTombstone(LogRecord record, long offset) {
        if (record.key() != null && record.value().length == 0 && offset < plan.comparedTo()) {
            oldestTombstone = Math.min(oldestTombstone, record.timestampMs());
        }
    }

    /** Whether the record at {@code offset} belongs to an aborted transaction's batch. */
    private boolean aborted(long offset) {
        Map.Entry<Long, Long> batch = abortedBatches.floorEntry(offset);
        return batch != null && offset < batch.getValue();
    }

    private void keep(LogRecord record, long offset) {
        if (batch == null) {
            batch = new BatchBuilder(chunkBytes);
            batchBase = offset;
        }
        batch.append(record, offset);
        lastKept = offset;
        if (batch.uncompressedBytes() >= chunkBytes) {
            flushBatch();
        }
    }

    private void flushBatch() {
        if (batch == null) {
            return;
        }
        int count = batch.recordCount();
        ByteBuffer bytes = batch.build(compressionLevel);
        output.add(new ChunkBatches.Placed(bytes, batchBase, count, Math.toIntExact(lastKept - batchBase + 1), true));
        outputBytes += bytes.remaining();
        batch = null;
    }

    private void forEachRecord(List<ChunkRef> sources, ChunkBatches.OffsetRecordVisitor visitor) {
        for (List<ChunkRef> group : ShardPlanner.group(sources, segmentBytes)) {
            List<ByteBuffer> bytes = await(reader.read(group));
            for (int i = 0; i < group.size(); i++) {
                ChunkRef c = group.get(i);
                for (ChunkBatches.Placed b : ChunkBatches.withOffsets(bytes.get(i), c.crc32c(),
                        c.uncompressedLength(), c.storedRecordCount(), c.baseOffset(),
                        c.skipped().stream().mapToInt(SkippedRange::firstPosition).toArray(),
                        c.skipped().stream().mapToInt(SkippedRange::count).toArray(), compressionLevel)) {
                    ChunkBatches.records(b, visitor);
                }
            }
        }
    }
}
