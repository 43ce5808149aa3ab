package io.strata.server.handoff;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.strata.api.v1.HandOverChunksRequest;
import io.strata.api.v1.HandOverChunksResponse;
import io.strata.api.v1.HandedChunk;
import io.strata.api.v1.NodeServiceGrpc;
import io.strata.fetch.cache.ChunkCache;
import io.strata.fetch.cache.ChunkKey;
import io.strata.fetch.routing.FetchNodes;
import io.strata.format.ChunkEntry;
import io.strata.format.SealedBlock;
import io.strata.ingest.commit.UploadedBlocks;
import io.strata.metadata.PartitionId;
import io.strata.server.Closeables;
import io.strata.server.metrics.RoleMetrics;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jboss.logging.Logger;

/**
 * The ingest side of the tail hand-off: right after a block's PUT, each of its chunks goes to the fetch nodes
 * that read its partition at the tail ({@link TailDemand}), so the consumers there find it in that node's cache
 * when the commit wakes them — and to the node that owns the partition ({@link FetchNodes#owner}, the ranking
 * clients use to pick where to read) while that node has not told what it reads. A chunk nobody reads at the
 * tail is not sent: pushing it over the network (and TLS) would cost a produce-only run about a tenth of its
 * throughput (docs/benchmarks.md) for a cache entry nobody asks for. A chunk this node owns itself goes straight
 * into its own cache. Best effort and bounded: at most {@code maxInflightBytes} of chunks travel at once, beyond
 * that chunks are dropped (a lost hand-off costs the fetch node one GET), and a failed call is not retried.
 *
 * <p>Threads: hand-offs start on the object store's threads and complete on gRPC's. Owns its channels and the
 * tail readers' streams. Thread-safe.
 */
