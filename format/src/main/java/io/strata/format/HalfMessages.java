package io.strata.format;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Half messages (docs/transactions.md, "Half messages with check-back") as they travel and wait: each waits in its
 * partition's half log, {@code p | STAGING_BIT | HALF_BIT}, a staging log of its own that no client names and the
 * delay worker never reads; its producer group rides in the header {@code strata.half.group}; its id names where it
 * waits. One rule for producers, the ingest path and the node that decides and delivers it. Pure.
 */
public final class HalfMessages {
    /** Set, with {@link DeliverAt#STAGING_BIT}, in the partition of a half log. */
    public static final int HALF_BIT = 1 << 29;
    /** The header naming a half message's producer group: the producers asked about it when it stays undecided. */
    public static final String GROUP_HEADER = "strata.half.group";
    /** The longest producer group name, in bytes. */
    public static final int MAX_GROUP_BYTES = 249;

    private HalfMessages() {
    }

    /** The half log of partition {@code p}'s half messages. */
    public static int log(int partition) {
        return partition | DeliverAt.STAGING_BIT | HALF_BIT;
    }

    /** Whether {@code partition} is a half log. */
    public static boolean isLog(int partition) {
        return (partition & HALF_BIT) != 0 && (partition & DeliverAt.STAGING_BIT) != 0;
    }

    /** The partition a staging or half log belongs to. */
    public static int target(int partition) {
        return partition & ~(DeliverAt.STAGING_BIT | HALF_BIT);
    }

    public static RecordHeader groupHeader(String group) {
        return new RecordHeader(GROUP_HEADER, group.getBytes(StandardCharsets.UTF_8));
    }

    /** The producer group of a half message from its headers (the last such header), or null. */
    public static String groupOf(List<RecordHeader> headers) {
        String group = null;
        for (RecordHeader h : headers) {
            if (GROUP_HEADER.equals(h.key())) {
                group = new String(h.value(), StandardCharsets.UTF_8);
            }
        }
        return group;
    }

    /** What is wrong with a producer group's name, or null when it is fine. */
    public static String groupProblem(String group) {
        if (group == null || group.isEmpty()) {
            return "a half message names its producer group (header " + GROUP_HEADER + ")";
        }
        if (group.getBytes(StandardCharsets.UTF_8).length > MAX_GROUP_BYTES) {
            return "a producer group's name is at most " + MAX_GROUP_BYTES + " bytes";
        }
        for (int i = 0; i < group.length(); i++) {
            char c = group.charAt(i);
            if (c == '/' || Character.isISOControl(c)) {
                return "a producer group's name holds no '/' and no control character: '" + group + "'";
            }
        }
        return null;
    }

    /**
     * A half message's id: its topic's incarnation, its partition and its offset in the half log, written
     * {@code h-{topic id}-{partition}-{offset}}. It never names a message of a topic deleted and created again.
     */
    public record Id(long topicId, int partition, long offset) {
        public Id {
            if (topicId <= 0 || partition < 0 || partition >= HALF_BIT || offset < 0) {
                throw new IllegalArgumentException("not a half message's place: " + topicId + "/" + partition + "@"
                        + offset);
            }
        }

        /** The id as written; {@link #parse} reads it. */
        @Override
        public String toString() {
            return "h-" + topicId + "-" + partition + "-" + offset;
        }

        /** Reads an id {@link #toString} wrote; IllegalArgumentException when it is not one. */
        public static Id parse(String text) {
            String[] parts = text == null ? new String[0] : text.split("-", -1);
            if (parts.length != 4 || !parts[0].equals("h")) {
                throw new IllegalArgumentException("'" + text + "' is not a half message's id (h-TOPICID-PARTITION-OFFSET)");
            }
            try {
                return new Id(Long.parseLong(parts[1]), Integer.parseInt(parts[2]), Long.parseLong(parts[3]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is not a half message's id (h-TOPICID-PARTITION-OFFSET)");
            }
        }
    }
}
