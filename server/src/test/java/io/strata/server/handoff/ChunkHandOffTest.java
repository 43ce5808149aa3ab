package io.strata.server.handoff;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.HandOverChunksRequest;
import io.strata.api.v1.HandOverChunksResponse;
import io.strata.api.v1.NodeServiceGrpc;
import io.strata.api.v1.TailReadersUpdate;
import io.strata.api.v1.WatchTailReadersRequest;
import io.strata.fetch.routing.FetchNodes;
import io.strata.fetch.tail.TailReaders;
import io.strata.format.BlockFormat;
import io.strata.format.ChunkEntry;
import io.strata.format.SealedBlock;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.NodeInfo;
import io.strata.metadata.PartitionId;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest side of the tail hand-off against two fetch nodes served in process, each with a real
 * {@link TailReaders} behind {@code WatchTailReaders}: chunks go where their partition is read at the tail, even to
 * a node that does not own it; nowhere when nobody reads it; and to their owner while the owner's set is not known.
 */
class ChunkHandOffTest {
    private static final int PARTITIONS = 8;
    private static final int CHUNK_BYTES = 40;

    @TempDir
    Path dir;
    private MetadataStore metadata;
    private ScheduledExecutorService timer;
    private FetchNodes fetchNodes;
    private ChunkHandOff handOff;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Map<String, FetchNode> nodes = new ConcurrentHashMap<>();

    /** A fetch node in process: its tail readers, and the partitions of the chunks it was handed. */
    private final class FetchNode extends NodeServiceGrpc.NodeServiceImplBase {
        // Counts at most 3 partitions' readers, then asks for everything (its own partitions').
        final TailReaders tail = new TailReaders(Duration.ofSeconds(30), 3, System::nanoTime, Runnable::run);
        final List<PartitionId> handed = new CopyOnWriteArrayList<>();
        Server server;

        @Override
        public void watchTailReaders(WatchTailReadersRequest request, StreamObserver<TailReadersUpdate> observer) {
            TailReadersStream.serve(tail, observer);
        }

        @Override
        public void handOverChunks(HandOverChunksRequest request, StreamObserver<HandOverChunksResponse> observer) {
            request.getChunksList().forEach(c -> handed.add(new PartitionId(c.getTopicId(), c.getPartition())));
            observer.onNext(HandOverChunksResponse.newBuilder().setAccepted(request.getChunksCount()).build());
            observer.onCompleted();
        }
    }

