package io.strata.queues.share;

import java.util.Objects;

/**
 * Consecutive offsets {@code [first, last]} of a share partition in one state (Kafka's share "state batches"):
 * a partition's state is a handful of these whatever its backlog. Immutable.
 *
 * @param deliveries how many times these records were handed out
 * @param member     the member holding them (ACQUIRED only), else null
 * @param untilMs    ACQUIRED: when the lock runs out; AVAILABLE: not before when they may be handed out again;
 *                   DEAD_LETTERING: the dead-letter writer's sequence number of {@code first} (each further
 *                   offset takes the next; see {@link SharePartition#useDeadLetterWriter}); otherwise 0
 * @param note       DEAD_LETTERING: why they were archived, then after a line feed what the consumer said (the
 *                   dead-letter record's headers), else null
 */
public record StateRun(long first, long last, DeliveryState state, int deliveries, String member, long untilMs,
                       String note) {
    /**
     * The longest note kept, in bytes of UTF-8 (a consumer's error text is cut here): a partition's state is one
     * etcd value, and its window's records may each be dead-lettering with a note of their own while the copies
     * drain. 2,000 of them at 256 bytes stay well under etcd's 1.5 MiB request limit, where 1,024 characters (up
     * to 3 KiB each) did not, and the partition's every decision was then refused.
     */
    public static final int MAX_NOTE_BYTES = 256;

    public StateRun {
        Objects.requireNonNull(state);
        if (first < 0 || last < first || deliveries < 0) {
            throw new IllegalArgumentException("invalid run [" + first + ", " + last + "] delivered " + deliveries);
        }
        if ((state == DeliveryState.ACQUIRED) != (member != null)) {
            throw new IllegalArgumentException("a member holds acquired records, and only those");
        }
        if (note != null) {
            note = cut(note);
        }
    }

    /** The note, cut to {@link #MAX_NOTE_BYTES} of UTF-8 at a character's boundary. */
    static String cut(String note) {
        if (note.length() * 3 <= MAX_NOTE_BYTES) {
            return note; // short enough however it encodes
        }
        byte[] bytes = note.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (bytes.length <= MAX_NOTE_BYTES) {
            return note;
        }
        int end = MAX_NOTE_BYTES;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
            end--; // not inside a character's bytes
        }
        return new String(bytes, 0, end, java.nio.charset.StandardCharsets.UTF_8);
    }

    public long count() {
        return last - first + 1;
    }

    StateRun withState(DeliveryState next) {
        return new StateRun(first, last, next, deliveries, null, 0, null);
    }

    StateRun slice(long from, long to) {
        // A dead-lettering run numbers its offsets from its first: a slice keeps each offset's number.
        long until = state == DeliveryState.DEAD_LETTERING ? untilMs + (from - first) : untilMs;
        return new StateRun(from, to, state, deliveries, member, until, note);
    }

    /** DEAD_LETTERING: the sequence number the dead-letter copy of {@code offset} is written with. */
    public long deadLetterSequence(long offset) {
        if (state != DeliveryState.DEAD_LETTERING || offset < first || offset > last) {
            throw new IllegalArgumentException("offset " + offset + " is not dead-lettering in " + this);
        }
        return untilMs + (offset - first);
    }

    /** DEAD_LETTERING: why the records were archived ("rejected", "delivery-attempts-exhausted"). */
    public String reason() {
        return note == null ? "" : note.split("\n", 2)[0];
    }

    /** DEAD_LETTERING: what the consumer (or the node, for a lock that ran out) said, or empty. */
    public String error() {
        String[] parts = note == null ? new String[0] : note.split("\n", 2);
        return parts.length < 2 ? "" : parts[1];
    }

    /** Whether {@code next} directly follows this run and is the same in everything but its offsets. */
    boolean joins(StateRun next) {
        long untilNext = state == DeliveryState.DEAD_LETTERING ? untilMs + count() : untilMs;
        return next.first == last + 1 && next.state == state && next.deliveries == deliveries
                && Objects.equals(next.member, member) && next.untilMs == untilNext && Objects.equals(next.note, note);
    }
}
