package io.strata.ingest.warmup;

import io.strata.format.BatchBuilder;
import io.strata.format.BatchCodec;
import io.strata.format.BlockReader;
import io.strata.format.BlockWriter;
import io.strata.format.ChunkCodec;
import io.strata.format.ChunkEntry;
import io.strata.format.LogRecord;
import io.strata.format.SealedBlock;
import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The produce path's work done once, in rounds, before a node reports ready: batches of synthetic records are
 * built and checked as a client's are, gathered into a block (zstd, the block format), the block uploaded to
 * the object store under a key of its own ({@link #PREFIX}), a chunk read back by range and checked, and
 * the object deleted. No topic, index entry or commit: nothing of it is ever visible to a client.
 *
 * <p>Why: on a cold node (and a cold S3-compatible server) the first real blocks took 200–330 ms to upload
 * and 150–200 ms to commit, where a warm node takes 12 and 6: the code of every step runs interpreted until
 * the JIT compiles it, and the object store's own server and client paths the same. A new user's first
 * second of produce had a p99 above a second (issue 27). Running the steps first, in the node's own start,
 * moves that cost before the node takes traffic. Bounded by a number of rounds and by time; any failure ends
 * it early (the node starts anyway: this is an optimisation, never a condition).
 */
public final class StartupWarmup {
    /** What was done: the rounds completed, and how long the warm-up took. */
    public record Result(int rounds, Duration took) {
    }

    /** Where the warm-up's objects go; the garbage collector walks it too. */
    public static final String PREFIX = "strata-warmup/";
    /** The least a call may wait, however little of the budget is left. */
    private static final long MIN_CALL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int RECORDS_PER_BATCH = 64;
    private static final int BATCHES_PER_BLOCK = 16;
    private static final int VALUE_BYTES = 512;

    private StartupWarmup() {
    }

    /**
     * Runs up to {@code maxRounds} rounds, stopping once {@code budget} has passed; a call of a round waits at
     * most {@code callTimeout}, and never much past the budget (a store that stalls ends the warm-up with a
     * timeout rather than holding the node's start). {@code nanos}: the clock. Throws what a round met: the
     * node then starts without the rest of its warm-up. An interrupted warm-up throws InterruptedException.
     */
    public static Result run(ObjectStore store, String nodeId, int compressionLevel, int maxRounds, Duration budget,
                             Duration callTimeout, LongSupplier nanos) throws Exception {
        long start = nanos.getAsLong();
        long until = start + budget.toNanos();
        String prefix = PREFIX + nodeId + "/" + UUID.randomUUID() + "/";
        int rounds = 0;
        while (rounds < maxRounds && nanos.getAsLong() - until < 0) {
            long left = Math.max(MIN_CALL_NANOS, until - nanos.getAsLong());
            round(store, ObjectKey.of(prefix + rounds), compressionLevel, rounds,
                    Math.min(callTimeout.toNanos(), left));
            rounds++;
        }
        return new Result(rounds, Duration.ofNanos(nanos.getAsLong() - start));
    }

    private static void round(ObjectStore store, ObjectKey key, int compressionLevel, int round, long timeoutNanos)
            throws Exception {
        BlockWriter block = new BlockWriter(compressionLevel);
        for (int b = 0; b < BATCHES_PER_BLOCK; b++) {
            BatchBuilder batch = new BatchBuilder(RECORDS_PER_BATCH * VALUE_BYTES);
            for (int r = 0; r < RECORDS_PER_BATCH; r++) {
                batch.append(record(round, b, r));
            }
            ByteBuffer encoded = batch.build(compressionLevel);
            // As the produce handler checks a client's batch before it takes it into a block.
            block.appendBatch(1, b, encoded, BatchCodec.validate(encoded.duplicate(), Integer.MAX_VALUE));
        }
        SealedBlock sealed = block.seal();
        try {
            store.put(key, sealed.bytes().duplicate()).get(timeoutNanos, TimeUnit.NANOSECONDS);
            ChunkEntry chunk = sealed.chunks().get(round % sealed.chunks().size());
            ByteBuffer read = store.get(key, ByteRange.of(chunk.byteOffset(), chunk.byteLength()))
                    .get(timeoutNanos, TimeUnit.NANOSECONDS);
            ChunkCodec.verify(read.duplicate(), chunk.crc32c());
            List<ChunkEntry> footer = BlockReader.readFooter(sealed.bytes().duplicate());
            BlockReader.readChunk(sealed.bytes().duplicate(), footer.get(0));
        } finally {
            // Also after a failed or timed-out put, which may have stored the object all the same (the compaction
            // role's collector takes what is left under the prefix after its grace).
            CompletableFuture<?> deleted = store.delete(Set.of(key));
            try {
                deleted.get(timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // left to the collector
            }
        }
    }

    private static LogRecord record(int round, int batch, int index) {
        byte[] value = new byte[VALUE_BYTES];
        byte[] text = ("warm-up " + round + "/" + batch + "/" + index + " ").getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < value.length; i++) {
            value[i] = text[i % text.length];
        }
        return new LogRecord(("k" + index).getBytes(StandardCharsets.US_ASCII), value, List.of(),
                1_700_000_000_000L + index);
    }
}
