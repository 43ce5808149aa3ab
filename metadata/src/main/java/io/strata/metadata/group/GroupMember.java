package io.strata.metadata.group;

import java.util.List;

/**
 * A live member of a group, as its key holds it. Its keys live as long as {@code leaseId}: the lease of the node
 * hosting its session (see {@link GroupStore}). {@code revision} is the mod revision of the member key as it was
 * read or written (0 in a value not read from the store); a node expires exactly that version of the member.
 */
public record GroupMember(String memberId, String clientId, String clientAddress, List<String> topics, long leaseId,
                          long sessionTimeoutMs, OffsetReset offsetReset, long joinedAtMs, long revision) {
    public GroupMember {
        topics = List.copyOf(topics);
        if (!GroupNames.validMember(memberId) || leaseId == 0 || sessionTimeoutMs <= 0) {
            throw new IllegalArgumentException("invalid member " + memberId);
        }
    }

    public GroupMember at(long modRevision) {
        return new GroupMember(memberId, clientId, clientAddress, topics, leaseId, sessionTimeoutMs, offsetReset,
                joinedAtMs, modRevision);
    }

    public GroupMember hostedBy(long lease) {
        return new GroupMember(memberId, clientId, clientAddress, topics, lease, sessionTimeoutMs, offsetReset,
                joinedAtMs, revision);
    }
}
