package io.strata.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BlockFormatTest {

    /** The records of the golden block, written once by format version 1 and never changed since. */
    static List<LogRecord> goldenRecords(int partition) {
        List<LogRecord> records = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            byte[] key = i == 1 ? null : ("k" + partition + i).getBytes(StandardCharsets.UTF_8);
            List<RecordHeader> headers = i == 2 ? List.of(new RecordHeader("h", new byte[] {1, 2})) : List.of();
            records.add(new LogRecord(key, ("value-" + partition + "-" + i).getBytes(StandardCharsets.UTF_8),
                    headers, 1_700_000_000_000L + partition * 10L + i));
        }
        return records;
    }

    static SealedBlock goldenBlock() {
        BlockWriter writer = new BlockWriter(3);
        for (int i = 0; i < 3; i++) {
            for (int partition : new int[] {2, 0}) {
                writer.append(7, partition, goldenRecords(partition).get(i));
            }
        }
        return writer.seal();
    }

    /** The golden version-1 block's bytes. */
    static ByteBuffer goldenVersion1() {
        try (InputStream in = BlockFormatTest.class.getResourceAsStream("/format/block-v1.hex")) {
            return ByteBuffer.wrap(HexFormat.of().parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void goldenVersion1BlockDecodesToItsRecords() {
        ByteBuffer golden = goldenVersion1();
        List<ChunkEntry> entries = BlockReader.readFooter(golden);
        assertThat(entries).extracting(ChunkEntry::partition).containsExactly(0, 2);
        assertThat(entries).allSatisfy(e -> assertThat(e.topicId()).isEqualTo(7));
        for (ChunkEntry e : entries) {
            assertThat(BlockReader.readChunk(golden, e)).containsExactlyElementsOf(goldenRecords(e.partition()));
            assertThat(e.minTimestampMs()).isEqualTo(1_700_000_000_000L + e.partition() * 10L);
            assertThat(e.maxTimestampMs()).isEqualTo(1_700_000_000_002L + e.partition() * 10L);
        }
    }

    @Test
    void theWriterLaysOutHeaderAndTrailerOfVersion2() {
        ByteBuffer block = goldenBlock().bytes();
        assertThat(HexFormat.of().formatHex(bytes(block, 0, 8))).isEqualTo("5354524202000000");
        int end = block.remaining();
        assertThat(HexFormat.of().formatHex(bytes(block, end - 8, 8))).isEqualTo("0200000053545242");
        long footerOffset = block.getLong(end - 24);
        int footerLength = block.getInt(end - 16);
        assertThat(footerOffset + footerLength).isEqualTo(end - 24);
        assertThat(footerLength).isEqualTo(4 + 2 * ChunkEntry.ENCODED_SIZE);
    }

    @Test
    void randomRecordsRoundTripPerPartitionInAppendOrder() {
        Random random = new Random(42);
        BlockWriter writer = new BlockWriter(1);
        Map<Integer, List<LogRecord>> expected = new HashMap<>();
        for (int i = 0; i < 5_000; i++) {
            int partition = random.nextInt(17);
            byte[] value = new byte[random.nextInt(300)];
            random.nextBytes(value);
            byte[] key = random.nextBoolean() ? null : new byte[random.nextInt(20)];
            List<RecordHeader> headers = random.nextInt(5) == 0
                    ? List.of(new RecordHeader("trace-\u00e9", value.length > 3 ? new byte[] {value[0]} : new byte[0]))
                    : List.of();
            LogRecord record = new LogRecord(key, value, headers, random.nextLong() >>> 20);
            int position = writer.append(3, partition, record);
            List<LogRecord> list = expected.computeIfAbsent(partition, p -> new ArrayList<>());
            assertThat(position).isEqualTo(list.size());
            list.add(record);
        }
        SealedBlock sealed = writer.seal();
        assertThat(sealed.chunks()).hasSize(expected.size());
        for (ChunkEntry e : BlockReader.readFooter(sealed.bytes())) {
            assertThat(BlockReader.readChunk(sealed.bytes(), e)).containsExactlyElementsOf(expected.get(e.partition()));
        }
        assertThat(BlockReader.readFooter(sealed.bytes())).isEqualTo(sealed.chunks());
    }

    @Test
    void chunkReadByItsRangeAloneDecodes() {
        SealedBlock sealed = goldenBlock();
        ChunkEntry entry = sealed.chunks().get(1);
        ByteBuffer onlyChunk = ByteBuffer.wrap(bytes(sealed.bytes(), (int) entry.byteOffset(), entry.byteLength()));
        assertThat(ChunkCodec.decode(onlyChunk, entry)).containsExactlyElementsOf(goldenRecords(2));
    }

    @Test
    void flippedBitInChunkIsRejectedAsCorrupt() {
        SealedBlock sealed = goldenBlock();
        ChunkEntry entry = sealed.chunks().get(0);
        byte[] chunk = bytes(sealed.bytes(), (int) entry.byteOffset(), entry.byteLength());
        chunk[chunk.length / 2] ^= 0x10;
        assertThatThrownBy(() -> ChunkCodec.decode(ByteBuffer.wrap(chunk), entry))
                .isInstanceOf(BlockFormatException.class)
                .satisfies(e -> assertThat(((BlockFormatException) e).reason()).isEqualTo(BlockFormatException.Reason.CORRUPT));
    }

    @Test
    void flippedBitInFooterIsRejectedAsCorrupt() {
        byte[] block = bytes(goldenBlock().bytes(), 0, goldenBlock().sizeBytes());
        block[block.length - 30] ^= 0x01;
        assertThatThrownBy(() -> BlockReader.readFooter(ByteBuffer.wrap(block)))
                .isInstanceOf(BlockFormatException.class).hasMessageContaining("CORRUPT");
    }

    @Test
    void truncatedBlockIsRejected() {
        SealedBlock sealed = goldenBlock();
        for (int cut : new int[] {1, 10, 24, sealed.sizeBytes() / 2, sealed.sizeBytes() - 9}) {
            ByteBuffer truncated = ByteBuffer.wrap(bytes(sealed.bytes(), 0, sealed.sizeBytes() - cut));
            assertThatThrownBy(() -> BlockReader.readFooter(truncated)).isInstanceOf(BlockFormatException.class);
        }
    }

    @Test
    void foreignObjectIsRejectedAsForeign() {
        byte[] json = "{\"hello\": \"this is not a strata block at all, only some json text\"}".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> BlockReader.readFooter(ByteBuffer.wrap(json)))
                .isInstanceOfSatisfying(BlockFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(BlockFormatException.Reason.FOREIGN));
    }

    @Test
    void unknownVersionIsRejected() {
        byte[] block = bytes(goldenBlock().bytes(), 0, goldenBlock().sizeBytes());
        block[4] = 9;
        assertThatThrownBy(() -> BlockReader.readFooter(ByteBuffer.wrap(block)))
                .isInstanceOfSatisfying(BlockFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(BlockFormatException.Reason.UNSUPPORTED_VERSION));
    }

    @Test
    void chunkWhoseRecordCountDisagreesWithIndexIsRejected() {
        SealedBlock sealed = goldenBlock();
        ChunkEntry e = sealed.chunks().get(0);
        ByteBuffer chunk = ByteBuffer.wrap(bytes(sealed.bytes(), (int) e.byteOffset(), e.byteLength()));
        assertThatThrownBy(() -> ChunkCodec.decode(chunk, e.crc32c(), e.uncompressedLength(), e.recordCount() + 1))
                .isInstanceOfSatisfying(BlockFormatException.class,
                        ex -> assertThat(ex.reason()).isEqualTo(BlockFormatException.Reason.INCONSISTENT));
    }

    private static byte[] bytes(ByteBuffer buffer, int offset, int length) {
        byte[] out = new byte[length];
        buffer.duplicate().position(buffer.position() + offset).get(out);
        return out;
    }
}
