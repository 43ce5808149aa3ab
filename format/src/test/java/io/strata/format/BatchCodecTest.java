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
import org.junit.jupiter.api.Test;

/** Record batches (format version 2): producers' batches and a node's own records in one chunk. */
class BatchCodecTest {
    private static LogRecord record(String value, long ts) {
        return new LogRecord(("k-" + value).getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8),
                List.of(new RecordHeader("trace", new byte[] {7})), ts);
    }

    private static byte[] batch(long firstTs, String... values) {
        BatchBuilder builder = new BatchBuilder();
        long ts = firstTs;
        for (String v : values) {
            builder.append(record(v, ts));
            ts -= 3; // out of order on purpose: min and max are not first and last
        }
        ByteBuffer built = builder.build(3);
        byte[] out = new byte[built.remaining()];
        built.get(out);
        return out;
    }

    /** The golden block of version 2: a producer's batch, then records one by one, in two partitions. */
    static SealedBlock goldenBlock() {
        BlockWriter writer = new BlockWriter(3);
        byte[] producer = batch(1_700_000_000_100L, "p0", "p1");
        writer.appendBatch(9, 1, ByteBuffer.wrap(producer), BatchCodec.validate(ByteBuffer.wrap(producer), 1024));
        writer.append(9, 1, record("n0", 1_700_000_000_050L));
        writer.append(9, 0, record("z0", 1_700_000_000_000L));
        writer.append(9, 1, record("n1", 1_700_000_000_051L));
        return writer.seal();
    }

    @Test
    void goldenVersion2BlockDecodesToItsRecords() throws IOException {
        ByteBuffer golden;
        try (InputStream in = getClass().getResourceAsStream("/format/block-v2.hex")) {
            golden = ByteBuffer.wrap(HexFormat.of().parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim()));
        }
        List<ChunkEntry> entries = BlockReader.readFooter(golden);
        assertThat(entries).extracting(ChunkEntry::partition).containsExactly(0, 1);
        assertThat(BlockReader.readChunk(golden, entries.get(0))).containsExactly(record("z0", 1_700_000_000_000L));
        assertThat(BlockReader.readChunk(golden, entries.get(1))).containsExactly(record("p0", 1_700_000_000_100L),
                record("p1", 1_700_000_000_097L), record("n0", 1_700_000_000_050L), record("n1", 1_700_000_000_051L));
        assertThat(entries.get(1).minTimestampMs()).isEqualTo(1_700_000_000_050L);
        assertThat(entries.get(1).maxTimestampMs()).isEqualTo(1_700_000_000_100L);
        assertThat(entries.get(1).recordCount()).isEqualTo(4);
    }

    @Test
    void producerBatchesAndSingleRecordsInterleaveInAppendOrderWithTheirPositions() {
        BlockWriter writer = new BlockWriter(1);
        List<LogRecord> expected = new ArrayList<>();
        int position = 0;
        for (int round = 0; round < 5; round++) {
            byte[] b = batch(1_000 + round, "b" + round + "a", "b" + round + "b", "b" + round + "c");
            BatchInfo info = BatchCodec.validate(ByteBuffer.wrap(b), 100);
            assertThat(writer.appendBatch(4, 2, ByteBuffer.wrap(b), info)).isEqualTo(position);
            expected.addAll(BatchCodec.decode(ByteBuffer.wrap(b)));
            position += 3;
            for (int i = 0; i < round; i++) {
                LogRecord single = record("s" + round + i, 5_000 + i);
                assertThat(writer.append(4, 2, single)).isEqualTo(position++);
                expected.add(single);
            }
        }
        SealedBlock sealed = writer.seal();
        ChunkEntry entry = sealed.chunks().get(0);
        assertThat(entry.recordCount()).isEqualTo(expected.size());
        assertThat(BlockReader.readChunk(sealed.bytes(), entry)).containsExactlyElementsOf(expected);
    }

    @Test
    void validationReportsTheHeaderOfAWellFormedBatch() {
        byte[] b = batch(2_000, "x", "yy", "zzz");
        BatchInfo info = BatchCodec.validate(ByteBuffer.wrap(b), 100);
        assertThat(info.recordCount()).isEqualTo(3);
        assertThat(info.minTimestampMs()).isEqualTo(1_994);
        assertThat(info.maxTimestampMs()).isEqualTo(2_000);
        assertThat(info.sizeBytes()).isEqualTo(b.length);
    }

    @Test
    void validationRejectsEveryDamagedOrOversizedBatch() {
        byte[] good = batch(2_000, "value-one", "value-two");
        for (int i = 0; i < good.length; i++) {
            byte[] flipped = good.clone();
            flipped[i] ^= 0x20;
            int at = i;
            assertThatThrownBy(() -> BatchCodec.validate(ByteBuffer.wrap(flipped), 100))
                    .as("a flipped bit at byte %d", at).isInstanceOf(BlockFormatException.class);
        }
        for (int cut = 1; cut < good.length; cut += 7) {
            byte[] truncated = java.util.Arrays.copyOf(good, good.length - cut);
            assertThatThrownBy(() -> BatchCodec.validate(ByteBuffer.wrap(truncated), 100))
                    .isInstanceOf(BlockFormatException.class);
        }
        byte[] stray = java.util.Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> BatchCodec.validate(ByteBuffer.wrap(stray), 100))
                .isInstanceOf(BlockFormatException.class).hasMessageContaining("stray");
        assertThatThrownBy(() -> BatchCodec.validate(ByteBuffer.wrap(good), 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("over the limit");
    }

    @Test
    void aChunkWhoseBatchesDisagreeWithTheIndexIsRejected() {
        SealedBlock sealed = goldenBlock();
        ChunkEntry e = sealed.chunks().get(1);
        byte[] chunk = new byte[e.byteLength()];
        sealed.bytes().duplicate().position((int) e.byteOffset()).get(chunk);
        assertThatThrownBy(() -> ChunkCodec.decode(ByteBuffer.wrap(chunk), e.crc32c(), e.uncompressedLength(),
                e.recordCount() - 1)).isInstanceOfSatisfying(BlockFormatException.class,
                ex -> assertThat(ex.reason()).isEqualTo(BlockFormatException.Reason.INCONSISTENT));
    }

    /** Prints the golden block's hex (run by hand once when version 2 was made; the file must never change). */
    public static void main(String[] args) {
        SealedBlock sealed = goldenBlock();
        byte[] bytes = new byte[sealed.sizeBytes()];
        sealed.bytes().duplicate().get(bytes);
        System.out.println(HexFormat.of().formatHex(bytes));
    }
}
