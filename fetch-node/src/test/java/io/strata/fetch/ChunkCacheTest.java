package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.fetch.cache.ChunkCache;
import io.strata.fetch.cache.ChunkKey;
import io.strata.format.BlockFormatException;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.PartitionId;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two cache tiers and the GETs they issue, over a real local object store. */
class ChunkCacheTest {
    @TempDir
    Path dir;
    private LocalObjectStore objects;
    private final List<ChunkCache> caches = new ArrayList<>();

    @BeforeEach
    void open() {
        objects = new LocalObjectStore(dir.resolve("objects"));
    }

    @AfterEach
    void close() {
        caches.forEach(ChunkCache::close);
        objects.close();
    }

    @Test
    void neighboursOfOneObjectAreReadWithOneGet() {
        List<ChunkRef> chunks = object("o1", 8, 1000);
        ChunkCache cache = cache(new ChunkCache.Settings(64 << 20, null, 0, 16 << 20, 1 << 20));
        ByteBuffer first = cache.get(chunks.get(3), wanted -> chunks).join();
        assertThat(first.remaining()).isEqualTo(1000);
        for (ChunkRef c : chunks) {
            assertThat(cache.get(c).join().get(0)).isEqualTo((byte) c.partition().partition());
        }
        assertThat(cache.loads()).isEqualTo(1);
        assertThat(cache.loadedBytes()).isEqualTo(8 * 1000);
    }

    @Test
    void aWidenedGetStaysWithinItsSpanLimit() {
        List<ChunkRef> chunks = object("o2", 8, 1000);
        ChunkCache cache = cache(new ChunkCache.Settings(64 << 20, null, 0, 3000, 1 << 20));
        cache.get(chunks.get(0), wanted -> chunks).join();
        assertThat(cache.loadedBytes()).isEqualTo(3000);
        chunks.forEach(c -> cache.get(c, wanted -> chunks).join());
        assertThat(cache.loads()).as("8 chunks, at most 3 per GET").isEqualTo(3);
    }

    @Test
    void chunksEvictedFromMemoryAreServedFromDiskWithoutAGet() throws Exception {
        List<ChunkRef> chunks = object("o3", 20, 100_000);
        ChunkCache cache = cache(new ChunkCache.Settings(300_000, dir.resolve("disk"), 64 << 20, 16 << 20, 0));
        for (ChunkRef c : chunks) {
            cache.get(c).join();
        }
        assertThat(cache.loads()).isEqualTo(20);
        awaitTrue(() -> diskFiles() >= 15);
        for (ChunkRef c : chunks.subList(0, 10)) {
            assertThat(cache.get(c).join().get(5)).isEqualTo((byte) c.partition().partition());
        }
        assertThat(cache.diskHits()).isGreaterThanOrEqualTo(8);
        assertThat(cache.loads()).isLessThanOrEqualTo(22);
    }

    @Test
    void servedChunksShowTheirArraySoProtobufWrapsThemWithoutACopy() {
        List<ChunkRef> chunks = object("o6", 2, 1000);
        ChunkCache cache = cache(ChunkCache.Settings.memoryOnly(64 << 20));
        ByteBuffer loaded = cache.get(chunks.get(0)).join();
        ByteBuffer again = cache.get(chunks.get(0)).join();
        assertThat(loaded.hasArray()).isTrue();
        assertThat(again.array()).as("the cached bytes themselves").isSameAs(loaded.array());
    }

    @Test
    void aSecondPassServedFromDiskDoesNotWriteTheFilesAgain() throws Exception {
        List<ChunkRef> chunks = object("o5", 20, 100_000);
        ChunkCache cache = cache(new ChunkCache.Settings(300_000, dir.resolve("disk"), 64 << 20, 16 << 20, 0));
        chunks.forEach(c -> cache.get(c).join());
        // Memory holds two of the 100 kB chunks: the other 18 are written. Waiting for all of them (not for
        // most of the files) keeps a write still under way out of the second pass's count.
        awaitTrue(() -> cache.diskWrites() >= 18);
        assertThat(diskFiles()).isGreaterThanOrEqualTo(17);
        long written = cache.diskWrites();
        chunks.forEach(c -> cache.get(c).join());
        Thread.sleep(200); // what the second pass evicts would be written by now
        assertThat(cache.diskHits()).as("the second pass is read from disk").isGreaterThanOrEqualTo(15);
        // Only the few chunks memory still held after the first pass are new to the disk tier.
        assertThat(cache.diskWrites() - written).isLessThanOrEqualTo(3);
        assertThat(cache.loads()).isEqualTo(20);
    }

