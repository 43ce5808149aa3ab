package io.strata.metadata.group;

import java.util.List;

/** A live member of a group, as its key holds it; its keys live as long as {@code leaseId}. */
public record GroupMember(String memberId, String clientId, String clientAddress, List<String> topics, long leaseId,
                          long sessionTimeoutMs, OffsetReset offsetReset, long joinedAtMs) {
    public GroupMember {
        topics = List.copyOf(topics);
        if (!GroupNames.validMember(memberId) || leaseId == 0 || sessionTimeoutMs <= 0) {
            throw new IllegalArgumentException("invalid member " + memberId);
        }
    }
}
