package io.strata.metadata.group;

import java.util.Map;
import java.util.Optional;

/**
 * A group's coordination read at one revision: its live members, the partitions owned, and the target.
 * {@code exists} is false for a group never joined (or deleted). A watch from {@code revision} sees every
 * later change.
 */
public record GroupSnapshot(String group, boolean exists, Map<String, GroupMember> members,
                            Map<TopicPartition, PartitionOwner> owners, TargetAssignment target,
                            long targetModRevision, long groupModRevision, long revision) {
    public GroupSnapshot {
        members = Map.copyOf(members);
        owners = Map.copyOf(owners);
    }

    public Optional<GroupMember> member(String memberId) {
        return Optional.ofNullable(members.get(memberId));
    }

    /**
     * A mark that differs between two snapshots of the group whenever its coordination changed between them:
     * a put raises the highest revision of its keys, a delete lowers their count.
     */
    public String changeMark() {
        long highest = Math.max(targetModRevision, groupModRevision);
        for (GroupMember m : members.values()) {
            highest = Math.max(highest, m.revision());
        }
        for (PartitionOwner o : owners.values()) {
            highest = Math.max(highest, o.revision());
        }
        return highest + "/" + members.size() + "/" + owners.size() + "/" + (targetModRevision > 0);
    }
}
