package io.strata.metadata.group;

import io.strata.metadata.TopicConfig;
import java.time.Duration;
import java.util.List;

/** What a consumer says of itself when it joins a group. */
public record MemberSpec(String clientId, String clientAddress, List<String> topics, Duration sessionTimeout,
                         OffsetReset offsetReset) {
    public MemberSpec {
        topics = List.copyOf(topics);
        if (clientId == null || clientAddress == null || offsetReset == null || topics.isEmpty()
                || topics.stream().anyMatch(t -> !TopicConfig.validName(t))) {
            throw new IllegalArgumentException("a member names a client and subscribes to valid topics: " + topics);
        }
        if (sessionTimeout.toSeconds() < 1) {
            throw new IllegalArgumentException("a session lasts at least one second, not " + sessionTimeout);
        }
    }
}
