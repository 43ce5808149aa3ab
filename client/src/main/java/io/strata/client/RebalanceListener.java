package io.strata.client;

import java.util.Collection;

/**
 * Told, on the polling thread inside {@link Consumer#poll}, when the group gives this consumer partitions or
 * takes them away. Partitions are numbers of the consumer's topic.
 */
public interface RebalanceListener {
    /** These partitions are now this consumer's, positioned where the group left them. */
    default void onPartitionsAssigned(Collection<Integer> partitions) {
    }

    /**
     * These partitions go to another member. Called before the consumer commits their positions and releases
     * them, so the application can finish and commit what it holds for them.
     */
    default void onPartitionsRevoked(Collection<Integer> partitions) {
    }

    /**
     * These partitions were lost without a hand-over: the session expired (a long pause, a network cut), so
     * another member may already own them and commits for them are refused. By default, as revoked.
     */
    default void onPartitionsLost(Collection<Integer> partitions) {
        onPartitionsRevoked(partitions);
    }

    RebalanceListener NONE = new RebalanceListener() {
    };
}