    @BeforeEach
    void start() throws Exception {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 4);
        timer = Executors.newSingleThreadScheduledExecutor();
        for (String name : List.of("f1", "f2")) {
            FetchNode node = new FetchNode();
            node.server = InProcessServerBuilder.forName(name + "-internal").directExecutor().addService(node).build()
                    .start();
            nodes.put(name, node);
            closeables.add(metadata.registerNode(new NodeInfo(name, name + ":9400", name + "-internal", Set.of("fetch"),
                    0, "", "", "test"), Duration.ofSeconds(30)).get(5, TimeUnit.SECONDS));
        }
        fetchNodes = new FetchNodes(metadata, timer, 100);
        await("both fetch nodes listed", () -> fetchNodes.addresses().size() == 2);
        handOff = new ChunkHandOff(fetchNodes, "ingest:9400", address -> InProcessChannelBuilder.forName(address)
                .directExecutor().build(), null, p -> false, 64 << 20, timer);
    }

    @AfterEach
    void stop() throws Exception {
        handOff.close();
        nodes.values().forEach(n -> n.server.shutdownNow());
        for (AutoCloseable c : closeables) {
            c.close();
        }
        fetchNodes.close();
        timer.shutdownNow();
        metadata.close();
    }

    /** A block of one chunk per partition of topic 1 (zeros, with their CRC32C, as a cache checks it). */
    private static SealedBlock block() {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(new byte[CHUNK_BYTES]);
        List<ChunkEntry> chunks = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            chunks.add(new ChunkEntry(1, p, BlockFormat.HEADER_SIZE + (long) p * CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES,
                    1, 0, 0, (int) crc.getValue()));
        }
        return new SealedBlock(ByteBuffer.allocate(BlockFormat.HEADER_SIZE + PARTITIONS * CHUNK_BYTES), chunks,
                PARTITIONS * CHUNK_BYTES);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < until).as(what).isTrue();
            Thread.sleep(10);
        }
    }

    /** A partition of topic 1 that {@code owner} owns. */
    private PartitionId ownedBy(String owner) {
        List<PartitionId> owned = allOwnedBy(owner);
        assertThat(owned).as("partitions of %d owned by %s", PARTITIONS, owner).isNotEmpty();
        return owned.get(0);
    }

    private List<PartitionId> allOwnedBy(String owner) {
        return java.util.stream.IntStream.range(0, PARTITIONS).mapToObj(p -> new PartitionId(1, p))
                .filter(id -> (owner + ":9400").equals(fetchNodes.owner(id))).toList();
    }

    @Test
    void aNodePastItsCountOfTailReadersIsHandedTheChunksOfItsOwnPartitionsAndOfThoseItCounted() throws Exception {
        await("both nodes' tail readers known", () -> handOff.knownNodes() == 2);
        List<PartitionId> ofF1 = allOwnedBy("f1");
        assertThat(ofF1).as("f1 owns partitions").isNotEmpty();
        List<PartitionId> ofF2 = allOwnedBy("f2");
        assertThat(ofF2).as("f2 owns partitions").hasSizeGreaterThanOrEqualTo(2);
        // f2 counts three readers: one of f1's partitions (its consumer passed f1 over) and two of its own; then
        // one more, of another topic, puts it past its count.
        List<PartitionId> counted = List.of(ofF1.get(0), ofF2.get(0), ofF2.get(1));
        counted.forEach(nodes.get("f2").tail::atEnd);
        nodes.get("f2").tail.atEnd(new PartitionId(2, 0));
        java.util.Set<PartitionId> expected = new java.util.HashSet<>(counted);
        expected.addAll(ofF2);
        await("f2 handed what it counted and what it owns", () -> {
            nodes.get("f2").handed.clear();
            handOff.uploaded("o-e", block());
            return java.util.Set.copyOf(nodes.get("f2").handed).equals(expected);
        });
        assertThat(nodes.get("f2").handed).hasSize(expected.size());
        assertThat(nodes.get("f2").handed).as("f1's partitions f2 does not read stay home")
                .doesNotContainAnyElementsOf(ofF1.subList(1, ofF1.size()));
        assertThat(nodes.get("f1").handed).as("f1 reads nothing at the tail").isEmpty();
    }

    @Test
    void aNodeThatAlsoFetchesKeepsTheChunksItsOwnReadersReadWhoeverOwnsThem() throws Exception {
        io.strata.fetch.cache.ChunkCache cache = new io.strata.fetch.cache.ChunkCache(null, 1 << 20);
        PartitionId read = ownedBy("f1");
        try (ChunkHandOff both = new ChunkHandOff(fetchNodes, "ingest:9400", address -> InProcessChannelBuilder
                .forName(address).directExecutor().build(), cache, read::equals, 64 << 20, timer)) {
            await("both nodes' tail readers known", () -> both.knownNodes() == 2);
            both.uploaded("o-l", block());
            assertThat(both.local()).as("kept here: only the partition read here").isEqualTo(1);
            assertThat(cache.handedOver()).isEqualTo(1);
            assertThat(both.skipped()).as("the others: nobody reads them").isEqualTo(PARTITIONS - 1);
            assertThat(nodes.get("f1").handed).isEmpty();
        }
    }

    @Test
    void chunksGoWhereTheirPartitionIsReadAtTheTailAndToTheirOwnerWhileItsReadersAreNotKnown() throws Exception {
        await("both nodes' tail readers known", () -> handOff.knownNodes() == 2);

        // Nobody reads at the tail: every chunk stays home.
        handOff.uploaded("o-2", block());
        assertThat(handOff.skipped()).isEqualTo(PARTITIONS);
        assertThat(nodes.get("f1").handed).isEmpty();
        assertThat(nodes.get("f2").handed).isEmpty();

        // f2 reads at the tail of a partition f1 owns (its consumer passed f1 over): f2 is handed its chunks.
        PartitionId ofF1 = ownedBy("f1");
        nodes.get("f2").tail.atEnd(ofF1);
        await("f2 handed the chunk of the partition it reads", () -> {
            handOff.uploaded("o-3", block());
            return !nodes.get("f2").handed.isEmpty();
        });
        assertThat(nodes.get("f2").handed).containsOnly(ofF1);
        assertThat(nodes.get("f1").handed).isEmpty();

        // f1 goes: while its readers are not known again, it is handed every chunk it owns (those calls fail).
        nodes.get("f1").server.shutdownNow();
        await("f1's readers no longer known", () -> handOff.knownNodes() == 1);
        long failedBefore = handOff.failed();
        handOff.uploaded("o-4", block());
        long ownedByF1 = allOwnedBy("f1").size();
        await("f1's chunks tried", () -> handOff.failed() - failedBefore == ownedByF1);
    }
}
