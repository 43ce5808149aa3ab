package io.strata.server.handoff;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.TailPartition;
import io.strata.api.v1.TailReadersUpdate;
import io.strata.fetch.tail.TailReaders;
import java.util.concurrent.atomic.AtomicReference;

/** The fetch side of {@code NodeService.WatchTailReaders}: a node's {@link TailReaders} as a stream of updates. */
public final class TailReadersStream {
    private TailReadersStream() {
    }

    /**
     * Sends {@code tail}'s whole set on {@code observer}, then its changes, until the caller cancels or the node
     * stops (the stream then completes).
     */
    public static void serve(TailReaders tail, StreamObserver<TailReadersUpdate> observer) {
        var calls = (ServerCallStreamObserver<TailReadersUpdate>) observer;
        AtomicReference<Runnable> stop = new AtomicReference<>();
        calls.setOnCancelHandler(() -> {
            Runnable s = stop.getAndSet(() -> { });
            if (s != null) {
                s.run();
            }
        });
        // Every call on the stream happens under the TailReaders' lock: one at a time, in order.
        Runnable watching = tail.watch(update -> calls.onNext(message(update)), calls::onCompleted);
        if (!stop.compareAndSet(null, watching)) {
            watching.run(); // cancelled while the watch began
        }
    }

    private static TailReadersUpdate message(TailReaders.Update update) {
        TailReadersUpdate.Builder m = TailReadersUpdate.newBuilder().setWhole(update.whole())
                .setEverything(update.everything());
        update.added().forEach(p -> m.addAdded(TailPartition.newBuilder().setTopicId(p.topicId())
                .setPartition(p.partition())));
        update.removed().forEach(p -> m.addRemoved(TailPartition.newBuilder().setTopicId(p.topicId())
                .setPartition(p.partition())));
        return m.build();
    }
}
