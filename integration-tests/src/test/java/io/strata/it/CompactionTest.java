package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.strata.client.Admin;
import io.strata.client.Consumer;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.ProducerConfig;
import io.strata.client.RecordMetadata;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import io.strata.client.TopicAlteration;
import io.strata.client.TopicInfo;
import io.strata.metadata.IndexEntry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compaction job across processes, against a real etcd and a real S3-compatible server: merged data
 * reads exactly as produced, compaction runs under producers and catch-up readers without an error,
 * retention and topic deletion leave the index and the bucket right, and workers killed at any moment
 * break nothing. Every record carries its partition and sequence number, so a reader tells a lost,
 * repeated or misplaced record.
 */
class CompactionTest {
    /** Compaction in seconds rather than minutes, for a test's time scale. */
    private static final Map<String, String> FAST = Map.of(
            "strata.compaction.interval", "1s",
            "strata.compaction.min-age", "1s",
            "strata.compaction.segment-bytes", "1048576",
            "strata.compaction.segment-chunk-bytes", "65536",
            "strata.compaction.small-segment-bytes", "262144",
            "strata.compaction.lock-ttl", "2s",
            "strata.compaction.history-keep", "2s",
            "strata.gc.grace", "2s");

    @TempDir
    Path work;
    private StrataCluster cluster;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startCluster() {
        cluster = new StrataCluster(work);
    }

