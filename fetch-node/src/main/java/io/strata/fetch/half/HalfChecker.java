package io.strata.fetch.half;

import io.strata.api.v1.HalfCheck;
import io.strata.api.v1.HalfDecision;
import java.util.concurrent.CompletableFuture;

/**
 * How the node that owns a half message's partition asks a live producer of its group about it (check-back): on
 * this node when one of its clients holds a check-back stream of the group, else through a node that does. Thread-safe.
 */
public interface HalfChecker {
    /**
     * The producer's answer; {@link HalfDecision#HALF_DECISION_UNKNOWN} when it does not know, when no producer of
     * the group is live, or when none answered in time. Never fails.
     */
    CompletableFuture<HalfDecision> check(String group, HalfCheck check);
}
