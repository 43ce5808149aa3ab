package io.strata.group;

import java.time.Duration;

/**
 * Settings of the group coordinator.
 *
 * @param minSessionTimeout     the shortest session a member may ask for (shorter ones are refused)
 * @param maxSessionTimeout     the longest session a member may ask for
 * @param defaultSessionTimeout the session of a member that asks for none
 * @param reconcileInterval     how often a group with members served here is looked at even without a change
 *                              (watches wake it at once; this only bounds the cost of a missed event)
 * @param timeout               the most one metadata call of the coordinator may take
 * @param hostLeaseTtl          the TTL of the lease the sessions hosted on this node hang on: how long they
 *                              outlive this node when it dies, unless their heartbeats move to another node
 * @param maxMembersPerNode     the most member sessions this node hosts (more are refused with
 *                              {@link TooManyMembersException}): bounds its memory
 */
public record GroupSettings(Duration minSessionTimeout, Duration maxSessionTimeout, Duration defaultSessionTimeout,
                            Duration reconcileInterval, Duration timeout, Duration hostLeaseTtl, int maxMembersPerNode) {
    public static final GroupSettings DEFAULT = new GroupSettings(Duration.ofSeconds(2), Duration.ofMinutes(5),
            Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(10), 100_000);

    public GroupSettings {
        if (minSessionTimeout.toSeconds() < 1 || maxSessionTimeout.compareTo(minSessionTimeout) < 0
                || defaultSessionTimeout.compareTo(minSessionTimeout) < 0
                || defaultSessionTimeout.compareTo(maxSessionTimeout) > 0
                || reconcileInterval.isNegative() || reconcileInterval.isZero() || timeout.isNegative()
                || hostLeaseTtl.toSeconds() < 1 || maxMembersPerNode < 1) {
            throw new IllegalArgumentException("invalid group settings: sessions " + minSessionTimeout + ".."
                    + maxSessionTimeout + " (default " + defaultSessionTimeout + "), host lease " + hostLeaseTtl
                    + ", at most " + maxMembersPerNode + " members per node");
        }
    }
}
