package io.strata.kafka.group;

import io.strata.group.GroupCoordinator;
import io.strata.group.NotOwnerException;
import io.strata.group.OffsetOutOfRangeException;
import io.strata.kafka.KafkaErrors;
import io.strata.metadata.group.TopicPartition;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.Errors;

/** A group member's offset commit through the Kafka door, answered per partition as Kafka answers. */
final class GroupCommits {
    private GroupCommits() {
    }

    /** One answer for every partition of the commit, in its order. */
    static Map<TopicPartition, Errors> all(List<GroupCoordinator.CommitRequest> offsets, Errors error) {
        Map<TopicPartition, Errors> out = new java.util.LinkedHashMap<>();
        offsets.forEach(o -> out.put(o.partition(), error));
        return out;
    }

    /**
     * Commits the member's offsets. The store commits all or nothing, so partitions the member does not hold are
     * answered {@code notOwned} and the rest committed again without them; an offset below what retention
     * removed is kept at the log start instead (Kafka stores any offset; a consumer behind retention would start
     * there anyway).
     */
    static CompletableFuture<Map<TopicPartition, Errors>> commit(GroupCoordinator coordinator, String group,
                                                                 String memberId,
                                                                 List<GroupCoordinator.CommitRequest> offsets,
                                                                 Errors notOwned) {
        return coordinator.commit(group, memberId, offsets, Set.of()).handle((v, e) -> {
            if (e == null) {
                return CompletableFuture.completedFuture(all(offsets, Errors.NONE));
            }
            Map<TopicPartition, Errors> out = new HashMap<>();
            Throwable t = KafkaErrors.unwrap(e);
            if (t instanceof NotOwnerException n) {
                List<GroupCoordinator.CommitRequest> rest = offsets.stream()
                        .filter(o -> !n.partitions().contains(o.partition())).toList();
                n.partitions().forEach(p -> out.put(p, notOwned));
                if (rest.isEmpty()) {
                    return CompletableFuture.completedFuture(out);
                }
                return commit(coordinator, group, memberId, rest, notOwned).thenApply(more -> {
                    out.putAll(more);
                    return out;
                });
            }
            if (t instanceof OffsetOutOfRangeException range) {
                List<GroupCoordinator.CommitRequest> clamped = offsets.stream().map(o -> o.partition()
                        .equals(range.partition()) ? new GroupCoordinator.CommitRequest(o.partition(),
                        range.clamp(o.offset()), o.metadata(), o.epoch()) : o).toList();
                if (!clamped.equals(offsets)) {
                    return commit(coordinator, group, memberId, clamped, notOwned);
                }
            }
            return CompletableFuture.completedFuture(all(offsets, GroupErrors.forCommit(t)));
        }).thenCompose(f -> f);
    }
}
