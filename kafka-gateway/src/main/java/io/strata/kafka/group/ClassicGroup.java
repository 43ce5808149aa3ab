package io.strata.kafka.group;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;

/**
 * One Kafka classic group as its coordinator node holds it in memory: the state of the rebalance protocol
 * (members, generation, leader, chosen assignor, each member's assignment). What must outlive this node is in the
 * store (members, target, partition leases, offsets: {@link io.strata.group.KafkaMembership}); a coordinator
 * taking over rebuilds this from members that rejoin. Guarded by its own monitor.
 */
final class ClassicGroup {
    enum State {
        EMPTY("Empty"), PREPARING_REBALANCE("PreparingRebalance"), COMPLETING_REBALANCE("CompletingRebalance"),
        STABLE("Stable");

        final String kafkaName;

        State(String kafkaName) {
            this.kafkaName = kafkaName;
        }
    }

    static final class Member {
        final String id;
        final String clientId;
        final String clientHost;
        int sessionTimeoutMs;
        int rebalanceTimeoutMs;
        String protocolType;
        LinkedHashMap<String, byte[]> protocols;
        byte[] assignment = new byte[0];
        CompletableFuture<JoinGroupResponseData> awaitingJoin;
        CompletableFuture<SyncGroupResponseData> awaitingSync;
        /** When it was last heard of (a heartbeat, a join, a sync), by System.nanoTime. */
        long heardNanos = System.nanoTime();
        /** When its store session was last kept alive on its behalf while it waits in a join or a sync. */
        long beatNanos = System.nanoTime();

        Member(String id, String clientId, String clientHost) {
            this.id = id;
            this.clientId = clientId;
            this.clientHost = clientHost;
        }
    }

    final String id;
    State state = State.EMPTY;
    int generation;
    String protocolType;
    String protocolName;
    String leaderId;
    final LinkedHashMap<String, Member> members = new LinkedHashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED, by when they must join (nanoTime). */
    final Map<String, Long> pending = new LinkedHashMap<>();
    /** When the join phase ends whoever has not rejoined (nanoTime); 0 when not preparing. */
    long joinDeadlineNanos;
    /** Partitions assigned but not taken in the store yet (another node's member still held them), by member. */
    Map<String, java.util.Set<io.strata.metadata.group.TopicPartition>> untaken = Map.of();
    /** The generation whose assignment is being written to the store (-1: none). */
    int assigning = -1;
    /** The last write of an assignment to the store: each waits for the one before, so they land in order. */
    CompletableFuture<?> assignments = CompletableFuture.completedFuture(null);

    ClassicGroup(String id) {
        this.id = id;
    }

    boolean allJoined() {
        for (Member m : members.values()) {
            if (m.awaitingJoin == null) {
                return false;
            }
        }
        return true;
    }

    /** The assignor every member supports, by the members' votes (each for its first supported choice). */
    String selectProtocol() {
        List<String> candidates = null;
        for (Member m : members.values()) {
            List<String> mine = new ArrayList<>(m.protocols.keySet());
            if (candidates == null) {
                candidates = mine;
            } else {
                candidates.retainAll(mine);
            }
        }
        if (candidates == null || candidates.isEmpty()) {
            return null;
        }
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (Member m : members.values()) {
            for (String p : m.protocols.keySet()) {
                if (candidates.contains(p)) {
                    votes.merge(p, 1, Integer::sum);
                    break;
                }
            }
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElse(candidates.get(0));
    }

    /** Whether a member with these protocols could join: same protocol type, an assignor all members share. */
    boolean supports(String type, java.util.Set<String> protocols) {
        if (members.isEmpty()) {
            return true;
        }
        if (!type.equals(protocolType)) {
            return false;
        }
        java.util.Set<String> common = new java.util.HashSet<>(protocols);
        for (Member m : members.values()) {
            common.retainAll(m.protocols.keySet());
        }
        return !common.isEmpty();
    }

    int rebalanceTimeoutMs() {
        return members.values().stream().mapToInt(m -> m.rebalanceTimeoutMs).max().orElse(0);
    }
}
