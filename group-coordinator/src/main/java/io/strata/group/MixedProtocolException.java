package io.strata.group;

/**
 * A member tried to join a group whose live members take part by the other protocol (Strata's own, which Kafka's
 * consumer protocol members share, or Kafka's classic one): a group is assigned one way at a time. It can join
 * once they have left.
 */
public final class MixedProtocolException extends RuntimeException {
    public MixedProtocolException(String group, boolean kafkaJoining) {
        this(group, kafkaJoining ? "of Strata's own clients or of Kafka's consumer protocol"
                : "of Kafka clients of the classic protocol");
    }

    private MixedProtocolException(String group, String whose) {
        super("group '" + group + "' has live members " + whose + "; a group is joined by one kind of client at a time "
                + "(stop them, or use another group)");
    }

    /** A member of Kafka's consumer protocol (a Strata member) met a group of classic Kafka members. */
    public static MixedProtocolException classicMembersLive(String group) {
        return new MixedProtocolException(group, "of Kafka clients of the classic protocol (group.protocol=classic)");
    }
}