    @Test
    void aBacklogReadOnceIsKeptOnDiskInPlaceOfChunksReadBeforeIt() throws Exception {
        List<ChunkRef> before = object("o6", 20, 100_000);
        List<ChunkRef> backlog = object("o7", 20, 100_000);
        // Room on disk for the backlog and a little more, not for both objects.
        ChunkCache cache = cache(new ChunkCache.Settings(300_000, dir.resolve("disk"), 2_300_000, 16 << 20, 0));
        before.forEach(c -> cache.get(c).join());
        awaitTrue(() -> cache.diskWrites() >= 17);
        backlog.forEach(c -> cache.get(c).join());
        awaitTrue(() -> cache.diskWrites() >= 34);
        long loads = cache.loads();

        backlog.forEach(c -> cache.get(c).join());

        assertThat(cache.loads() - loads).as("the second read of the backlog needs no GET").isZero();
        assertThat(cache.diskBytes()).isLessThanOrEqualTo(2_300_000);
    }

    @Test
    void aDamagedChunkFailsAndIsNotKeptWhileItsNeighboursAreServed() throws Exception {
        List<ChunkRef> chunks = object("o4", 4, 1000);
        ChunkRef bad = chunks.get(2);
        ChunkRef wrongCrc = new ChunkRef(bad.partition(), bad.objectKey(), bad.baseOffset(), bad.recordCount(),
                bad.byteOffset(), bad.byteLength(), bad.uncompressedLength(), 0, 0, bad.crc32c() ^ 1);
        List<ChunkRef> wanted = List.of(chunks.get(0), chunks.get(1), wrongCrc, chunks.get(3));
        ChunkCache cache = cache(ChunkCache.Settings.memoryOnly(64 << 20));
        assertThat(cache.get(chunks.get(0), w -> wanted).join().remaining()).isEqualTo(1000);
        // The last chunk of the widened GET: once it is served, every chunk of that GET has been checked.
        assertThat(cache.get(chunks.get(3)).join().remaining()).isEqualTo(1000);
        awaitTrue(() -> cache.corrupt() == 3);
        assertThat(cache.loads()).as("one GET for all four, the bad one read twice more on its own").isEqualTo(3);
        assertThatThrownBy(() -> cache.get(wrongCrc).join()).as("not kept: read again, still bad")
                .isInstanceOf(CompletionException.class).cause().isInstanceOf(BlockFormatException.class);
        assertThat(cache.loads()).isEqualTo(6);
        assertThat(cache.corrupt()).isEqualTo(6);
    }

    @Test
    void aChunkDamagedOnTheWayIsReadAgainAndServedNeverCachedDamaged() {
        List<ChunkRef> chunks = object("o8", 2, 1000);
        DamagingObjectStore damaging = new DamagingObjectStore(objects);
        ChunkCache cache = new ChunkCache(damaging, ChunkCache.Settings.memoryOnly(64 << 20));
        caches.add(cache);
        damaging.damageNext(2);
        ByteBuffer served = cache.get(chunks.get(1)).join();
        assertThat(served).isEqualTo(content(chunks.get(1)));
        assertThat(cache.corrupt()).as("two damaged answers, then a good one").isEqualTo(2);
        assertThat(cache.loads()).isEqualTo(3);
        assertThat(cache.get(chunks.get(1)).join()).isEqualTo(content(chunks.get(1)));
        assertThat(cache.loads()).as("the good bytes were cached").isEqualTo(3);
        damaging.damageNext(3);
        assertThatThrownBy(() -> cache.get(chunks.get(0)).join())
                .as("three reads giving the same wrong bytes: the stored object is damaged, DATA_LOSS")
                .cause().isInstanceOf(BlockFormatException.class);
    }

    @Test
    void aChunkDamagedDifferentlyAtEveryReadIsUnavailableNotDataLoss() throws Exception {
        List<ChunkRef> chunks = object("o9", 1, 1000);
        DamagingObjectStore damaging = new DamagingObjectStore(objects);
        ChunkCache cache = new ChunkCache(damaging, ChunkCache.Settings.memoryOnly(64 << 20));
        caches.add(cache);
        damaging.damageNextDifferently(3);
        assertThatThrownBy(() -> cache.get(chunks.get(0)).join())
                .as("damaged in transit three times: the object is intact, the reader may retry")
                .cause().isInstanceOfSatisfying(io.strata.storage.object.ObjectStoreException.class,
                        e -> assertThat(e.retryable()).isTrue());
        // Not kept: once the failed load has left the in-flight map, a reader's retry reads it again, intact.
        awaitTrue(() -> {
            try {
                return cache.get(chunks.get(0)).join().equals(content(chunks.get(0)));
            } catch (CompletionException e) {
                return false;
            }
        });
    }