public final class ChunkHandOff implements UploadedBlocks, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ChunkHandOff.class);
    private static final long CALL_TIMEOUT_MS = 5_000;

    private final FetchNodes fetchNodes;
    private final String selfAddress;
    private final ChunkCache localCache;
    private final java.util.function.Predicate<PartitionId> localReads;
    private final long maxInflightBytes;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final AtomicLong inflightBytes = new AtomicLong();
    private final LongAdder sent = new LongAdder();
    /** Opens a channel to a node-to-node address (mutual TLS once the node has it). */
    private final java.util.function.Function<String, ManagedChannel> dialer;
    private final LongAdder local = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder skipped = new LongAdder();
    private final TailDemand demand;
    private volatile boolean closed;

    /**
     * {@code localCache}: this node's cache when it runs the fetch role, else null; {@code localReads}: whether this
     * node's fetch role reads a partition at the tail (its chunks go into the local cache even if another node
     * owns it).
     */
    public ChunkHandOff(FetchNodes fetchNodes, String selfAddress,
                        java.util.function.Function<String, ManagedChannel> dialer, ChunkCache localCache,
                        java.util.function.Predicate<PartitionId> localReads, long maxInflightBytes,
                        ScheduledExecutorService timer) {
        this.fetchNodes = fetchNodes;
        this.dialer = dialer;
        this.selfAddress = selfAddress;
        this.localCache = localCache;
        this.localReads = localReads;
        this.maxInflightBytes = maxInflightBytes;
        this.demand = new TailDemand(fetchNodes, selfAddress, this::channel, this::dropChannelsOfGoneNodes, timer);
    }

    /** A hand-off registered with the node's closeables, its counters with the node's meters. */
    public static ChunkHandOff start(FetchNodes fetchNodes, String selfAddress,
                                     java.util.function.Function<String, ManagedChannel> dialer, ChunkCache localCache,
                                     java.util.function.Predicate<PartitionId> localReads, long maxInflightBytes,
                                     ScheduledExecutorService timer, MeterRegistry meters, Closeables closeables) {
        ChunkHandOff handOff = closeables.register(new ChunkHandOff(fetchNodes, selfAddress, dialer, localCache,
                localReads, maxInflightBytes, timer));
        RoleMetrics.counter(meters, "strata.ingest.handoff.sent", handOff, ChunkHandOff::sent);
        RoleMetrics.counter(meters, "strata.ingest.handoff.local", handOff, ChunkHandOff::local);
        RoleMetrics.counter(meters, "strata.ingest.handoff.dropped", handOff, ChunkHandOff::dropped);
        RoleMetrics.counter(meters, "strata.ingest.handoff.failed", handOff, ChunkHandOff::failed);
        RoleMetrics.counter(meters, "strata.ingest.handoff.skipped", handOff, ChunkHandOff::skipped);
        meters.gauge("strata.ingest.handoff.tail.nodes", handOff, ChunkHandOff::knownNodes);
        return handOff;
    }

    @Override
    public void uploaded(String objectKey, SealedBlock block) {
        if (closed) {
            return;
        }
        Map<String, HandOverChunksRequest.Builder> byNode = new HashMap<>();
        Map<String, Long> bytesByNode = new HashMap<>();
        ByteBuffer all = block.bytes();
        for (ChunkEntry c : block.chunks()) {
            PartitionId partition = new PartitionId(c.topicId(), c.partition());
            String owner = fetchNodes.owner(partition);
            if (owner == null) {
                return; // no fetch node known yet
            }
            // A view, not a read-only buffer: the cache and protobuf share it without copying; nobody writes it.
            ByteBuffer bytes = all.duplicate().position(all.position() + Math.toIntExact(c.byteOffset())).slice()
                    .limit(c.byteLength());
            boolean kept = false;
            if (localCache != null && (owner.equals(selfAddress) || localReads.test(partition))) {
                localCache.offer(new ChunkKey(objectKey, c.byteOffset(), c.byteLength(), c.crc32c()), bytes);
                local.increment();
                kept = true;
            }
            List<String> targets = targets(owner, partition);
            if (targets.isEmpty()) {
                if (!kept) {
                    skipped.increment();
                }
                continue;
            }
            HandedChunk handed = HandedChunk.newBuilder().setTopicId(c.topicId()).setPartition(c.partition())
                    .setObjectKey(objectKey).setByteOffset(c.byteOffset()).setCrc32C(c.crc32c())
                    .setData(UnsafeByteOperations.unsafeWrap(bytes)).build();
            for (String node : targets) {
                byNode.computeIfAbsent(node, k -> HandOverChunksRequest.newBuilder()).addChunks(handed);
                bytesByNode.merge(node, (long) c.byteLength(), Long::sum);
            }
        }
        byNode.forEach((node, request) -> send(node, request.build(), bytesByNode.get(node)));
    }

    /**
     * Where a chunk of {@code partition} goes: every fetch node that reads it at the tail, and its owner (where
     * clients read it first) unless the owner said it does not; never back to this node.
     */
    private List<String> targets(String owner, PartitionId partition) {
        List<String> wanting = demand.wanting(partition, owner); // never this node: it watches no stream of its own
        if (owner.equals(selfAddress) || demand.known(owner)) {
            return wanting;
        }
        List<String> targets = new java.util.ArrayList<>(wanting.size() + 1);
        targets.add(owner);
        targets.addAll(wanting);
        return targets;
    }

    private void send(String owner, HandOverChunksRequest request, long bytes) {
        if (inflightBytes.addAndGet(bytes) > maxInflightBytes) {
            inflightBytes.addAndGet(-bytes);
            dropped.add(request.getChunksCount());
            return;
        }
        // Node to node on the owner's internal port: the client-facing Service does not expose it.
        String internal = fetchNodes.internalAddress(owner);
        if (internal == null) {
            inflightBytes.addAndGet(-bytes);
            dropped.add(request.getChunksCount());
            return;
        }
        // Keyed by where it dials: a node back on the same client port may take node calls on another port.
        ManagedChannel channel = channel(internal);
        NodeServiceGrpc.newStub(channel).withDeadlineAfter(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .handOverChunks(request, new StreamObserver<>() {
                    @Override
                    public void onNext(HandOverChunksResponse value) {
                        sent.add(value.getAccepted());
                    }

                    @Override
                    public void onError(Throwable t) {
                        inflightBytes.addAndGet(-bytes);
                        failed.add(request.getChunksCount());
                        LOG.debugf("hand-off to %s failed: %s", owner, t);
                    }

                    @Override
                    public void onCompleted() {
                        inflightBytes.addAndGet(-bytes);
                    }
                });
        dropChannelsOfGoneNodes();
    }

    private ManagedChannel channel(String internal) {
        if (closed) {
            throw new IllegalStateException("the hand-off is closed"); // no channel opened after close() closed them
        }
        ManagedChannel channel = channels.computeIfAbsent(internal, dialer);
        if (closed) {
            channels.remove(internal, channel);
            channel.shutdownNow(); // opened (or found) while close() shut the others down
            throw new IllegalStateException("the hand-off is closed");
        }
        return channel;
    }

    private void dropChannelsOfGoneNodes() {
        if (channels.size() <= fetchNodes.addresses().size()) {
            return; // the usual case, on every hand-off: nothing to look at
        }
        List<String> live = fetchNodes.addresses().stream().map(fetchNodes::internalAddress)
                .filter(java.util.Objects::nonNull).toList();
        channels.entrySet().removeIf(e -> {
            if (live.contains(e.getKey())) {
                return false;
            }
            e.getValue().shutdown();
            return true;
        });
    }

    /** The fetch side: the cache key of a handed chunk and its bytes (copied out of the request). */
    public static ChunkKey key(HandedChunk h) {
        return new ChunkKey(h.getObjectKey(), h.getByteOffset(), h.getData().size(), h.getCrc32C());
    }

    /** Chunks handed to other nodes and kept by them. */
    public long sent() {
        return sent.sum();
    }

    /** Chunks this node owned and kept in its own cache. */
    public long local() {
        return local.sum();
    }

    /** Chunks not handed over because too much was travelling already. */
    public long dropped() {
        return dropped.sum();
    }

    /** Chunks not handed over because no fetch node reads their partition at the tail. */
    public long skipped() {
        return skipped.sum();
    }

    /** Fetch nodes whose readers at the tail are known. */
    int knownNodes() {
        return demand.knownNodes();
    }

    /** Chunks whose hand-off call failed. */
    public long failed() {
        return failed.sum();
    }

    @Override
    public void close() {
        closed = true;
        demand.close();
        channels.values().forEach(ManagedChannel::shutdownNow);
        channels.clear();
    }
}
