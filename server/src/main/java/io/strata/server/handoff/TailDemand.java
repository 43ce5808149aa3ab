package io.strata.server.handoff;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.NodeServiceGrpc;
import io.strata.api.v1.TailPartition;
import io.strata.api.v1.TailReadersUpdate;
import io.strata.api.v1.WatchTailReadersRequest;
import io.strata.fetch.routing.FetchNodes;
import io.strata.metadata.PartitionId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Which fetch nodes have readers at the tail of which partitions, as each of them tells it
 * ({@code NodeService.WatchTailReaders}, one stream per fetch node, opened again after a second when it ends).
 * {@link ChunkHandOff} hands a chunk over only where it is read at the tail; a fetch node whose set is not known
 * (no stream yet, or one that ended, or a node of a version without the call) is handed every chunk it owns, as
 * before the set existed: not knowing never costs a tail reader its hand-off.
 *
 * <p>Threads: streams' messages arrive on gRPC's threads; {@link #reconcile} runs on the node's timer; the
 * questions ({@link #known}, {@link #wanting}) from the object store's threads. Thread-safe.
 */
final class TailDemand implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(TailDemand.class);
    /** How long after a stream ends before it is opened again; longer for a node that does not know the call. */
    private static final long RETRY_MS = 1_000;
    private static final long RETRY_UNIMPLEMENTED_MS = 30_000;

    /** One fetch node's stream and what it told. */
    private final class Watch {
        final String address;
        final String internal;
        final Set<PartitionId> wanted = ConcurrentHashMap.newKeySet();
        volatile boolean live;
        volatile boolean everything;
        volatile Context.CancellableContext call;
        volatile long retryAtNanos;
        volatile boolean ended;

        Watch(String address, String internal) {
            this.address = address;
            this.internal = internal;
        }

        void open() {
            Context.CancellableContext context = Context.current().withCancellation();
            call = context;
            try {
                context.run(this::startCall);
            } catch (RuntimeException e) {
                lost(RETRY_MS); // no channel (this node stops, say): tried again at a later turn
                LOG.debugf("tail readers of %s: cannot watch: %s", address, e);
            }
        }

        private void startCall() {
            NodeServiceGrpc.newStub(channels.apply(internal)).watchTailReaders(
                    WatchTailReadersRequest.getDefaultInstance(), new StreamObserver<>() {
                        @Override
                        public void onNext(TailReadersUpdate update) {
                            applied(update);
                        }

                        @Override
                        public void onError(Throwable t) {
                            Status status = Status.fromThrowable(t);
                            lost(status.getCode() == Status.Code.UNIMPLEMENTED
                                    || status.getCode() == Status.Code.PERMISSION_DENIED
                                    ? RETRY_UNIMPLEMENTED_MS : RETRY_MS);
                            LOG.debugf("tail readers of %s: stream ended: %s", address, status);
                        }

                        @Override
                        public void onCompleted() {
                            lost(RETRY_MS);
                        }
                    });
        }

        void applied(TailReadersUpdate update) {
            if (update.getWhole()) {
                wanted.clear();
            }
            for (TailPartition p : update.getRemovedList()) {
                wanted.remove(new PartitionId(p.getTopicId(), p.getPartition()));
            }
            for (TailPartition p : update.getAddedList()) {
                wanted.add(new PartitionId(p.getTopicId(), p.getPartition()));
            }
            everything = update.getEverything();
            live = true;
        }

        void lost(long retryMs) {
            live = false; // first: from here on the node is handed every chunk it owns
            wanted.clear();
            retryAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(retryMs);
            ended = true;
        }

        void cancel() {
            live = false;
            Context.CancellableContext c = call;
            if (c != null) {
                c.cancel(null);
            }
        }
    }

    private final FetchNodes fetchNodes;
    private final String selfAddress;
    private final Function<String, ManagedChannel> channels;
    private final Map<String, Watch> watches = new ConcurrentHashMap<>();
    private final Runnable tidy;
    private final java.util.concurrent.ScheduledFuture<?> reconciler;
    private volatile boolean closed;

    /**
     * {@code channels}: the channel to a node-to-node address (shared with the hand-offs to it); {@code tidy}: run
     * after each turn, to close the channels of nodes gone.
     */
    TailDemand(FetchNodes fetchNodes, String selfAddress, Function<String, ManagedChannel> channels, Runnable tidy,
               ScheduledExecutorService timer) {
        this.fetchNodes = fetchNodes;
        this.selfAddress = selfAddress;
        this.channels = channels;
        this.tidy = tidy;
        this.reconciler = timer.scheduleWithFixedDelay(this::reconcile, 0, 1, TimeUnit.SECONDS);
    }

    /**
     * Opens a stream to each fetch node that has none (or whose stream ended a while ago), ends those of nodes gone,
     * then lets the owner close what it kept for them ({@code tidy}).
     */
    synchronized void reconcile() {
        if (closed) {
            return;
        }
        try {
            List<String> live = fetchNodes.addresses();
            for (String address : live) {
                String internal = fetchNodes.internalAddress(address);
                if (address.equals(selfAddress) || internal == null) {
                    continue; // this node's own chunks go into its cache directly
                }
                Watch w = watches.get(address);
                if (w != null && w.internal.equals(internal)
                        && (!w.ended || System.nanoTime() - w.retryAtNanos < 0)) {
                    continue;
                }
                if (w != null) {
                    w.cancel();
                }
                Watch fresh = new Watch(address, internal);
                watches.put(address, fresh);
                fresh.open();
            }
            for (String address : new ArrayList<>(watches.keySet())) {
                if (!live.contains(address)) {
                    Watch gone = watches.remove(address);
                    if (gone != null) {
                        gone.cancel();
                    }
                }
            }
            tidy.run();
        } catch (RuntimeException e) {
            LOG.debugf("tail readers: reconciling the streams failed: %s", e);
        }
    }

    /** Whether the fetch node at {@code address} has told which partitions it reads at the tail. */
    boolean known(String address) {
        Watch w = watches.get(address);
        return w != null && w.live;
    }

    /**
     * The fetch nodes whose set is known and holds {@code partition}, or that take everything and own it: a node
     * past its count of tail readers is handed its own partitions' chunks, not the whole cluster's.
     */
    List<String> wanting(PartitionId partition, String owner) {
        List<String> out = null;
        for (Watch w : watches.values()) {
            if (w.live && (w.wanted.contains(partition) || w.everything && w.address.equals(owner))) {
                if (out == null) {
                    out = new ArrayList<>(2);
                }
                out.add(w.address);
            }
        }
        return out == null ? List.of() : out;
    }

    /** Fetch nodes whose tail readers are known now. */
    int knownNodes() {
        int n = 0;
        for (Watch w : watches.values()) {
            if (w.live) {
                n++;
            }
        }
        return n;
    }

    @Override
    public synchronized void close() {
        closed = true;
        reconciler.cancel(false);
        watches.values().forEach(Watch::cancel);
        watches.clear();
    }
}
