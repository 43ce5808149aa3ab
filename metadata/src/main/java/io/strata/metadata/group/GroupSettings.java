package io.strata.metadata.group;

import java.util.List;
import java.util.Optional;

/**
 * What an operator set for one group, share or classic ({@code strata groups alter}), over the nodes' defaults:
 * each setting left empty takes the node's ({@code strata.share.*}). Immutable.
 *
 * @param deadLetterTopic     where records the group gives up on are copied, or empty for none
 * @param maxDeliveryAttempts deliveries after which a record that still fails is archived; 0: the default
 * @param lockMs              how long a member holds what it took; 0: the default
 * @param backoff             the wait before a failed record is delivered again, or empty for the default
 * @param namedBy             the principal who named the dead-letter topic (copies are written only while it may
 *                            read the source and write the dead-letter topic), or empty
 * @param namedByGroups       that principal's groups when it named the topic
 */
public record GroupSettings(String deadLetterTopic, int maxDeliveryAttempts, long lockMs, Optional<Backoff> backoff,
                            String namedBy, List<String> namedByGroups) {
    /** Nothing set: every default. */
    public static final GroupSettings DEFAULTS = new GroupSettings("", 0, 0, Optional.empty());

    /** The first wait, what each further failure multiplies it by, and the longest wait. */
    public record Backoff(long initialMs, double multiplier, long maxMs) {
        public Backoff {
            if (initialMs < 0 || multiplier < 1 || maxMs < initialMs) {
                throw new IllegalArgumentException("a back-off starts at 0 or more, multiplies by at least 1 and "
                        + "ends no lower than it starts");
            }
        }
    }

    public GroupSettings {
        if (deadLetterTopic == null || maxDeliveryAttempts < 0 || lockMs < 0 || backoff == null || namedBy == null
                || namedByGroups == null) {
            throw new IllegalArgumentException("group settings are not negative");
        }
        namedByGroups = List.copyOf(namedByGroups);
    }

    /**
     * Refuses a name no group (share or classic) may have, with IllegalArgumentException: 1 to 249 characters,
     * without '/', which separates the parts of a group's keys ("a" must not reach into "a/b").
     */
    public static void checkName(String group) {
        if (group == null || group.isEmpty() || group.length() > 249 || group.indexOf('/') >= 0) {
            throw new IllegalArgumentException("a group is named by 1 to 249 characters, without '/'");
        }
    }

    public GroupSettings(String deadLetterTopic, int maxDeliveryAttempts, long lockMs, Optional<Backoff> backoff) {
        this(deadLetterTopic, maxDeliveryAttempts, lockMs, backoff, "", List.of());
    }

    /**
     * These settings with every one that {@code change} sets taken from it (a dead-letter topic along with who
     * named it).
     */
    public GroupSettings with(GroupSettings change, boolean clearDeadLetterTopic) {
        boolean newTopic = !clearDeadLetterTopic && !change.deadLetterTopic.isEmpty();
        String topic = clearDeadLetterTopic ? "" : newTopic ? change.deadLetterTopic : deadLetterTopic;
        return new GroupSettings(topic, change.maxDeliveryAttempts > 0 ? change.maxDeliveryAttempts
                : maxDeliveryAttempts, change.lockMs > 0 ? change.lockMs : lockMs,
                change.backoff.isPresent() ? change.backoff : backoff,
                newTopic ? change.namedBy : topic.isEmpty() ? "" : namedBy,
                newTopic ? change.namedByGroups : topic.isEmpty() ? List.of() : namedByGroups);
    }
}
