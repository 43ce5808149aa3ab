package io.strata.metadata.kv;

import java.util.List;

/**
 * Receives a watch's changes in revision order, from one thread at a time. Implementations return quickly
 * (hand real work to their own executor).
 */
public interface KvWatchListener {
    /** Changes of one or more revisions, oldest first. */
    void onEvents(List<KvEvent> events);

    /**
     * The watch ended and cannot resume where it was (history compacted, store closed, connection lost for
     * good). Nothing more arrives; read again and start a new watch.
     */
    void onBroken(Throwable cause);
}
