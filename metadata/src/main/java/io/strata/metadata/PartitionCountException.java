package io.strata.metadata;

/** A partition count that would not grow the topic: partitions are added, never taken away. */
public final class PartitionCountException extends IllegalArgumentException {
    private final int current;

    public PartitionCountException(String topic, int current, int requested) {
        super("topic '" + topic + "' has " + current + " partitions: a partition count only grows, not to "
                + requested);
        this.current = current;
    }

    public int current() {
        return current;
    }
}
