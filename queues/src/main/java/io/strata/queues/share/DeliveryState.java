package io.strata.queues.share;

/** Where one record of a share partition stands for its group. */
public enum DeliveryState {
    /** May be handed out, from its not-before time on. */
    AVAILABLE,
    /** Handed out to one member, which holds it until its lock runs out. */
    ACQUIRED,
    /** Accepted by the member that held it: done, never delivered to the group again. */
    ACKNOWLEDGED,
    /**
     * Rejected, or failed once too often, in a group with a dead-letter topic: waits until its copy is written
     * there, then becomes ARCHIVED. Kept in the state so that a crash between the two writes it once, not twice.
     */
    DEAD_LETTERING,
    /** Done without being accepted: rejected or out of deliveries (and dead-lettered, when the group has a topic). */
    ARCHIVED;

    boolean done() {
        return this == ACKNOWLEDGED || this == ARCHIVED;
    }
}
