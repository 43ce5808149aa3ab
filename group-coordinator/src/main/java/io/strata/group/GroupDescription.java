package io.strata.group;

import io.strata.metadata.group.TopicPartition;
import java.util.List;

/**
 * A group as {@code describe} shows it: its state, members, and per partition the owner, committed offset,
 * end and lag ({@code committed} and {@code lag} are -1 where nothing was committed).
 */
public record GroupDescription(String group, State state, long generation, List<Member> members,
                               List<PartitionLag> partitions) {
    public enum State {
        /** No live members. */
        EMPTY,
        /** Every partition of the target is owned by its target member. */
        STABLE,
        /** Partitions are moving between members. */
        REBALANCING
    }

    public record Member(String memberId, String clientId, String clientAddress, List<String> topics,
                         long sessionTimeoutMs, List<TopicPartition> owned) {
    }

    public record PartitionLag(TopicPartition partition, String owner, long committed, long logStart, long end,
                               long lag) {
    }

    public long totalLag() {
        return partitions.stream().mapToLong(p -> Math.max(0, p.lag())).sum();
    }
}