    @Test
    void aChunkHandedOverAsAViewOfItsBlockIsKeptInABufferOfItsOwn() {
        List<ChunkRef> chunks = object("o7", 3, 500);
        ChunkCache cache = cache(ChunkCache.Settings.memoryOnly(64 << 20));
        // The block as the node that sealed it holds it: the chunks side by side in one buffer.
        ByteBuffer block = ByteBuffer.allocate(1500);
        chunks.forEach(c -> block.put(content(c)));
        ByteBuffer view = block.duplicate().position(500).slice().limit(500);
        assertThat(cache.offer(ChunkKey.of(chunks.get(1)), view)).isTrue();
        ByteBuffer held = cache.get(chunks.get(1)).join();
        assertThat(held.get(0)).isEqualTo((byte) 1);
        assertThat(held.array()).as("not the block's array, which it would keep alive").hasSize(500)
                .isNotSameAs(block.array());
        assertThat(cache.loads()).isZero();
    }

    @Test
    void handedOverChunksAreServedWithoutAGetAndBadOnesAreRefused() {
        List<ChunkRef> chunks = object("o5", 2, 500);
        ChunkCache cache = cache(ChunkCache.Settings.memoryOnly(64 << 20));
        assertThat(cache.offer(ChunkKey.of(chunks.get(0)), content(chunks.get(0)))).isTrue();
        ByteBuffer wrong = content(chunks.get(1));
        wrong.put(7, (byte) 99);
        assertThat(cache.offer(ChunkKey.of(chunks.get(1)), wrong)).isFalse();
        assertThat(cache.get(chunks.get(0)).join().get(0)).isEqualTo((byte) 0);
        assertThat(cache.loads()).isZero();
        assertThat(cache.get(chunks.get(1)).join().get(7)).isEqualTo((byte) 1);
        assertThat(cache.loads()).isEqualTo(1);
    }

    @Test
    void concurrentRequestsForOneChunkIssueOneGet() {
        List<ChunkRef> chunks = object("o6", 1, 4000);
        ChunkCache cache = cache(ChunkCache.Settings.memoryOnly(64 << 20));
        List<CompletableFuture<ByteBuffer>> all = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            all.add(cache.get(chunks.get(0)));
        }
        all.forEach(f -> assertThat(f.join().remaining()).isEqualTo(4000));
        assertThat(cache.loads()).isEqualTo(1);
        assertThat(cache.memoryHits()).isEqualTo(99);
    }

    private ChunkCache cache(ChunkCache.Settings settings) {
        ChunkCache cache = new ChunkCache(objects, settings);
        caches.add(cache);
        return cache;
    }

    /** An object of {@code count} chunks of {@code size} bytes, chunk i filled with the byte i (its partition). */
    private List<ChunkRef> object(String key, int count, int size) {
        ByteBuffer all = ByteBuffer.allocate(count * size);
        List<ChunkRef> refs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] bytes = new byte[size];
            java.util.Arrays.fill(bytes, (byte) i);
            all.put(bytes);
            refs.add(new ChunkRef(new PartitionId(1, i), key, 0, 1, (long) i * size, size, size, 0, 0,
                    io.strata.format.BlockFormat.crc32c(ByteBuffer.wrap(bytes))));
        }
        objects.put(ObjectKey.of(key), all.flip()).join();
        return refs;
    }

    private static ByteBuffer content(ChunkRef ref) {
        byte[] bytes = new byte[ref.byteLength()];
        java.util.Arrays.fill(bytes, (byte) ref.partition().partition());
        return ByteBuffer.wrap(bytes);
    }

    private long diskFiles() throws Exception {
        try (Stream<Path> files = Files.list(dir.resolve("disk"))) {
            return files.filter(p -> p.toString().endsWith(".chunk")).count();
        }
    }

    private static void awaitTrue(java.util.concurrent.Callable<Boolean> condition) throws Exception {
        long until = System.nanoTime() + 10_000_000_000L;
        while (!condition.call()) {
            assertThat(System.nanoTime()).as("condition within 10 s").isLessThan(until);
            Thread.sleep(10);
        }
    }
}
