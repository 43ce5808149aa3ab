package io.strata.metadata.group;

import io.strata.metadata.TopicConfig;

/** A partition of a topic, by the topic's name: what a group assigns, owns and commits. */
public record TopicPartition(String topic, int partition) implements Comparable<TopicPartition> {
    public TopicPartition {
        if (!TopicConfig.validName(topic) || partition < 0) {
            throw new IllegalArgumentException("invalid partition " + topic + "/" + partition);
        }
    }

    @Override
    public int compareTo(TopicPartition o) {
        int c = topic.compareTo(o.topic);
        return c != 0 ? c : Integer.compare(partition, o.partition);
    }

    @Override
    public String toString() {
        return topic + "/" + partition;
    }
}
