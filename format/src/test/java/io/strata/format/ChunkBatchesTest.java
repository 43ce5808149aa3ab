package io.strata.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkBatchesTest {

    private static LogRecord record(int i) {
        return new LogRecord(null, ("v" + i).getBytes(), List.of(), 1_000 + i);
    }

    /** A chunk of three batches of 3, 2 and 4 records (positions 0-2, 3-4, 5-8), as a v2 block stores it. */
    private static SealedBlock threeBatches() {
        BlockWriter writer = new BlockWriter(1);
        int n = 0;
        for (int size : new int[] {3, 2, 4}) {
            BatchBuilder b = new BatchBuilder();
            for (int i = 0; i < size; i++) {
                b.append(record(n++));
            }
            ByteBuffer batch = b.build(1);
            writer.appendBatch(1, 0, batch, BatchCodec.validate(batch, 1024));
        }
        return writer.seal();
    }

    private static ByteBuffer chunk(SealedBlock block) {
        ChunkEntry e = block.chunks().get(0);
        return block.bytes().duplicate().position((int) e.byteOffset()).limit((int) (e.byteOffset() + e.byteLength()))
                .slice();
    }

    private static List<LogRecord> records(List<ChunkBatches.Placed> placed) {
        List<LogRecord> out = new ArrayList<>();
        placed.forEach(p -> out.addAll(BatchCodec.decode(p.bytes())));
        return out;
    }

    @Test
    void batchesWithoutSkippedRecordsPassAsTheyAreStored() {
        SealedBlock block = threeBatches();
        ChunkEntry e = block.chunks().get(0);
        ByteBuffer chunk = chunk(block);
        List<ChunkBatches.Placed> placed = ChunkBatches.withOffsets(chunk, e.crc32c(), e.uncompressedLength(),
                e.recordCount(), 100, new int[0], new int[0], 3);
        assertThat(placed).extracting(ChunkBatches.Placed::baseOffset).containsExactly(100L, 103L, 105L);
        assertThat(placed).extracting(ChunkBatches.Placed::recordCount).containsExactly(3, 2, 4);
        assertThat(placed.get(0).bytes().array()).as("a view of the stored bytes, not a copy")
                .isSameAs(chunk.array());
        assertThat(records(placed)).extracting(LogRecord::timestampMs)
                .containsExactly(1000L, 1001L, 1002L, 1003L, 1004L, 1005L, 1006L, 1007L, 1008L);
    }

    @Test
    void aSkippedWholeBatchIsLeftOutAndTheRestKeepTheirOffsets() {
        SealedBlock block = threeBatches();
        ChunkEntry e = block.chunks().get(0);
        List<ChunkBatches.Placed> placed = ChunkBatches.withOffsets(chunk(block), e.crc32c(), e.uncompressedLength(),
                e.recordCount(), 100, new int[] {3}, new int[] {2}, 3);
        assertThat(placed).extracting(ChunkBatches.Placed::baseOffset).containsExactly(100L, 103L);
        assertThat(placed).extracting(ChunkBatches.Placed::endOffset).containsExactly(103L, 107L);
        assertThat(records(placed)).extracting(LogRecord::timestampMs)
                .containsExactly(1000L, 1001L, 1002L, 1005L, 1006L, 1007L, 1008L);
    }

    @Test
    void aBatchWithSomeSkippedRecordsIsBuiltAgainFromTheOthers() {
        SealedBlock block = threeBatches();
        ChunkEntry e = block.chunks().get(0);
        List<ChunkBatches.Placed> placed = ChunkBatches.withOffsets(chunk(block), e.crc32c(), e.uncompressedLength(),
                e.recordCount(), 0, new int[] {1, 6}, new int[] {1, 2}, 3);
        assertThat(placed).extracting(ChunkBatches.Placed::recordCount).containsExactly(2, 2, 2);
        assertThat(placed).extracting(ChunkBatches.Placed::baseOffset).containsExactly(0L, 2L, 4L);
        assertThat(records(placed)).extracting(LogRecord::timestampMs)
                .containsExactly(1000L, 1002L, 1003L, 1004L, 1005L, 1008L);
    }

    @Test
    void aVersion1ChunkBecomesOneBatch() {
        ByteBuffer golden = BlockFormatTest.goldenVersion1();
        ChunkEntry e = BlockReader.readFooter(golden).get(0);
        ByteBuffer chunk = golden.duplicate().position((int) e.byteOffset()).limit((int) (e.byteOffset() + e.byteLength()))
                .slice();
        List<ChunkBatches.Placed> placed = ChunkBatches.withOffsets(chunk, e.crc32c(), e.uncompressedLength(),
                e.recordCount(), 40, new int[] {0}, new int[] {1}, 3);
        assertThat(placed).singleElement().satisfies(p -> {
            assertThat(p.baseOffset()).isEqualTo(40);
            assertThat(p.recordCount()).isEqualTo(2);
        });
        assertThat(records(placed)).containsExactlyElementsOf(BlockFormatTest.goldenRecords(0).subList(1, 3));
    }

    @Test
    void aCorruptChunkIsRefused() {
        SealedBlock block = threeBatches();
        ChunkEntry e = block.chunks().get(0);
        ByteBuffer chunk = chunk(block);
        assertThatThrownBy(() -> ChunkBatches.withOffsets(chunk, e.crc32c() ^ 1, e.uncompressedLength(),
                e.recordCount(), 0, new int[0], new int[0], 3)).isInstanceOf(BlockFormatException.class);
        assertThatThrownBy(() -> ChunkBatches.withOffsets(chunk, e.crc32c(), e.uncompressedLength(),
                e.recordCount() + 1, 0, new int[0], new int[0], 3)).isInstanceOf(BlockFormatException.class);
    }
}
