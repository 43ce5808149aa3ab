package io.strata.group;

import java.util.concurrent.atomic.LongAdder;

/** Counters of one coordinator since it started. Thread-safe. */
public final class GroupStats {
    final LongAdder joins = new LongAdder();
    final LongAdder leaves = new LongAdder();
    final LongAdder targetsPublished = new LongAdder();
    final LongAdder partitionsAcquired = new LongAdder();
    final LongAdder commits = new LongAdder();
    final LongAdder committedPartitions = new LongAdder();
    final LongAdder fencedCommits = new LongAdder();
    final LongAdder startsBelowLogStart = new LongAdder();
    final LongAdder reconciles = new LongAdder();
    final LongAdder expiries = new LongAdder();
    final LongAdder adoptions = new LongAdder();
    volatile java.util.function.IntSupplier hosted = () -> 0;

    public long joins() {
        return joins.sum();
    }

    public long leaves() {
        return leaves.sum();
    }

    public long targetsPublished() {
        return targetsPublished.sum();
    }

    public long partitionsAcquired() {
        return partitionsAcquired.sum();
    }

    /** Commit calls accepted (each one transaction when the store's limits allow). */
    public long commits() {
        return commits.sum();
    }

    public long committedPartitions() {
        return committedPartitions.sum();
    }

    /** Commits refused because the member did not own the partitions or was not in the group. */
    public long fencedCommits() {
        return fencedCommits.sum();
    }

    /** Partitions started at the log start because their committed offset was below it (retention moved it). */
    public long startsBelowLogStart() {
        return startsBelowLogStart.sum();
    }

    public long reconciles() {
        return reconciles.sum();
    }

    /** Members this node ended because their heartbeats stopped for a whole session. */
    public long expiries() {
        return expiries.sum();
    }

    /** Members whose sessions moved to this node (their heartbeats came here from another node). */
    public long adoptions() {
        return adoptions.sum();
    }

    /** Members whose sessions this node holds now. */
    public int hostedMembers() {
        return hosted.getAsInt();
    }
}
