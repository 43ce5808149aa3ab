package io.strata.metadata;

public class TopicExistsException extends MetadataException {
    public TopicExistsException(String name) {
        super("topic already exists: " + name, false);
    }
}
