package io.strata.group;

/** A member subscribed to, or a commit or reset named, a topic that does not exist. */
public final class UnknownTopicException extends RuntimeException {
    public UnknownTopicException(String topic) {
        super("unknown topic " + io.strata.metadata.InputText.quoted(topic));
    }
}
