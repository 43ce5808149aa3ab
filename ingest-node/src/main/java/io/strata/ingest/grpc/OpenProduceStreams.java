package io.strata.ingest.grpc;

import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The produce streams a node has open, so that a node that stops can end them itself: each once the answers to
 * the requests it read are sent, with a status clients retry at another node. Left open, they would be reset by
 * the node's gRPC server as it stops (an HTTP/2 RST_STREAM INTERNAL_ERROR, which gRPC clients see as INTERNAL and
 * rightly do not send a write again on).
 */
public final class OpenProduceStreams {
    private final Set<ProduceStream> open = ConcurrentHashMap.newKeySet();
    /** Set once by {@link #endAll}: a stream opened later is ended at once. */
    private volatile Status ending;

    /** A stream leaves when its call closes, whichever way ({@link ProduceStream#start}). */
    void opened(ProduceStream stream) {
        open.add(stream);
        Status status = ending;
        if (status != null) {
            stream.end(status); // raced endAll: ending twice is harmless
        }
    }

    void closed(ProduceStream stream) {
        open.remove(stream);
    }

    /**
     * Ends every open stream, and every stream opened from now on, with {@code status}, each once its answers are
     * sent; answers how many were open.
     */
    public int endAll(Status status) {
        ending = status;
        int ended = 0;
        for (ProduceStream stream : open) {
            stream.end(status);
            ended++;
        }
        return ended;
    }

    /** Streams open now. */
    public int size() {
        return open.size();
    }
}
