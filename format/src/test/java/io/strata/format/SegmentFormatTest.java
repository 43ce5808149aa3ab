package io.strata.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SegmentFormatTest {

    record Offset(long offset, LogRecord record) {
    }

    /** The golden segment: a chunk of an ordinary batch at offsets 10..12, one of an offset batch at 20, 23, 29. */
    static SealedSegment goldenSegment() {
        SegmentWriter writer = new SegmentWriter(7, 2);
        BatchBuilder dense = new BatchBuilder();
        BlockFormatTest.goldenRecords(2).forEach(dense::append);
        writer.appendChunk(10, 3, List.of(dense.build(3)));
        BatchBuilder sparse = new BatchBuilder();
        long[] offsets = {20, 23, 29};
        for (int i = 0; i < 3; i++) {
            sparse.append(BlockFormatTest.goldenRecords(0).get(i), offsets[i]);
        }
        writer.appendChunk(20, 10, List.of(sparse.build(3)));
        return writer.finish();
    }

    static List<Offset> decode(ByteBuffer segment, SegmentChunk c) {
        ChunkEntry e = c.entry();
        ByteBuffer chunk = segment.duplicate().position((int) e.byteOffset()).limit((int) (e.byteOffset() + e.byteLength()))
                .slice();
        List<Offset> out = new ArrayList<>();
        ChunkCodec.decode(chunk, e.crc32c(), e.uncompressedLength(), e.recordCount(), c.baseOffset(),
                (position, delta, ts, key, value, headers) ->
                        out.add(new Offset(c.baseOffset() + delta, new LogRecord(key, value, headers, ts))));
        return out;
    }

    @Test
    void goldenVersion3SegmentDecodesToItsRecordsAtTheirOffsets() throws IOException {
        ByteBuffer golden;
        try (InputStream in = getClass().getResourceAsStream("/format/segment-v3.hex")) {
            golden = ByteBuffer.wrap(HexFormat.of().parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim()));
        }
        List<SegmentChunk> chunks = SegmentReader.readWhole(golden);
        assertThat(chunks).extracting(SegmentChunk::baseOffset).containsExactly(10L, 20L);
        assertThat(chunks).extracting(SegmentChunk::offsetCount).containsExactly(3, 10);
        assertThat(decode(golden, chunks.get(0))).extracting(Offset::offset).containsExactly(10L, 11L, 12L);
        assertThat(decode(golden, chunks.get(0))).extracting(Offset::record)
                .containsExactlyElementsOf(BlockFormatTest.goldenRecords(2));
        assertThat(decode(golden, chunks.get(1))).extracting(Offset::offset).containsExactly(20L, 23L, 29L);
        assertThat(decode(golden, chunks.get(1))).extracting(Offset::record)
                .containsExactlyElementsOf(BlockFormatTest.goldenRecords(0));
    }

    @Test
    void theFooterReadByItsRangeAloneListsTheChunks() {
        SealedSegment sealed = goldenSegment();
        ByteBuffer footer = sealed.bytes().duplicate().position((int) sealed.footerOffset())
                .limit((int) sealed.footerOffset() + sealed.footerLength()).slice();
        assertThat(SegmentReader.readFooter(footer, sealed.footerOffset(), sealed.footerCrc32c()))
                .isEqualTo(sealed.chunks());
        ByteBuffer trailer = sealed.bytes().duplicate().position(sealed.sizeBytes() - BlockFormat.TRAILER_SIZE).slice();
        assertThat(SegmentReader.readTrailer(trailer, sealed.sizeBytes()))
                .isEqualTo(new SegmentReader.FooterLocation(sealed.footerOffset(), sealed.footerLength(),
                        sealed.footerCrc32c()));
        assertThat(sealed.baseOffset()).isEqualTo(10);
        assertThat(sealed.endOffset()).isEqualTo(30);
    }

    @Test
    void randomChunksRoundTripAtTheirOffsets() {
        Random random = new Random(7);
        SegmentWriter writer = new SegmentWriter(3, 0);
        List<Offset> expected = new ArrayList<>();
        long offset = 1_000;
        for (int c = 0; c < 40; c++) {
            long base = offset;
            List<ByteBuffer> batches = new ArrayList<>();
            for (int b = 0; b < 1 + random.nextInt(3); b++) {
                BatchBuilder builder = new BatchBuilder();
                boolean sparse = random.nextBoolean();
                for (int r = 0; r < 1 + random.nextInt(50); r++) {
                    byte[] value = new byte[random.nextInt(200)];
                    random.nextBytes(value);
                    LogRecord record = new LogRecord(random.nextBoolean() ? null : new byte[] {(byte) r}, value,
                            List.of(), 1_700_000_000_000L + random.nextInt(1000));
                    if (sparse) {
                        offset += random.nextInt(4);
                        builder.append(record, offset);
                    } else {
                        builder.append(record);
                    }
                    expected.add(new Offset(offset, record));
                    offset++;
                }
                batches.add(builder.build(1));
            }
            writer.appendChunk(base, (int) (offset - base), batches);
        }
        SealedSegment sealed = writer.finish();
        List<SegmentChunk> chunks = SegmentReader.readWhole(sealed.bytes());
        assertThat(chunks).isEqualTo(sealed.chunks());
        List<Offset> decoded = new ArrayList<>();
        chunks.forEach(c -> decoded.addAll(decode(sealed.bytes(), c)));
        assertThat(decoded).containsExactlyElementsOf(expected);
    }

    @Test
    void aChunkThatOverlapsThePreviousOneIsRefused() {
        SegmentWriter writer = new SegmentWriter(3, 0);
        BatchBuilder a = new BatchBuilder();
        a.append(new LogRecord(null, new byte[1], List.of(), 1));
        writer.appendChunk(5, 1, List.of(a.build(1)));
        BatchBuilder b = new BatchBuilder();
        b.append(new LogRecord(null, new byte[1], List.of(), 1));
        ByteBuffer batch = b.build(1);
        assertThatThrownBy(() -> writer.appendChunk(5, 1, List.of(batch))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> writer.appendChunk(6, 0, List.of(batch)))
                .as("a chunk covers at least its records").isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFlippedBitInTheFooterIsCorrupt() {
        SealedSegment sealed = goldenSegment();
        byte[] bytes = new byte[sealed.sizeBytes()];
        sealed.bytes().duplicate().get(bytes);
        bytes[(int) sealed.footerOffset() + 9] ^= 0x04;
        assertThatThrownBy(() -> SegmentReader.readWhole(ByteBuffer.wrap(bytes)))
                .isInstanceOfSatisfying(BlockFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(BlockFormatException.Reason.CORRUPT));
    }

    @Test
    void aBlockIsNotASegmentAndASegmentIsNotABlock() {
        ByteBuffer block = BlockFormatTest.goldenBlock().bytes();
        assertThatThrownBy(() -> SegmentReader.readWhole(block))
                .isInstanceOfSatisfying(BlockFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(BlockFormatException.Reason.UNSUPPORTED_VERSION));
        assertThatThrownBy(() -> BlockReader.readFooter(goldenSegment().bytes()))
                .isInstanceOfSatisfying(BlockFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(BlockFormatException.Reason.UNSUPPORTED_VERSION));
    }

    @Test
    void anOffsetBatchWhoseRecordsLeaveItsSpanIsInconsistent() {
        BatchBuilder builder = new BatchBuilder();
        builder.append(new LogRecord(null, new byte[] {1}, List.of(), 5), 100);
        builder.append(new LogRecord(null, new byte[] {2}, List.of(), 5), 104);
        ByteBuffer batch = builder.build(1);
        assertThat(BatchCodec.split(batch)).singleElement().satisfies(p -> {
            assertThat(p.baseOffset()).isEqualTo(100);
            assertThat(p.offsetSpan()).isEqualTo(5);
        });
        byte[] bytes = new byte[batch.remaining()];
        batch.duplicate().get(bytes);
        ByteBuffer.wrap(bytes).putInt(BatchCodec.OFFSETS_HEADER_SIZE - 8, 9); // span 9: the last delta is not 8
        fixCrc(bytes);
        ByteBuffer chunk = ByteBuffer.wrap(bytes);
        assertThatThrownBy(() -> ChunkCodec.decode(chunk, BlockFormat.crc32c(chunk), 8 + 2 * 6, 2, 100,
                (position, delta, ts, key, value, headers) -> { }))
                .isInstanceOfSatisfying(BlockFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(BlockFormatException.Reason.INCONSISTENT));
    }

    @Test
    void producersCannotSendOffsetBatches() {
        BatchBuilder builder = new BatchBuilder();
        builder.append(new LogRecord(null, new byte[] {1}, List.of(), 5), 100);
        ByteBuffer batch = builder.build(1);
        assertThatThrownBy(() -> BatchCodec.validate(batch, 1024))
                .isInstanceOfSatisfying(BlockFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(BlockFormatException.Reason.FOREIGN));
    }

    /** Recomputes an offset batch's CRC32C after a test changed its header. */
    private static void fixCrc(byte[] batch) {
        ByteBuffer in = ByteBuffer.wrap(batch);
        int frameLength = in.getInt(4);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(batch, 0, BatchCodec.OFFSETS_HEADER_SIZE - 4);
        crc.update(batch, BatchCodec.OFFSETS_HEADER_SIZE, frameLength);
        in.putInt(BatchCodec.OFFSETS_HEADER_SIZE - 4, (int) crc.getValue());
    }
}
