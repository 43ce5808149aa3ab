package io.strata.client;

import io.grpc.Status;
import io.strata.api.v1.AssignedPartition;
import io.strata.api.v1.GroupTopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The group side of a {@link Consumer} that subscribed: applies what the group says (partitions assigned,
 * revoked or lost) to the consumer's fetching, tells the {@link RebalanceListener}, and commits positions,
 * fenced by the epoch of the ownership each was reached under.
 *
 * <p>Nodes come and go under it: its {@link GroupMembership} moves to the nodes that can be reached, and when
 * none can take a rejoin now (every node the client knows is down, or the one asked answers that it cannot:
 * starting, full, timing out on its store) it tries again every half second while the application polls, on
 * the next node, for as long as the client's deadline; only then does a poll fail. Only the session's real end
 * (NOT_FOUND) costs it its partitions.
 *
 * <p>Not thread-safe: used by the consumer's polling thread, but for {@link #commitAsync}'s callbacks.
 */
final class GroupSubscription {
    /** How soon a poll tries again to join while no node could be reached. */
    static final long REJOIN_RETRY_MS = 500;
    /** How often a poll looks at a rejoin still running, should its end not wake it. */
    static final long JOIN_LOOK_MS = 100;
    /** How long a close waits for a rejoin under way to be answered before cancelling it. */
    static final long JOIN_CLOSE_WAIT_MS = 500;

    /** What the group changes in the consumer's fetching. */
    interface Fetching {
        List<Integer> assignment();

        /** The partition's position, or null when it has none. */
        Long position(int partition);

        /** The partition joins the assignment, to be read from {@code offset}. */
        void add(int partition, long offset);

        /** The partitions leave the assignment; their fetches are cancelled. */
        void drop(Collection<Integer> partitions);
    }

    private final String topic;
    private final GroupMembership membership;
    private final RebalanceListener listener;
    private final ConsumerConfig config;
    private final Duration deadline;
    /** The epoch of each owned partition's ownership. */
    private final Map<Integer, Long> epochs = new HashMap<>();
    /** The epoch of ownerships this consumer released (later messages of them are stale). */
    private final Map<Integer, Long> released = new HashMap<>();
    /** What was last committed, so an unchanged position is not written again. */
    private final Map<Integer, Long> committed = new ConcurrentHashMap<>();
    /** Partitions given up locally whose release the server has not confirmed; retried each poll. */
    private final Set<Integer> unreleased = new TreeSet<>();
    private long lastAutoCommitNanos = System.nanoTime();
    /** Since when a rejoin has found no node to join through; 0 when none is pending. */
    private long rejoinFailingSinceNanos;
    /** The rejoin running on the membership's thread, and when it started; null when none is. */
    private java.util.concurrent.CompletableFuture<Void> joining;
    private long joiningSinceNanos;
    private long lastJoinEndedNanos;
    /** Whether the last join failed (for any reason): the next waits its turn, however fast the polls come. */
    private boolean lastJoinFailed;

    GroupSubscription(String topic, GroupMembership membership, RebalanceListener listener, ConsumerConfig config,
                      Duration deadline) {
        this.topic = topic;
        this.membership = membership;
        this.listener = listener == null ? RebalanceListener.NONE : listener;
        this.config = config;
        this.deadline = deadline;
    }

    String group() {
        return membership.group();
    }

    String memberId() {
        return membership.memberId();
    }

    /**
     * The positions to commit with a transaction: each with the epoch of its partition's ownership now.
     *
     * @throws IllegalStateException when a partition is not owned
     */
    Consumer.TransactionPositions transactionPositions(Map<Integer, Long> offsets) {
        Map<Integer, long[]> out = new TreeMap<>();
        offsets.forEach((partition, offset) -> {
            Long epoch = epochs.get(partition);
            if (epoch == null) {
                throw new IllegalStateException("partition " + partition + " of " + topic + " is not this member's");
            }
            out.put(partition, new long[] {offset, epoch});
        });
        return new Consumer.TransactionPositions(group(), memberId(), topic, out);
    }

