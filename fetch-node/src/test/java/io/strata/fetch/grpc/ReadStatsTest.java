package io.strata.fetch.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.ChunkRef;
import io.strata.metadata.PartitionId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a fetch node counts as served: records and bytes of the chunks read, and the tail's end-to-end latency. */
class ReadStatsTest {
    private static final PartitionId P = new PartitionId(3, 0);
    private final ReadStats stats = new ReadStats();
    private final List<Long> endToEnd = new ArrayList<>();

    @BeforeEach
    void sink() {
        stats.endToEnd(endToEnd::add);
    }

    private static ChunkRef chunk(long base, int records, int bytes, long newestMs) {
        return new ChunkRef(P, "wal/x", base, records, 0, bytes, bytes * 2, newestMs - 5, newestMs, 0);
    }

    /** A read from {@code offset} of these chunks (a null buffer: passed over unread), the partition ending at {@code end}. */
    private static FetchHandler.ChunkRead read(long offset, long end, List<ChunkRef> chunks, ByteBuffer... bytes) {
        return new FetchHandler.ChunkRead(offset, 1 << 20, chunks, Arrays.asList(bytes), end, 0, end, end, List.of());
    }

    @Test
    void aReaderAtTheTailCountsTheRecordsFromItsOffsetAndTheAgeOfTheNewestRecord() {
        ByteBuffer some = ByteBuffer.allocate(1);
        stats.read(read(10, 30, List.of(chunk(10, 10, 400, 1_000), chunk(20, 10, 300, 1_200)), some, some), 1_250);
        assertThat(stats.records()).isEqualTo(20);
        assertThat(stats.bytes()).isEqualTo(700);
        assertThat(endToEnd).containsExactly(50L);
    }

    @Test
    void aReadFromInsideAChunkCountsOnlyWhatFollowsItsOffsetAndIsNoTailLatency() {
        stats.read(read(14, 20, List.of(chunk(10, 10, 400, 1_000)), ByteBuffer.allocate(1)), 9_000);
        assertThat(stats.records()).isEqualTo(6);
        assertThat(stats.bytes()).isEqualTo(400);
        assertThat(endToEnd).as("the chunk was read before: its age is not the tail's").isEmpty();
    }

    @Test
    void aChunkPassedOverUnreadAndAReaderBehindTheEndCountNoLatency() {
        stats.read(read(0, 50, List.of(chunk(0, 10, 100, 1_000), chunk(10, 10, 200, 1_100)),
                null, ByteBuffer.allocate(1)), 2_000);
        assertThat(stats.records()).as("the aborted chunk passed over is not served").isEqualTo(10);
        assertThat(stats.bytes()).isEqualTo(200);
        assertThat(endToEnd).as("a reader behind the end is catching up, not at the tail").isEmpty();
    }
}