    @AfterEach
    void stopCluster() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        cluster.close();
    }

    private StrataClient client(StrataProcess node) {
        StrataClient client = StrataClient.builder().server(node.address()).build();
        closeables.add(client);
        return client;
    }

    private ClusterInspector inspector() {
        ClusterInspector inspector = cluster.inspector();
        closeables.add(inspector);
        return inspector;
    }

    private StrataProcess compactionNode(String name) {
        return cluster.start(name, "compaction", FAST);
    }

    private static byte[] value(int partition, long sequence, Random random) {
        byte[] bytes = new byte[200];
        random.nextBytes(bytes);
        ByteBuffer.wrap(bytes).putInt(partition).putLong(sequence);
        return bytes;
    }

    private static long sequence(byte[] value) {
        return ByteBuffer.wrap(value).getLong(4);
    }

    /** Acknowledged records: per partition, the offset each sequence number got. */
    private static final class Acks {
        final Map<Integer, Map<Long, Long>> offsetBySequence = new ConcurrentHashMap<>();

        void add(int partition, long sequence, RecordMetadata meta) {
            offsetBySequence.computeIfAbsent(partition, p -> new ConcurrentHashMap<>()).put(sequence, meta.offset());
        }

        long count() {
            return offsetBySequence.values().stream().mapToLong(Map::size).sum();
        }
    }

    /** Sends {@code perPartition} records to each partition in small batches (many small blocks). */
    private static Acks produce(StrataClient client, String topic, int partitions, int perPartition) throws Exception {
        return produce(client, topic, partitions, perPartition, 0, new Acks());
    }

    /** The same, numbering the records from {@code first} and adding their acknowledgements to {@code acks}. */
    private static Acks produce(StrataClient client, String topic, int partitions, int perPartition, long first,
                                Acks acks) throws Exception {
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(2)));
        Random random = new Random(1);
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (long i = first; i < first + perPartition; i++) {
            for (int p = 0; p < partitions; p++) {
                int partition = p;
                long sequence = i;
                pending.add(producer.send(topic, p, null, value(p, i, random))
                        .thenAccept(meta -> acks.add(partition, sequence, meta)));
            }
            if (i % 50 == 49) {
                producer.flush();
            }
        }
        producer.flush();
        for (CompletableFuture<?> f : pending) {
            f.get(1, TimeUnit.MINUTES);
        }
        return acks;
    }

    /** Reads every partition from its log start to its end and checks each record against the acknowledgements. */
    private static long readAll(StrataClient client, String topic, Acks acks, long[] starts) {
        Consumer consumer = client.consumer(topic);
        consumer.assignAll();
        consumer.seekToBeginning();
        TopicInfo info = client.admin().describeTopic(topic);
        long[] next = new long[info.partitions()];
        long[] ends = new long[info.partitions()];
        for (int p = 0; p < info.partitions(); p++) {
            next[p] = consumer.position(p);
            ends[p] = info.partitionDetails().get(p).endOffset();
            if (starts != null) {
                starts[p] = next[p];
            }
        }
        long read = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!java.util.Arrays.equals(next, ends) && System.nanoTime() < deadline) {
            for (ConsumerRecord r : consumer.poll(Duration.ofSeconds(2))) {
                assertThat(r.offset()).as("partition %d in offset order, nothing skipped", r.partition())
                        .isEqualTo(next[r.partition()]);
                long sequence = sequence(r.value());
                assertThat(ByteBuffer.wrap(r.value()).getInt(0)).isEqualTo(r.partition());
                assertThat(acks.offsetBySequence.get(r.partition()).get(sequence))
                        .as("record %d of partition %d is at the offset it was acknowledged with", sequence,
                                r.partition()).isEqualTo(r.offset());
                next[r.partition()]++;
                read++;
            }
        }
        assertThat(next).as("read to the end").containsExactly(ends);
        consumer.close();
        return read;
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for %s", what).isLessThan(deadline);
            Thread.sleep(250);
        }
    }

    /** The stored bytes the index holds of a topic's live chunks (what retention by size counts). */
    private static long storedBytes(ClusterInspector inspector, long topicId) {
        long bytes = 0;
        for (IndexEntry e : inspector.entries()) {
            if (e.isSegment()) {
                bytes += e.segment().partition().topicId() == topicId ? e.segment().byteLength() : 0;
            } else {
                bytes += e.chunks().stream().filter(c -> c.partition().topicId() == topicId)
                        .mapToLong(c -> c.byteLength()).sum();
            }
        }
        return bytes;
    }

    private static boolean noWal(ClusterInspector inspector) {
        return inspector.entries().stream().allMatch(IndexEntry::isSegment)
                && inspector.objects().stream().noneMatch(k -> k.startsWith("wal/"));
    }

    @Test
    void walBlocksMergeIntoSegmentsThatConsumersReadAsTheRecordsWereProduced() throws Exception {
        List<StrataProcess> nodes = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                cluster.prepare("fetch-1", "fetch", Map.of()));
        StrataProcess ingest = nodes.get(0);
        StrataProcess fetch = nodes.get(1);
        cluster.createTopic(ingest, "merged", 4);
        Acks acks = produce(client(ingest), "merged", 4, 2_500);
        ClusterInspector inspector = inspector();
        int blocks = inspector.objects().size();
        assertThat(blocks).as("many small blocks").isGreaterThan(20);
        assertThat(readAll(client(fetch), "merged", acks, null)).isEqualTo(10_000);

        StrataProcess compaction = compactionNode("compaction-1");
        await("every WAL block merged and collected", Duration.ofSeconds(90), () -> noWal(inspector));
        int segments = inspector.objects().size();
        System.out.printf("compaction: %d blocks -> %d segments, %d index entries%n", blocks, segments,
                inspector.entries().size());
        assertThat(segments).isLessThanOrEqualTo(4 * 4);
        assertThat(inspector.dangling()).isEmpty();
        assertThat(StrataCluster.metric(compaction, "strata_compaction_bytes_merged_total")).isPositive();

        assertThat(readAll(client(fetch), "merged", acks, null)).as("the warm node reads segments").isEqualTo(10_000);
        StrataProcess cold = cluster.start("fetch-cold", "fetch");
        assertThat(readAll(client(cold), "merged", acks, null)).as("and a cold one").isEqualTo(10_000);
    }

    @Test
    void compactionUnderProducersAndCatchUpReadersLosesAndRepeatsNothing() throws Exception {
        List<StrataProcess> nodes = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                cluster.prepare("fetch-1", "fetch", Map.of()), cluster.prepare("compaction-1", "compaction", FAST));
        StrataProcess ingest = nodes.get(0);
        StrataProcess fetch = nodes.get(1);
        StrataProcess compaction = nodes.get(2);
        cluster.createTopic(ingest, "busy", 3);
        AtomicBoolean stop = new AtomicBoolean();
        Acks acks = new Acks();
        CompletableFuture<Void> producing = CompletableFuture.runAsync(() -> {
            Producer producer = client(ingest).producer(ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(2)));
            Random random = new Random(2);
            long[] sequence = new long[3];
            List<CompletableFuture<?>> pending = new ArrayList<>();
            while (!stop.get()) {
                for (int p = 0; p < 3; p++) {
                    int partition = p;
                    long s = sequence[p]++;
                    pending.add(producer.send("busy", p, null, value(p, s, random))
                            .thenAccept(meta -> acks.add(partition, s, meta)));
                }
                if (sequence[0] % 20 == 0) {
                    producer.flush();
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            producer.flush();
            pending.forEach(CompletableFuture::join);
        });
        // A reader from the beginning all along: it reads WAL blocks, then the same offsets in segments.
        Consumer consumer = client(fetch).consumer("busy");
        consumer.assignAll();
        consumer.seekToBeginning();
        long[] next = new long[3];
        List<Long[]> seen = new ArrayList<>();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < until) {
            for (ConsumerRecord r : consumer.poll(Duration.ofMillis(200))) {
                assertThat(r.offset()).isEqualTo(next[r.partition()]);
                seen.add(new Long[] {(long) r.partition(), sequence(r.value()), r.offset()});
                next[r.partition()]++;
            }
            Thread.sleep(20); // behind the producers: it catches up over what compaction rewrites meanwhile
        }
        stop.set(true);
        producing.get(1, TimeUnit.MINUTES);
        TopicInfo info = client(ingest).admin().describeTopic("busy");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && java.util.stream.IntStream.range(0, 3)
                .anyMatch(p -> next[p] < info.partitionDetails().get(p).endOffset())) {
            for (ConsumerRecord r : consumer.poll(Duration.ofMillis(500))) {
                assertThat(r.offset()).isEqualTo(next[r.partition()]);
                seen.add(new Long[] {(long) r.partition(), sequence(r.value()), r.offset()});
                next[r.partition()]++;
            }
        }
        assertThat(seen).hasSize((int) acks.count());
        for (Long[] s : seen) {
            assertThat(acks.offsetBySequence.get(s[0].intValue()).get(s[1])).isEqualTo(s[2]);
        }
        assertThat(StrataCluster.metric(compaction, "strata_compaction_steps_total")).as("compaction worked meanwhile")
                .isGreaterThan(5);
        assertThat(StrataCluster.metric(compaction, "strata_compaction_objects_deleted_total")).isPositive();
        assertThat(inspector().dangling()).isEmpty();
    }

    @Test
    void retentionAlterAndDeletionLeaveTheIndexAndTheBucketRight() throws Exception {
        List<StrataProcess> nodes = cluster.startTogether(cluster.prepare("node-1", "ingest,fetch", Map.of()),
                cluster.prepare("compaction-1", "compaction", FAST));
        StrataProcess node = nodes.get(0);
        StrataProcess compaction = nodes.get(1);
        StrataClient client = client(node);
        client.admin().createTopic("timed", 2, 3_000, -1);
        client.admin().createTopic("sized", 1, -1, 200_000);
        client.admin().createTopic("doomed", 2, -1, -1);
        Acks timed = produce(client, "timed", 2, 500);
        Acks sized = produce(client, "sized", 1, 5_000); // about 1 MB, stored
        Acks doomed = produce(client, "doomed", 2, 500);
        ClusterInspector inspector = inspector();
        long revisionBefore = inspector.metadata().revision().join();

        await("time retention expires the first records", Duration.ofSeconds(60), () ->
                client.admin().describeTopic("timed").partitionDetails().stream().allMatch(p -> p.logStartOffset() == 500));
        Acks more = produce(client, "timed", 2, 100);
        TopicInfo timedInfo = client.admin().describeTopic("timed");
        assertThat(timedInfo.partitionDetails()).allSatisfy(p -> assertThat(p.endOffset()).isEqualTo(600));
        Consumer below = client.consumer("timed");
        below.assign(List.of(0));
        below.seek(0, 10);
        assertThatThrownBy(() -> below.poll(Duration.ofSeconds(5))).isInstanceOfSatisfying(StrataException.class,
                e -> {
                    assertThat(e.code()).isEqualTo(Status.Code.OUT_OF_RANGE);
                    assertThat(e.getMessage()).contains("[500, 600]");
                });
        assertThat(client.admin().listOffsets("timed", 1, io.strata.client.OffsetQuery.earliest()).offset())
                .isGreaterThanOrEqualTo(500);
        assertThat(more.count()).isEqualTo(200);

        long sizedId = client.admin().topic("sized").topicId();
        // A cut falls at a chunk boundary: a WAL chunk while the data is in blocks, a segment's chunk once merged.
        await("size retention keeps the limit and at most one segment chunk more", Duration.ofSeconds(60), () -> {
            long bytes = storedBytes(inspector, sizedId);
            assertThat(bytes).as("never less than the limit").isGreaterThanOrEqualTo(200_000L);
            return bytes <= 200_000L + 65_536 + 4_096;
        });
        // Any node describes what the topic stores, as the compaction worker (another process) measured the index.
        await("the topic's stored bytes are what its index references", Duration.ofSeconds(30), () -> {
            TopicInfo measured = client.admin().describeTopic("sized");
            return measured.storedBytesMeasuredAtMs() > 0 && measured.storedBytes() == storedBytes(inspector, sizedId)
                    && measured.partitionDetails().get(0).storedBytes() == measured.storedBytes();
        });
        long[] starts = new long[1];
        long kept = readAll(client, "sized", sized, starts);
        System.out.printf("size retention: %d of 5000 records kept, %d bytes stored (limit 200000)%n", kept,
                storedBytes(inspector, sizedId));
        assertThat(kept + starts[0]).isEqualTo(5_000);

        client.admin().alterTopic("sized", TopicAlteration.none().retentionMs(1));
        await("an altered retention applies to the live topic", Duration.ofSeconds(30), () -> {
            var p = client.admin().describeTopic("sized").partitionDetails().get(0);
            return p.logStartOffset() == p.endOffset();
        });

        deletedRecordsAreNeverServedAgainAndLeaveTheIndex(client, inspector);

        long doomedId = client.admin().topic("doomed").topicId();
        client.admin().deleteTopic("doomed");
        await("the deleted topic's entries leave the index", Duration.ofSeconds(30), () -> inspector.entries().stream()
                .noneMatch(e -> e.isSegment() ? e.segment().partition().topicId() == doomedId
                        : e.chunks().stream().anyMatch(c -> c.partition().topicId() == doomedId)));
        await("the garbage is collected", Duration.ofSeconds(60), () -> inspector.unreferenced().isEmpty());
        assertThat(inspector.dangling()).isEmpty();
        assertThat(inspector.metadata().offsets(new io.strata.metadata.PartitionId(doomedId, 0)).join().nextOffset())
                .as("the deleted topic's head entries are gone").isZero();
        assertThat(inspector.historyCompactedPast(revisionBefore)).as("etcd's history is compacted").isTrue();
        assertThat(doomed.count()).isEqualTo(1_000);
        assertThat(timed.count()).isEqualTo(1_000);
        assertThat(StrataCluster.metric(compaction, "strata_compaction_objects_deleted_total")).isPositive();
    }

    /**
     * DeleteRecords on the same cluster: a partition's start moves at once (readers below it are refused, an earliest
     * look-up answers it), never back, and compaction removes what lies wholly before it; bad calls change nothing.
     */
    private static void deletedRecordsAreNeverServedAgainAndLeaveTheIndex(StrataClient client,
                                                                          ClusterInspector inspector) throws Exception {
        client.admin().createTopic("purged", 2, -1, -1);
        Acks purged = produce(client, "purged", 2, 500);
        client.admin().createTopic("keyed", 1, -1, -1, "compact", 0);
        long purgedId = client.admin().topic("purged").topicId();

        assertThatThrownBy(() -> client.admin().deleteRecords("purged", Map.of(0, 123L, 1, 501L)))
                .as("past partition 1's end: nothing moves").isInstanceOfSatisfying(StrataException.class,
                        e -> assertThat(e.code()).isEqualTo(Status.Code.OUT_OF_RANGE));
        assertThatThrownBy(() -> client.admin().deleteRecords("keyed", Map.of(0, Admin.END)))
                .isInstanceOfSatisfying(StrataException.class,
                        e -> assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION));
        assertThat(client.admin().describeTopic("purged").partitionDetails())
                .allSatisfy(p -> assertThat(p.logStartOffset()).isZero());

        assertThat(client.admin().deleteRecords("purged", Map.of(0, 123L, 1, Admin.END)))
                .isEqualTo(Map.of(0, 123L, 1, 500L));
        assertThat(client.admin().deleteRecords("purged", Map.of(0, 5L))).as("never back").isEqualTo(Map.of(0, 123L));
        await("the fetch node refuses a read below the new start", Duration.ofSeconds(30), () -> {
            try (Consumer below = client.consumer("purged")) {
                below.assign(List.of(0));
                below.seek(0, 10);
                below.poll(Duration.ofSeconds(1));
                return false;
            } catch (StrataException e) {
                assertThat(e.code()).isEqualTo(Status.Code.OUT_OF_RANGE);
                return true;
            }
        });
        await("the fetch node answers the new starts", Duration.ofSeconds(10), () ->
                client.admin().listOffsets("purged", 0, io.strata.client.OffsetQuery.earliest()).offset() == 123
                        && client.admin().listOffsets("purged", 1, io.strata.client.OffsetQuery.earliest()).offset() == 500);
        long[] starts = new long[2];
        assertThat(readAll(client, "purged", purged, starts)).as("the records from the start on, each once")
                .isEqualTo(500 - 123);
        assertThat(starts).containsExactly(123, 500);
        await("the records wholly before the starts leave the index", Duration.ofSeconds(60), () ->
                inspector.entries().stream().noneMatch(e -> e.isSegment()
                        ? e.segment().partition().topicId() == purgedId
                        && e.segment().endOffset() <= (e.segment().partition().partition() == 0 ? 123 : 500)
                        : e.chunks().stream().anyMatch(c -> c.partition().topicId() == purgedId
                        && c.endOffset() <= (c.partition().partition() == 0 ? 123 : 500))));
        assertThat(client.admin().describeTopic("purged").partitionDetails()).extracting(p -> p.logStartOffset())
                .as("compaction keeps the starts where they were moved").containsExactly(123L, 500L);
    }

    @Test
    void workersKilledAtAnyMomentBreakNothingAndTheirLeftoversAreCollected() throws Exception {
        List<StrataProcess> nodes = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                cluster.prepare("fetch-1", "fetch", Map.of()), cluster.prepare("compaction-a", "compaction", FAST),
                cluster.prepare("compaction-b", "compaction", FAST));
        StrataProcess ingest = nodes.get(0);
        StrataProcess fetch = nodes.get(1);
        List<StrataProcess> workers = nodes.subList(2, 4);
        cluster.createTopic(ingest, "rough", 4);
        ClusterInspector inspector = inspector();
        AtomicBoolean stop = new AtomicBoolean();
        Random chaos = new Random(7);
        CompletableFuture<Integer> killing = CompletableFuture.supplyAsync(() -> {
            int kills = 0;
            while (!stop.get() || kills < 6) { // kills go on after the producers stopped, over the merges left
                StrataProcess victim = workers.get(chaos.nextInt(workers.size()));
                sleep(300 + chaos.nextInt(1_500));
                victim.kill();
                kills++;
                assertThat(inspector.dangling()).as("no index entry ever points at a missing object").isEmpty();
                sleep(chaos.nextInt(500));
                victim.start();
            }
            return kills;
        });
        Acks acks = new Acks();
        StrataClient client = client(ingest);
        for (int round = 0; round < 8; round++) {
            produce(client, "rough", 4, 300, round * 300L, acks);
            sleep(1_000);
        }
        stop.set(true);
        int kills = killing.get(2, TimeUnit.MINUTES);
        await("all merged and the leftovers of killed workers collected", Duration.ofSeconds(120),
                () -> noWal(inspector) && inspector.unreferenced().isEmpty());
        assertThat(inspector.dangling()).isEmpty();
        assertThat(readAll(client(fetch), "rough", acks, null)).isEqualTo(4 * 8 * 300);
        System.out.printf("compaction workers killed %d times; %d segments at the end%n", kills,
                inspector.objects().size());
        assertThat(kills).isGreaterThanOrEqualTo(6);
    }

    @Test
    void keyCompactionKeepsTheLatestValuePerKeyAndTombstonesGoAfterTheirDelay() throws Exception {
        List<StrataProcess> nodes = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                cluster.prepare("fetch-1", "fetch", Map.of()), cluster.prepare("compaction-1", "compaction", FAST));
        StrataProcess ingest = nodes.get(0);
        StrataProcess fetch = nodes.get(1);
        StrataProcess compaction = nodes.get(2);
        StrataClient client = client(ingest);
        // Tombstones stay 15 s: long enough to see them cleaned in before they go.
        client.admin().createTopic("profiles", 2, -1, -1, "compact", 15_000);
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(2)));
        Map<String, String> latest = new java.util.TreeMap<>();
        Map<String, Integer> partitionOf = new java.util.HashMap<>();
        Random random = new Random(11);
        for (int round = 0; round < 30; round++) {
            // A round's 20 records in one go (an idempotent producer keeps each partition's order), rounds one after
            // another: about 30 blocks for the cleaner to merge, without 600 round trips one by one.
            List<CompletableFuture<?>> sent = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String key = "user-" + random.nextInt(40);
                String value = "v" + round + "-" + i;
                int partition = Math.floorMod(key.hashCode(), 2);
                sent.add(producer.send("profiles", partition, bytes(key), bytes(value)));
                latest.put(key, value);
                partitionOf.put(key, partition);
            }
            producer.flush();
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        StrataClient reader = client(fetch);
        await("each key once, with its latest value", Duration.ofSeconds(60), () -> {
            List<String[]> read = readKeyed(reader, "profiles");
            return asMap(read).equals(latest) && read.size() == latest.size();
        });
        assertThat(StrataCluster.metric(compaction, "strata_compaction_cleanings_total")).isGreaterThanOrEqualTo(2);

        List<String> deleted = latest.keySet().stream().limit(5).toList();
        for (String key : deleted) {
            producer.send("profiles", partitionOf.get(key), bytes(key), new byte[0]).get(30, TimeUnit.SECONDS);
            latest.put(key, "");
        }
        for (int p = 0; p < 2; p++) { // a last record after the tombstones: a partition's last record always stays
            producer.send("profiles", p, bytes("last-" + p), bytes("x")).get(30, TimeUnit.SECONDS);
            latest.put("last-" + p, "x");
        }
        producer.flush();
        await("the tombstones are cleaned in", Duration.ofSeconds(60),
                () -> readKeyed(reader, "profiles").size() == latest.size());
        assertThat(asMap(readKeyed(reader, "profiles"))).isEqualTo(latest);
        deleted.forEach(latest::remove);
        await("and go after their delete retention", Duration.ofSeconds(60),
                () -> readKeyed(reader, "profiles").size() == latest.size());
        assertThat(asMap(readKeyed(reader, "profiles"))).isEqualTo(latest);
        assertThat(StrataCluster.metric(compaction, "strata_compaction_tombstones_removed_total")).isEqualTo(5);
        assertThat(inspector().dangling()).isEmpty();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static Map<String, String> asMap(List<String[]> records) {
        Map<String, String> values = new java.util.TreeMap<>();
        records.forEach(r -> values.put(r[0], r[1]));
        return values;
    }

    /** Reads the topic to its end (offsets ascending in each partition): each record's key and value. */
    private static List<String[]> readKeyed(StrataClient client, String topic) {
        Consumer consumer = client.consumer(topic);
        consumer.assignAll();
        consumer.seekToBeginning();
        TopicInfo info = client.admin().describeTopic(topic);
        List<String[]> records = new ArrayList<>();
        long[] last = new long[info.partitions()];
        java.util.Arrays.fill(last, -1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (java.util.stream.IntStream.range(0, info.partitions())
                .anyMatch(p -> consumer.position(p) < info.partitionDetails().get(p).endOffset())) {
            assertThat(System.nanoTime()).as("read to the end").isLessThan(deadline);
            for (ConsumerRecord r : consumer.poll(Duration.ofSeconds(1))) {
                assertThat(r.offset()).isGreaterThan(last[r.partition()]);
                last[r.partition()] = r.offset();
                String key = new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
                records.add(new String[] {key, new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)});
            }
        }
        consumer.close();
        return records;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
