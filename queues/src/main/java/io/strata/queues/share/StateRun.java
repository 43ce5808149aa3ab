package io.strata.queues.share;

import java.util.Objects;

/**
 * Consecutive offsets {@code [first, last]} of a share partition in one state (Kafka's share "state batches"):
 * a partition's state is a handful of these whatever its backlog. Immutable.
 *
 * @param deliveries how many times these records were handed out
 * @param member     the member holding them (ACQUIRED only), else null
 * @param untilMs    ACQUIRED: when the lock runs out; AVAILABLE: not before when they may be handed out again;
 *                   otherwise 0
 * @param note       DEAD_LETTERING: why they were archived and what the consumer said (the dead-letter record's
 *                   headers), else null
 */
public record StateRun(long first, long last, DeliveryState state, int deliveries, String member, long untilMs,
                       String note) {
    /** The longest note kept: a consumer's error text is cut here. */
    public static final int MAX_NOTE = 1024;

    public StateRun {
        Objects.requireNonNull(state);
        if (first < 0 || last < first || deliveries < 0) {
            throw new IllegalArgumentException("invalid run [" + first + ", " + last + "] delivered " + deliveries);
        }
        if ((state == DeliveryState.ACQUIRED) != (member != null)) {
            throw new IllegalArgumentException("a member holds acquired records, and only those");
        }
        if (note != null && note.length() > MAX_NOTE) {
            note = note.substring(0, MAX_NOTE);
        }
    }

    public long count() {
        return last - first + 1;
    }

    StateRun withState(DeliveryState next) {
        return new StateRun(first, last, next, deliveries, null, 0, null);
    }

    StateRun slice(long from, long to) {
        return new StateRun(from, to, state, deliveries, member, untilMs, note);
    }

    /** Whether {@code next} directly follows this run and is the same in everything but its offsets. */
    boolean joins(StateRun next) {
        return next.first == last + 1 && next.state == state && next.deliveries == deliveries
                && Objects.equals(next.member, member) && next.untilMs == untilMs && Objects.equals(next.note, note);
    }
}