    /**
     * While a rejoin waits for a node to come back: how long a poll may wait before it is tried again; while one
     * runs, how long before it is looked at again (its end wakes the poll; this is the fallback); else -1.
     */
    long retryInMillis() {
        if (joining != null) {
            return JOIN_LOOK_MS;
        }
        if (lastJoinFailed && (rejoinFailingSinceNanos != 0 || membership.lost())) {
            // The next join's turn comes within this poll, whatever its timeout (a poll after a join's failure
            // was thrown may be a long one).
            return Math.max(0, REJOIN_RETRY_MS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastJoinEndedNanos));
        }
        return rejoinFailingSinceNanos != 0 ? REJOIN_RETRY_MS : -1;
    }

    /** Applies what the group said since the last look: partitions lost, to give up, and newly owned. */
    void apply(Fetching fetching) {
        if (joining != null || rejoinFailingSinceNanos != 0 || membership.lost()) {
            if (rejoinFailingSinceNanos == 0) {
                List<Integer> lost = List.copyOf(fetching.assignment());
                fetching.drop(lost);
                lost.forEach(p -> {
                    epochs.remove(p);
                    committed.remove(p);
                });
                released.clear();
                unreleased.clear();
                if (!lost.isEmpty()) {
                    RuntimeException failed = told(null, () -> listener.onPartitionsLost(lost));
                    rejoin();
                    if (failed != null) {
                        throw failed;
                    }
                    return;
                }
            }
            rejoin();
            if (joining != null || rejoinFailingSinceNanos != 0 || membership.lost()) {
                return;
            }
            // Joined just now. What the new member's stream said meanwhile is applied here: its wake may have
            // come (and been spent) while the join was still ending.
        }
        if (!unreleased.isEmpty()) {
            try {
                membership.commit(Map.of(), Map.of(), unreleased); // without offsets: one the server refused cannot block it
                unreleased.clear();
            } catch (StrataException e) {
                if (notOurs(e)) {
                    unreleased.clear();
                }
            }
        }
        io.strata.api.v1.Assignment a = membership.latest();
        if (a == null) {
            return;
        }
        Map<Integer, AssignedPartition> owned = new HashMap<>();
        for (AssignedPartition p : a.getOwnedList()) {
            Long gaveUp = released.get(p.getPartition());
            if (p.getTopic().equals(topic) && (gaveUp == null || gaveUp != p.getEpoch())) {
                owned.put(p.getPartition(), p);
            }
        }
        List<Integer> assignment = fetching.assignment();
        List<Integer> revoking = a.getRevokingList().stream().filter(p -> p.getTopic().equals(topic))
                .map(GroupTopicPartition::getPartition).filter(owned::containsKey).toList();
        // The listener's failure is the poll's, once the assignment is applied whole: thrown halfway, it would leave
        // partitions revoked and still read, and the group would not send the same assignment again.
        RuntimeException failed = null;
        if (!revoking.isEmpty()) {
            List<Integer> ours = revoking.stream().filter(assignment::contains).toList();
            if (!ours.isEmpty()) {
                failed = told(failed, () -> listener.onPartitionsRevoked(ours));
            }
            // With auto-commit the positions count as processed; without it the application committed what it
            // processed in onPartitionsRevoked, and only the release is sent.
            Map<Integer, Long> offsets = config.autoCommitInterval().isZero() ? Map.of() : uncommitted(fetching, ours);
            try {
                membership.commit(offsets, Map.copyOf(epochs), revoking);
            } catch (StrataException e) {
                if (!notOurs(e)) {
                    unreleased.addAll(revoking); // this consumer stops reading them now; the release is retried
                }
            }
            revoking.forEach(p -> {
                released.put(p, owned.remove(p).getEpoch());
                committed.remove(p);
            });
            drop(fetching, ours);
        }
        List<Integer> gone = fetching.assignment().stream()
                .filter(p -> !owned.containsKey(p) || owned.get(p).getEpoch() != epochs.get(p)).toList();
        if (!gone.isEmpty()) {
            drop(fetching, gone);
            failed = told(failed, () -> listener.onPartitionsLost(gone));
        }
        List<Integer> added = new ArrayList<>();
        for (var e : new TreeMap<>(owned).entrySet()) {
            if (!fetching.assignment().contains(e.getKey())) {
                fetching.add(e.getKey(), e.getValue().getStartOffset());
                epochs.put(e.getKey(), e.getValue().getEpoch());
                released.remove(e.getKey());
                added.add(e.getKey());
            }
        }
        if (!added.isEmpty()) {
            failed = told(failed, () -> listener.onPartitionsAssigned(added));
        }
        if (failed != null) {
            throw failed;
        }
    }

    /** Tells the listener; answers the first failure so far ({@code first}, or this call's). */
    private static RuntimeException told(RuntimeException first, Runnable call) {
        try {
            call.run();
            return first;
        } catch (RuntimeException e) {
            return first != null ? first : e;
        }
    }

    /**
     * Joins again after the session ended, on the membership's thread: a poll goes on answering within its timeout
     * (without partitions) while the join runs, however long a frozen node holds it. While no node can be reached,
     * or none can take the join now ({@link Transient}: a node whose metadata calls time out while a crashed node's
     * leases run out, one starting), the join is tried again; only after a whole deadline of that does the poll
     * fail.
     */
    private void rejoin() {
        if (joining == null) {
            long now = System.nanoTime();
            if (lastJoinFailed && now - lastJoinEndedNanos < REJOIN_RETRY_MS * 1_000_000) {
                return; // spaced out, however fast the application polls
            }
            joiningSinceNanos = now;
            joining = membership.joinAsync();
        }
        if (!joining.isDone()) {
            return;
        }
        java.util.concurrent.CompletableFuture<Void> ended = joining;
        joining = null;
        lastJoinEndedNanos = System.nanoTime();
        lastJoinFailed = ended.isCompletedExceptionally();
        try {
            ended.join();
            rejoinFailingSinceNanos = 0;
        } catch (java.util.concurrent.CompletionException failure) {
            if (!(failure.getCause() instanceof StrataException e)) {
                // Not a failure of the call: a bug, the application's to see at once (as when the join ran here).
                if (failure.getCause() instanceof Error err) {
                    throw err;
                }
                throw failure.getCause() instanceof RuntimeException r ? r : failure;
            }
            if (!Transient.is(e)) {
                rejoinFailingSinceNanos = 0;
                throw e;
            }
            long now = System.nanoTime();
            if (rejoinFailingSinceNanos == 0) {
                // Never at the first failure: a join that hung is tried on the next node.
                rejoinFailingSinceNanos = joiningSinceNanos;
            } else if (now - rejoinFailingSinceNanos > deadline.toNanos()) {
                rejoinFailingSinceNanos = 0;
                throw e;
            }
        }
    }

    /** The server says the partitions are no longer this member's to release (or it is no longer a member). */
    private static boolean notOurs(StrataException e) {
        return e.code() == Status.Code.NOT_FOUND || e.code() == Status.Code.FAILED_PRECONDITION;
    }

    private void drop(Fetching fetching, Collection<Integer> partitions) {
        fetching.drop(partitions);
        partitions.forEach(p -> {
            epochs.remove(p);
            committed.remove(p);
        });
    }

    /** The positions of these partitions that changed since they were last committed. */
    private Map<Integer, Long> uncommitted(Fetching fetching, Collection<Integer> partitions) {
        Map<Integer, Long> out = new HashMap<>();
        for (int p : partitions) {
            Long at = fetching.position(p);
            if (at != null && !at.equals(committed.get(p))) {
                out.put(p, at);
            }
        }
        return out;
    }

    /** Commits the positions without waiting when the auto-commit interval has passed since the last time. */
    void autoCommit(Fetching fetching) {
        long every = config.autoCommitInterval().toNanos();
        if (every > 0 && System.nanoTime() - lastAutoCommitNanos >= every) {
            lastAutoCommitNanos = System.nanoTime();
            commitAsync(fetching, (offsets, failure) -> {
            });
        }
    }

    void commitSync(Fetching fetching) {
        commitSync(uncommitted(fetching, fetching.assignment()));
    }

    void commitSync(Map<Integer, Long> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        membership.commit(offsets, Map.copyOf(epochs), List.of());
        committed.putAll(offsets);
    }

    void commitAsync(Fetching fetching, BiConsumer<Map<Integer, Long>, StrataException> callback) {
        Map<Integer, Long> offsets = uncommitted(fetching, fetching.assignment());
        if (offsets.isEmpty()) {
            callback.accept(offsets, null);
            return;
        }
        // Remembered at once so the next auto-commit does not send it again; forgotten if it fails, so a
        // later commit (or the one at close) sends it.
        committed.putAll(offsets);
        membership.commitAsync(offsets, Map.copyOf(epochs), failure -> {
            if (failure != null) {
                offsets.forEach(committed::remove);
            }
            callback.accept(offsets, failure);
        });
    }

    /** Commits the positions (when auto-commit is on) and leaves the group, so the partitions move at once. */
    void close(Fetching fetching) {
        // An interrupted thread's blocking calls are cancelled: the flag is set aside for the commit and the leave.
        boolean interrupted = Thread.interrupted();
        if (joining != null) {
            // A join whose answer is on its way: waited for briefly, so the member it made is left with the close
            // rather than left to its session; one held by a frozen node is cancelled by the membership's close.
            try {
                joining.get(JOIN_CLOSE_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
                joining = null;
            } catch (InterruptedException e) {
                interrupted = true; // kept for after the leave, which an interrupted thread could not send
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // failed (nothing made) or still held
            }
        }
        try {
            closeMembership(fetching);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void closeMembership(Fetching fetching) {
        try {
            // A rejoin under way first: the membership's thread may be publishing a new member meanwhile.
            if (joining == null && rejoinFailingSinceNanos == 0 && !config.autoCommitInterval().isZero()
                    && !membership.lost()) {
                commitSync(fetching);
            }
        } catch (StrataException e) {
            // revoked or gone: its successor starts from the last commit that was accepted
        } finally {
            membership.close();
            drop(fetching, List.copyOf(fetching.assignment()));
        }
    }
}
