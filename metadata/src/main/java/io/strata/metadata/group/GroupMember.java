package io.strata.metadata.group;

import java.util.List;

/**
 * A live member of a group, as its key holds it. Its keys live as long as {@code leaseId}: the lease of the node
 * hosting its session (see {@link GroupStore}). {@code revision} is the mod revision of the member key as it was
 * read or written (0 in a value not read from the store); a node expires exactly that version of the member.
 * {@code protocol} says how it takes part ({@link MemberSpec#STRATA} or {@link MemberSpec#KAFKA}).
 */
public record GroupMember(String memberId, String clientId, String clientAddress, List<String> topics, long leaseId,
                          long sessionTimeoutMs, OffsetReset offsetReset, long joinedAtMs, long revision,
                          String protocol) {
    public GroupMember {
        topics = List.copyOf(topics);
        protocol = protocol == null ? MemberSpec.STRATA : protocol;
        if (!GroupNames.validMember(memberId) || leaseId == 0 || sessionTimeoutMs <= 0) {
            throw new IllegalArgumentException("invalid member " + memberId);
        }
    }

    /** A member of Strata's own protocol. */
    public GroupMember(String memberId, String clientId, String clientAddress, List<String> topics, long leaseId,
                       long sessionTimeoutMs, OffsetReset offsetReset, long joinedAtMs, long revision) {
        this(memberId, clientId, clientAddress, topics, leaseId, sessionTimeoutMs, offsetReset, joinedAtMs, revision,
                MemberSpec.STRATA);
    }

    public GroupMember at(long modRevision) {
        return new GroupMember(memberId, clientId, clientAddress, topics, leaseId, sessionTimeoutMs, offsetReset,
                joinedAtMs, modRevision, protocol);
    }

    public GroupMember hostedBy(long lease) {
        return new GroupMember(memberId, clientId, clientAddress, topics, lease, sessionTimeoutMs, offsetReset,
                joinedAtMs, revision, protocol);
    }

    /** A member of a Kafka client's classic group protocol, assigned by the Kafka door. */
    public boolean kafka() {
        return MemberSpec.KAFKA.equals(protocol);
    }
}
