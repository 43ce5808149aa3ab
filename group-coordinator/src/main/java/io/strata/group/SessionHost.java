package io.strata.group;

import io.strata.metadata.group.GroupMember;
import io.strata.metadata.group.GroupStore;
import io.strata.metadata.group.MemberSpec;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sessions of the members whose heartbeats reach this node, kept in memory. Their keys are bound to one
 * host lease of this node, renewed every third of its TTL, so a heartbeat costs the metadata store nothing and
 * 10,000 members cost it one renewal every few seconds (per-member leases cost one renewal per heartbeat:
 * 3,000 a second, most of etcd's CPU here). A member silent for its session timeout is expired by the sweep;
 * when this node dies its lease ends every session it hosted; a member whose heartbeats arrive here without
 * being hosted (its node died, its connection moved) is adopted: its keys move onto this node's lease.
 *
 * <p>Thread-safe. Runs its renewals and sweeps on the coordinator's timer.
 */
final class SessionHost implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionHost.class);

    private final GroupStore store;
    private final Duration ttl;
    private final int maxMembers;
    private final GroupStats stats;
    private final Map<String, Hosted> hosted = new ConcurrentHashMap<>();
    /** Starts the coordinator's watch of all groups (after a revision), which tells this host of member changes. */
    private final java.util.function.LongConsumer watchFrom;
    /** Members bound to this node's lease but not hosted, as the last pass saw them (key → revision). */
    private final Map<String, Long> unhosted = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger expiring = new java.util.concurrent.atomic.AtomicInteger();
    private static final int MAX_EXPIRING = 64;
    private volatile CompletableFuture<Long> lease;
    /** When the lease was last known alive (granted or renewed). */
    private volatile long confirmedNanos;

    /** One hosted member: the version of its key this node bound, and its last heartbeat. */
    private static final class Hosted {
        final String group;
        final GroupMember member;
        final long lease;
        volatile long lastBeatNanos = System.nanoTime();
        volatile boolean expiring;

        Hosted(String group, GroupMember member) {
            this.group = group;
            this.member = member;
            this.lease = member.leaseId();
        }

        boolean silentFor(long now) {
            return now - lastBeatNanos > TimeUnit.MILLISECONDS.toNanos(member.sessionTimeoutMs());
        }
    }

    SessionHost(GroupStore store, Duration ttl, int maxMembers, GroupStats stats, ScheduledExecutorService timer,
                java.util.function.LongConsumer watchFrom) {
        this.store = store;
        this.watchFrom = watchFrom;
        this.ttl = ttl;
        this.maxMembers = maxMembers;
        this.stats = stats;
        long renewEvery = Math.max(200, ttl.toMillis() / 3);
        timer.scheduleWithFixedDelay(this::renew, renewEvery, renewEvery, TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(this::sweep, 250, 250, TimeUnit.MILLISECONDS);
    }

    int size() {
        return hosted.size();
    }

    /** This node's host lease, granted on first use and again after it was lost. */
    private synchronized CompletableFuture<Long> lease() {
        if (lease == null || (lease.isDone() && lease.isCompletedExceptionally())) {
            lease = store.grantHostLease(ttl).whenComplete((id, e) -> {
                if (e == null) {
                    confirmedNanos = System.nanoTime();
                    LOG.info("hosting group sessions under lease {} ({} s)", Long.toHexString(id), ttl.toSeconds());
                }
            });
        }
        return lease;
    }

    /** Joins a member hosted here; {@link IllegalStateException} when this node hosts as many as it may. */
    CompletableFuture<GroupMember> join(String group, MemberSpec spec) {
        if (hosted.size() >= maxMembers) {
            return CompletableFuture.failedFuture(new TooManyMembersException(maxMembers));
        }
        return lease().thenCompose(l -> store.join(group, spec, l)).thenApply(m -> {
            hosted.put(key(group, m.memberId()), new Hosted(group, m));
            watchFrom.accept(m.revision());
            return m;
        });
    }

    /**
     * The member's heartbeat: in memory when it is hosted here, else an adoption. Fails with
     * {@link UnknownMemberException} when the member is not in the group.
     */
    CompletableFuture<Void> heartbeat(String group, String memberId) {
        Hosted h = hosted.get(key(group, memberId));
        CompletableFuture<Long> current = lease;
        if (h != null && current != null && current.isDone() && !current.isCompletedExceptionally()
                && current.join() == h.lease) {
            long now = System.nanoTime();
            if (h.expiring || h.silentFor(now)) { // too late: its session ended, whether or not the store knows yet
                return CompletableFuture.failedFuture(new UnknownMemberException(group, memberId));
            }
            if (now - confirmedNanos > ttl.toNanos() * 2 / 3) {
                // The lease was not renewed for most of its TTL (the store unreachable): the session may be gone
                // there, so it is not confirmed; the member keeps its own count of unconfirmed time.
                return CompletableFuture.failedFuture(new io.strata.metadata.MetadataException(
                        "this node cannot confirm its sessions' lease with the metadata store", true));
            }
            h.lastBeatNanos = now;
            return CompletableFuture.completedFuture(null);
        }
        if (h == null && hosted.size() >= maxMembers) {
            return CompletableFuture.failedFuture(new TooManyMembersException(maxMembers));
        }
        return lease().thenCompose(l -> store.adopt(group, memberId, l)).thenAccept(m -> {
            if (m.isEmpty()) {
                hosted.remove(key(group, memberId));
                throw new UnknownMemberException(group, memberId);
            }
            hosted.put(key(group, memberId), new Hosted(group, m.get()));
            stats.adoptions.increment();
            watchFrom.accept(m.get().revision());
        });
    }

    /**
     * The member left: ends it in the store; false when it was not in the group. Should that fail, the session
     * counts as silent, so the sweep ends it.
     */
    CompletableFuture<Boolean> leave(String group, String memberId) {
        String key = key(group, memberId);
        Hosted h = hosted.get(key);
        if (h != null) {
            h.lastBeatNanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(h.member.sessionTimeoutMs()) - 1;
        }
        return store.leave(group, memberId).whenComplete((left, e) -> {
            if (e == null && h != null) {
                hosted.remove(key, h);
            }
        });
    }

    /**
     * The member's key changed at {@code revision} (from the watch of all groups): deleted ({@code lease} 0), or
     * bound to another lease (another node adopted it). Either way this node no longer holds its session.
     */
    void memberChanged(String group, String memberId, long lease, long revision) {
        Hosted h = hosted.get(key(group, memberId));
        // An event from before this session was written (the deletion of an earlier member of the same id, which
        // left and joined again) is not about it.
        if (h != null && h.lease != lease && revision > h.member.revision()) {
            hosted.remove(key(group, memberId), h);
        }
    }

    /**
     * The safety net of the periodic pass: a member bound to this node's lease that this node does not host (a
     * leave or an expiry that failed for good, an adoption cut short) would live as long as the node. Seen so
     * in two passes in a row, it is expired.
     */
    void expireUnhosted(Map<String, io.strata.metadata.group.GroupSnapshot> all) {
        CompletableFuture<Long> current = lease;
        if (current == null || !current.isDone() || current.isCompletedExceptionally()) {
            return;
        }
        long id = current.join();
        Map<String, Long> seen = new java.util.HashMap<>();
        all.forEach((group, snap) -> snap.members().values().forEach(m -> {
            String key = key(group, m.memberId());
            if (m.leaseId() == id && !hosted.containsKey(key)) {
                seen.put(key, m.revision());
                if (Long.valueOf(m.revision()).equals(unhosted.get(key))) {
                    LOG.warn("member {} of group {} is bound to this node's lease but has no session here: ending it",
                            m.memberId(), group);
                    store.expire(group, m);
                }
            }
        }));
        unhosted.keySet().retainAll(seen.keySet());
        unhosted.putAll(seen);
    }

    /** Whether this node hosts any session (the periodic pass then also looks for members without one). */
    boolean hostsAny() {
        return !hosted.isEmpty() || lease != null;
    }

    private void renew() {
        CompletableFuture<Long> current;
        synchronized (this) {
            current = lease;
        }
        if (current == null || !current.isDone() || current.isCompletedExceptionally()) {
            return;
        }
        long id = current.join();
        store.renewHostLease(id).whenComplete((alive, e) -> {
            if (e == null && alive) {
                confirmedNanos = System.nanoTime();
            } else if (e == null || System.nanoTime() - confirmedNanos > ttl.toNanos()) {
                lost(current, e == null ? "it expired" : e.toString());
            }
            // A failed renewal within the TTL: the next one may still succeed.
        });
    }

    /** The lease ended, and every session it held with it: members hosted under it must join again. */
    private void lost(CompletableFuture<Long> which, String why) {
        synchronized (this) {
            if (lease != which) {
                return;
            }
            lease = null;
        }
        long id = which.join();
        int before = hosted.size();
        hosted.values().removeIf(h -> h.lease == id);
        LOG.warn("the host lease {} of group sessions ended ({}): {} hosted member(s) must join again",
                Long.toHexString(id), why, before - hosted.size());
    }

    private void sweep() {
        long now = System.nanoTime();
        for (var e : hosted.entrySet()) {
            Hosted h = e.getValue();
            if (h.expiring || !h.silentFor(now)) {
                continue;
            }
            if (expiring.get() >= MAX_EXPIRING) {
                return; // after a mass silence (a client-side network cut): a bounded load, the rest next sweep
            }
            h.expiring = true;
            expiring.incrementAndGet();
            store.expire(h.group, h.member).thenCompose(ended -> ended
                    ? CompletableFuture.completedFuture(true)
                    // Not ended: gone already, or adopted elsewhere; or the guard kept failing (then try again).
                    : store.member(h.group, h.member.memberId()).thenApply(m ->
                            m.isEmpty() || m.get().leaseId() != h.lease ? false : null))
                    .whenComplete((ended, failure) -> {
                expiring.decrementAndGet();
                if (failure != null || ended == null) {
                    h.expiring = false; // the next sweep tries again; the lease bounds how long this can last
                    LOG.debug("expiring member {} of group {} is retried: {}", h.member.memberId(), h.group,
                            failure == null ? "it kept changing" : failure.toString());
                    return;
                }
                hosted.remove(e.getKey(), h);
                if (ended) {
                    stats.expiries.increment();
                    LOG.info("member {} of group {} expired after {} ms without a heartbeat", h.member.memberId(),
                            h.group, h.member.sessionTimeoutMs());
                }
            });
        }
    }

    private static String key(String group, String memberId) {
        return group + "/" + memberId;
    }

    /**
     * Leaves the lease to expire: members hosted here move to another node within its TTL (their heartbeats
     * adopt them there) rather than being ended by a restart.
     */
    @Override
    public void close() {
        hosted.clear();
    }
}
