package io.strata.metadata.group;

import io.strata.metadata.TopicConfig;
import java.time.Duration;
import java.util.List;

/**
 * What a consumer says of itself when it joins a group. {@code protocol} is how it takes part: {@link #STRATA}
 * (the group coordinator assigns partitions, members take them as their owners release them) or {@link #KAFKA}
 * (a Kafka client of the classic protocol; its group's leader assigns and the Kafka door keeps the target and the
 * partition leases). A Kafka member may subscribe to no topic Strata knows yet (Kafka Connect's groups, or
 * topics not created yet). {@code memberId} is the id the member asks for (Kafka's consumer protocol lets the
 * client choose it), or empty: the store makes one.
 */
public record MemberSpec(String clientId, String clientAddress, List<String> topics, Duration sessionTimeout,
                         OffsetReset offsetReset, String protocol, String memberId) {
    public static final String STRATA = "";
    public static final String KAFKA = "kafka";

    public MemberSpec {
        topics = List.copyOf(topics);
        protocol = protocol == null ? STRATA : protocol;
        memberId = memberId == null ? "" : memberId;
        if (!memberId.isEmpty() && !GroupNames.validMember(memberId)) {
            throw new IllegalArgumentException("invalid member id " + io.strata.metadata.InputText.quoted(memberId));
        }
        if (!protocol.equals(STRATA) && !protocol.equals(KAFKA)) {
            throw new IllegalArgumentException("unknown group protocol '" + protocol + "'");
        }
        if (clientId == null || clientAddress == null || offsetReset == null
                || (topics.isEmpty() && protocol.equals(STRATA))
                || topics.stream().anyMatch(t -> !TopicConfig.validName(t))) {
            throw new IllegalArgumentException("a member names a client and subscribes to valid topics: " + topics);
        }
        if (sessionTimeout.toSeconds() < 1) {
            throw new IllegalArgumentException("a session lasts at least one second, not " + sessionTimeout);
        }
    }

    /** A member whose id the store makes. */
    public MemberSpec(String clientId, String clientAddress, List<String> topics, Duration sessionTimeout,
                      OffsetReset offsetReset, String protocol) {
        this(clientId, clientAddress, topics, sessionTimeout, offsetReset, protocol, "");
    }

    /** A member of Strata's own protocol. */
    public MemberSpec(String clientId, String clientAddress, List<String> topics, Duration sessionTimeout,
                      OffsetReset offsetReset) {
        this(clientId, clientAddress, topics, sessionTimeout, offsetReset, STRATA);
    }
}
