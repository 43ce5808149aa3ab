package io.strata.group;

/**
 * A member tried to join a group whose live members take part by the other protocol (Strata's own or Kafka's
 * classic one): a group is assigned one way at a time. It can join once they have left.
 */
public final class MixedProtocolException extends RuntimeException {
    public MixedProtocolException(String group, boolean kafkaJoining) {
        super("group '" + group + "' has live members " + (kafkaJoining ? "of Strata's own clients" : "of Kafka clients")
                + "; a group is joined by one kind of client at a time (stop them, or use another group)");
    }
}
