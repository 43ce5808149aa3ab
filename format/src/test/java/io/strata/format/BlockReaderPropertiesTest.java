package io.strata.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The block reader on random blocks, intact and damaged: an intact block reads back exactly as written, by its
 * footer and by the index's view of each chunk; a block with bits flipped, bytes overwritten or its end cut off
 * either fails with {@link BlockFormatException} or reads back exactly as written. It never answers a wrong
 * record, which is what lets a fetch node retry a damaged read instead of serving it.
 */
class BlockReaderPropertiesTest {
    /** One write: a record appended on its own, or a producer's batch of records; to a partition. */
    record Write(int partition, List<LogRecord> records, boolean asBatch) {
    }

    /** A damage: flip bit {@code bit} of byte {@code at}, overwrite byte {@code at} with {@code value}, or cut there. */
    record Damage(int kind, double at, int bit, byte value) {
    }

    @Provide
    Arbitrary<List<Write>> writes() {
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(120);
        Arbitrary<List<RecordHeader>> headers = Combinators.combine(Arbitraries.strings().alpha().ofMinLength(1)
                .ofMaxLength(8), Arbitraries.bytes().array(byte[].class).ofMaxSize(16)).as(RecordHeader::new)
                .list().ofMaxSize(2);
        Arbitrary<LogRecord> record = Combinators.combine(bytes.injectNull(0.3), bytes, headers,
                Arbitraries.longs().between(0, 4_000_000_000_000L)).as(LogRecord::new);
        return Combinators.combine(Arbitraries.integers().between(0, 3), record.list().ofMinSize(1).ofMaxSize(6),
                Arbitraries.of(true, false)).as((p, records, batch) -> new Write(p, batch ? records
                : records.subList(0, 1), batch)).list().ofMinSize(1).ofMaxSize(25);
    }

    @Provide
    Arbitrary<List<Damage>> damages() {
        return Combinators.combine(Arbitraries.integers().between(0, 2), Arbitraries.doubles().between(0, 1),
                Arbitraries.integers().between(0, 7), Arbitraries.bytes()).as(Damage::new).list().ofMinSize(1)
                .ofMaxSize(3);
    }

    /** The block the writes make, and what each partition holds in order. */
    private static SealedBlock seal(List<Write> writes, Map<Integer, List<LogRecord>> expected) {
        BlockWriter writer = new BlockWriter(1);
        for (Write w : writes) {
            if (w.asBatch()) {
                BatchBuilder builder = new BatchBuilder();
                w.records().forEach(builder::append);
                ByteBuffer batch = builder.build(1);
                writer.appendBatch(9, w.partition(), batch, BatchCodec.validate(batch, 1 << 20));
            } else {
                w.records().forEach(r -> writer.append(9, w.partition(), r));
            }
            expected.computeIfAbsent(w.partition(), p -> new ArrayList<>()).addAll(w.records());
        }
        return writer.seal();
    }

    /** A chunk as the index knows it (offset, length, sizes, CRC32C), read from whatever bytes are there. */
    private static List<LogRecord> readAsIndexed(ByteBuffer object, ChunkEntry entry) {
        int start = (int) Math.min(entry.byteOffset(), object.limit());
        int end = (int) Math.min(entry.byteOffset() + entry.byteLength(), object.limit());
        return ChunkCodec.decode(object.duplicate().position(start).limit(end).slice(), entry.crc32c(),
                entry.uncompressedLength(), entry.recordCount());
    }

    @Property(tries = 200)
    void anIntactBlockReadsBackExactlyAsWritten(@ForAll("writes") List<Write> writes) {
        Map<Integer, List<LogRecord>> expected = new TreeMap<>();
        SealedBlock block = seal(writes, expected);
        List<ChunkEntry> footer = BlockReader.readFooter(block.bytes());
        assertThat(footer).isEqualTo(block.chunks());
        Map<Integer, List<LogRecord>> read = new TreeMap<>();
        for (ChunkEntry e : footer) {
            read.put(e.partition(), BlockReader.readChunk(block.bytes(), e));
            assertThat(readAsIndexed(block.bytes(), e)).isEqualTo(read.get(e.partition()));
        }
        assertThat(read).isEqualTo(expected);
    }

    @Property(tries = 500)
    void aDamagedBlockFailsOrReadsBackExactlyAsWrittenNeverWrong(@ForAll("writes") List<Write> writes,
                                                                 @ForAll("damages") List<Damage> damages) {
        Map<Integer, List<LogRecord>> expected = new HashMap<>();
        SealedBlock block = seal(writes, expected);
        byte[] bytes = new byte[block.sizeBytes()];
        block.bytes().duplicate().get(bytes);
        int length = bytes.length;
        for (Damage d : damages) {
            if (length == 0) {
                break;
            }
            int at = (int) Math.min(length - 1, d.at() * length);
            switch (d.kind()) {
                case 0 -> bytes[at] ^= (byte) (1 << d.bit());
                case 1 -> bytes[at] = d.value();
                default -> length = at;
            }
        }
        ByteBuffer damaged = ByteBuffer.wrap(bytes, 0, length).slice();
        for (ChunkEntry e : block.chunks()) {
            List<LogRecord> read;
            try {
                read = readAsIndexed(damaged, e);
            } catch (BlockFormatException refused) {
                continue;
            }
            assertThat(read).as("chunk of partition %d", e.partition()).isEqualTo(expected.get(e.partition()));
        }
        List<ChunkEntry> footer;
        try {
            footer = BlockReader.readFooter(damaged);
        } catch (BlockFormatException refused) {
            return;
        }
        for (ChunkEntry e : footer) {
            try {
                assertThat(BlockReader.readChunk(damaged, e)).isEqualTo(expected.get(e.partition()));
            } catch (BlockFormatException refused) {
                // refused is right; a wrong record is not
            }
        }
    }
}
