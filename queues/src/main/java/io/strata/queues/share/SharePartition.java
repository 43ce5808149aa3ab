package io.strata.queues.share;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One partition of one share group: which records are done, which are held by which member and until when,
 * which wait to be delivered again, and how often each was delivered. Everything before {@link #start} is
 * done; offsets from {@link #end} on were never handed out; in between lie the runs of {@link StateRun}, at
 * most {@link SharePolicy#maxInFlight} offsets. Decisions only: time comes in as arguments, and the caller
 * persists {@link #runs} (with {@link ShareStateCodec}) before it answers anyone, so what a member was told
 * survives the node that told it.
 *
 * <p>Not thread-safe: the node that owns the partition applies one operation at a time.
 */
public final class SharePartition {
    private final SharePolicy policy;
    private long start;
    private long end;
    /** Runs by first offset, covering [start, end) without gaps. */
    private final TreeMap<Long, StateRun> runs = new TreeMap<>();
    /** Who writes the dead-letter copies, or null before the first is written. */
    private DeadLetterWriter writer;
    /** The sequence number the next record to be dead-lettered takes. */
    private long nextDeadLetterSequence;

    /**
     * The idempotent producer that writes a partition's dead-letter copies, and the dead-letter partition it
     * writes them to. Each copy is written with the sequence number its record was given when it was archived,
     * so a copy written again (its node crashed before the record was marked archived) is recognised by the
     * ingest path as a retry and stored once.
     */
    public record DeadLetterWriter(long producerId, String topic, int partition) {
        public DeadLetterWriter {
            if (producerId < 0 || topic == null || topic.isEmpty() || partition < 0) {
                throw new IllegalArgumentException("a dead-letter writer needs a producer id, a topic and a partition");
            }
        }
    }

    public SharePartition(SharePolicy policy, long start) {
        this(policy, start, start, List.of(), null, 0);
    }

    /** The state as persisted: runs covering [start, end) in order. */
    public SharePartition(SharePolicy policy, long start, long end, List<StateRun> state) {
        this(policy, start, end, state, null, 0);
    }

    /** The state as persisted, with its dead-letter writer (or null) and next dead-letter sequence. */
    public SharePartition(SharePolicy policy, long start, long end, List<StateRun> state, DeadLetterWriter writer,
                          long nextDeadLetterSequence) {
        if (start < 0 || end < start || nextDeadLetterSequence < 0) {
            throw new IllegalArgumentException("invalid window [" + start + ", " + end + ")");
        }
        this.policy = policy;
        this.start = start;
        this.end = end;
        this.writer = writer;
        this.nextDeadLetterSequence = nextDeadLetterSequence;
        long next = start;
        for (StateRun r : state) {
            if (r.first() != next) {
                throw new IllegalArgumentException("runs leave a gap or overlap at " + next);
            }
            runs.put(r.first(), r);
            next = r.last() + 1;
        }
        if (next != end) {
            throw new IllegalArgumentException("runs end at " + next + ", the window at " + end);
        }
    }

    /** Every offset before this is done for the group. */
    public long start() {
        return start;
    }

    /** The first offset never handed out. */
    public long end() {
        return end;
    }

    public SharePolicy policy() {
        return policy;
    }

    /** The same state decided by another policy (the group's settings changed). */
    public SharePartition withPolicy(SharePolicy next) {
        return new SharePartition(next, start, end, runs(), writer, nextDeadLetterSequence);
    }

    public DeadLetterWriter deadLetterWriter() {
        return writer;
    }

    public long nextDeadLetterSequence() {
        return nextDeadLetterSequence;
    }

    /**
     * Dead-letter copies go through {@code next} from now on (the first writer; the group's dead-letter topic or
     * its partition count changed; the ingest path no longer knows the old producer; null: none, the group no
     * longer copies): the records still waiting for their copy are numbered again from 0, in the order they were
     * numbered, as a new producer starts.
     */
    public void useDeadLetterWriter(DeadLetterWriter next) {
        long sequence = 0;
        for (StateRun r : deadLettering()) {
            set(new StateRun(r.first(), r.last(), DeliveryState.DEAD_LETTERING, r.deliveries(), null, sequence,
                    r.note()));
            sequence += r.count();
        }
        writer = next;
        nextDeadLetterSequence = sequence;
        coalesce();
    }

    /** The runs covering [start, end), in offset order. */
    public List<StateRun> runs() {
        return List.copyOf(runs.values());
    }

    /** A range of offsets handed to a member, delivered {@code deliveries} times counting this one. */
    public record Acquired(long first, long last, int deliveries) {
    }

    /**
     * Hands {@code member} up to {@code max} records: first those available again (in offset order, their
     * back-off over), then records after the window, up to the partition's {@code logEnd} and the in-flight
     * bound. Locks that ran out by {@code nowMs} are released first.
     */
    public List<Acquired> acquire(String member, int max, long logEnd, long nowMs) {
        if (max < 1) {
            throw new IllegalArgumentException("acquire at least one record");
        }
        expire(nowMs);
        List<Acquired> out = new ArrayList<>();
        int left = max;
        for (StateRun r : List.copyOf(runs.values())) {
            if (left == 0 || r.first() >= logEnd) {
                break; // past what the caller can read (its view of the log may lag the state's)
            }
            if (r.state() != DeliveryState.AVAILABLE || r.untilMs() > nowMs) {
                continue;
            }
            if (r.deliveries() >= policy.maxDeliveries()) {
                // Delivered as often as the group allows now (its setting was lowered since): archived, not
                // handed out again.
                archive(r, ATTEMPTS_EXHAUSTED, "delivered " + r.deliveries() + " times; the group allows "
                        + policy.maxDeliveries());
                continue;
            }
            long last = Math.min(Math.min(r.last(), r.first() + left - 1), logEnd - 1);
            split(last + 1); // the rest of the run stays available
            int deliveries = r.deliveries() + 1;
            set(new StateRun(r.first(), last, DeliveryState.ACQUIRED, deliveries, member, nowMs + policy.lockMs(), null));
            out.add(new Acquired(r.first(), last, deliveries));
            left -= (int) (last - r.first() + 1);
        }
        long limit = Math.min(logEnd, start + policy.maxInFlight());
        if (left > 0 && end < limit) {
            long last = Math.min(limit, end + left) - 1;
            StateRun taken = new StateRun(end, last, DeliveryState.ACQUIRED, 1, member, nowMs + policy.lockMs(), null);
            runs.put(end, taken);
            end = last + 1;
            out.add(new Acquired(taken.first(), last, 1));
        }
        advance();
        coalesce();
        return out;
    }

    /** Why a dead-lettered record was archived: its member rejected it. */
    public static final String REJECTED = "rejected";
    /** Why a dead-lettered record was archived: it failed on its last allowed delivery. */
    public static final String ATTEMPTS_EXHAUSTED = "delivery-attempts-exhausted";

    /** How a member answers records it holds. */
    public enum Answer {
        /** Done: never delivered to the group again. */
        ACCEPT,
        /** Give it back, to be delivered again after a delay (the policy's back-off when none is given). */
        RELEASE,
        /** It cannot be processed: archive it (dead-letter it, when the group has a topic). */
        REJECT,
        /**
         * Handed back unprocessed (the member closes, or the records could not be delivered to it): available
         * again at once, and this delivery is not counted.
         */
        GIVE_BACK
    }

    /**
     * What an answer did: how many of the offsets named were held by the member (the rest were not, or no
     * longer: their lock ran out, or they were never its), and the records it archived that wait for their
     * dead-letter copy.
     */
    public record AnswerOutcome(long applied, long notHeld, List<StateRun> toDeadLetter) {
    }

    /**
     * Applies {@code member}'s answer to the offsets {@code [first, last]} it holds, whichever delivery it holds
     * them in: {@link #answer(String, long, long, int, Answer, long, String, long)} with no delivery named.
     */
    public AnswerOutcome answer(String member, long first, long last, Answer answer, long delayMs, String note,
                                long nowMs) {
        return answer(member, first, last, 0, answer, delayMs, note, nowMs);
    }

    /**
     * Applies {@code member}'s answer to the offsets {@code [first, last]} it holds in their delivery
     * {@code deliveries} (0: whichever it holds them in). An answer to an earlier delivery that arrives after the
     * record came back to the same member (a release with no back-off; an answer sent again after a call whose
     * outcome the member could not know) is not applied: it was meant for a delivery that is over. {@code delayMs}
     * is for RELEASE: negative for the policy's back-off, 0 for now. {@code note} (REJECT) is the consumer's
     * reason, kept for the dead-letter record.
     */
    public AnswerOutcome answer(String member, long first, long last, int deliveries, Answer answer, long delayMs,
                                String note, long nowMs) {
        if (last < first) {
            throw new IllegalArgumentException("an empty range [" + first + ", " + last + "]");
        }
        if (deliveries < 0) {
            throw new IllegalArgumentException("a negative delivery: " + deliveries);
        }
        List<StateRun> archived = new ArrayList<>(expire(nowMs));
        long applied = 0;
        long from = Math.max(first, start);
        long to = Math.min(last, end - 1);
        if (from <= to) {
            split(from);
            split(to + 1);
            for (StateRun r : List.copyOf(runs.subMap(from, true, to, true).values())) {
                if (r.state() != DeliveryState.ACQUIRED || !r.member().equals(member)
                        || deliveries != 0 && r.deliveries() != deliveries) {
                    continue;
                }
                applied += r.count();
                switch (answer) {
                    case ACCEPT -> set(r.withState(DeliveryState.ACKNOWLEDGED));
                    case RELEASE -> archived.addAll(failed(r, nowMs, delayMs,
                            note == null || note.isEmpty() ? "released" : note));
                    case REJECT -> archived.addAll(archive(r, REJECTED, note == null ? "" : note));
                    case GIVE_BACK -> set(new StateRun(r.first(), r.last(), DeliveryState.AVAILABLE,
                            Math.max(0, r.deliveries() - 1), null, 0, null));
                }
            }
        }
        advance();
        coalesce();
        long named = last - first + 1; // callers bound the range; an overflow would be a negative count
        return new AnswerOutcome(applied, Math.max(0, named - applied), archived);
    }

    /**
     * Releases what {@code member} holds (it left, or its session ended), as if each lock had run out; answers
     * the records this archived that wait for their dead-letter copy.
     */
    public List<StateRun> releaseMember(String member, long nowMs) {
        List<StateRun> archived = new ArrayList<>(expire(nowMs));
        for (StateRun r : List.copyOf(runs.values())) {
            if (r.state() == DeliveryState.ACQUIRED && r.member().equals(member)) {
                archived.addAll(failed(r, nowMs, -1, "its member left"));
            }
        }
        advance();
        coalesce();
        return archived;
    }

    /**
     * Releases every record whose lock ran out by {@code nowMs}; answers the records this archived that wait for
     * their dead-letter copy (out of deliveries).
     */
    public List<StateRun> expire(long nowMs) {
        List<StateRun> archived = new ArrayList<>();
        for (StateRun r : List.copyOf(runs.values())) {
            if (r.state() == DeliveryState.ACQUIRED && r.untilMs() <= nowMs) {
                archived.addAll(failed(r, nowMs, -1, "its lock ran out"));
            }
        }
        advance();
        coalesce();
        return archived;
    }

    /**
     * Records archived that still wait for their dead-letter copy, in the order of their sequence numbers (the
     * order their copies must be written in).
     */
    public List<StateRun> deadLettering() {
        return runs.values().stream().filter(r -> r.state() == DeliveryState.DEAD_LETTERING)
                .sorted(java.util.Comparator.comparingLong(StateRun::untilMs)).toList();
    }

    /** Their dead-letter copies are written: the records are done. */
    public void deadLettered(long first, long last) {
        split(first);
        split(last + 1);
        for (StateRun r : List.copyOf(runs.subMap(first, true, last, true).values())) {
            if (r.state() == DeliveryState.DEAD_LETTERING) {
                set(r.withState(DeliveryState.ARCHIVED));
            }
        }
        advance();
        coalesce();
    }

    /**
     * The log starts at {@code logStart} now (retention removed what lay before): what was not done there is
     * gone for the group too. Offsets never handed out move with it.
     */
    public void logStartMoved(long logStart) {
        if (logStart <= start) {
            return;
        }
        split(Math.min(logStart, end));
        for (StateRun r : List.copyOf(runs.headMap(logStart).values())) {
            runs.remove(r.first());
        }
        start = logStart;
        end = Math.max(end, logStart);
        advance();
        coalesce();
    }

    /** When the earliest lock runs out or back-off ends after {@code nowMs}, or -1: when to look again. */
    public long nextDeadlineMs(long nowMs) {
        long next = -1;
        for (StateRun r : runs.values()) {
            if ((r.state() == DeliveryState.ACQUIRED || r.state() == DeliveryState.AVAILABLE) && r.untilMs() > nowMs
                    && (next < 0 || r.untilMs() < next)) {
                next = r.untilMs();
            }
        }
        return next;
    }

    /**
     * What deleting the group now would take from someone: records a member holds (its lock not yet run out; a
     * run-out lock is the group's to hand out again) and archived records still owed their dead-letter copy.
     *
     * @param lockEndsMs when the last of the held records' locks runs out (0: none held)
     */
    public record Outstanding(long held, long deadLettering, long lockEndsMs) {
        public static final Outstanding NONE = new Outstanding(0, 0, 0);

        public boolean isEmpty() {
            return held == 0 && deadLettering == 0;
        }

        public Outstanding plus(Outstanding o) {
            return new Outstanding(held + o.held, deadLettering + o.deadLettering, Math.max(lockEndsMs, o.lockEndsMs));
        }
    }

    public Outstanding outstanding(long nowMs) {
        long held = 0;
        long deadLettering = 0;
        long lockEnds = 0;
        for (StateRun r : runs.values()) {
            if (r.state() == DeliveryState.ACQUIRED && r.untilMs() > nowMs) {
                held += r.count();
                lockEnds = Math.max(lockEnds, r.untilMs());
            } else if (r.state() == DeliveryState.DEAD_LETTERING) {
                deadLettering += r.count();
            }
        }
        return new Outstanding(held, deadLettering, lockEnds);
    }

    /** Records handed out and not yet answered, and records waiting to be delivered again. */
    public long acquiredCount() {
        return runs.values().stream().filter(r -> r.state() == DeliveryState.ACQUIRED).mapToLong(StateRun::count).sum();
    }

    public long availableCount() {
        return runs.values().stream().filter(r -> r.state() == DeliveryState.AVAILABLE).mapToLong(StateRun::count).sum();
    }

    /** A record whose delivery failed: available again after its back-off, or archived when out of deliveries. */
    private List<StateRun> failed(StateRun r, long nowMs, long delayMs, String why) {
        if (r.deliveries() >= policy.maxDeliveries()) {
            return archive(r, ATTEMPTS_EXHAUSTED, why);
        }
        // A member's own delay is bounded like the back-off: a record parked for good would hold the window's
        // start, and with it the whole partition, once the window filled up behind it.
        long wait = delayMs >= 0 ? Math.min(delayMs, policy.backoffMaxMs()) : policy.backoffMs(r.deliveries());
        set(new StateRun(r.first(), r.last(), DeliveryState.AVAILABLE, r.deliveries(), null, nowMs + wait, null));
        return List.of();
    }

    private List<StateRun> archive(StateRun r, String reason, String error) {
        if (!policy.deadLetter()) {
            set(new StateRun(r.first(), r.last(), DeliveryState.ARCHIVED, r.deliveries(), null, 0, null));
            return List.of();
        }
        StateRun pending = new StateRun(r.first(), r.last(), DeliveryState.DEAD_LETTERING, r.deliveries(), null,
                nextDeadLetterSequence, error.isEmpty() ? reason : reason + "\n" + error);
        nextDeadLetterSequence += r.count();
        set(pending);
        return List.of(pending);
    }

    private void set(StateRun r) {
        runs.put(r.first(), r);
    }

    /** Makes {@code at} the first offset of a run (when it lies inside one). */
    private void split(long at) {
        Map.Entry<Long, StateRun> e = runs.floorEntry(at);
        if (e == null || e.getKey() == at || e.getValue().last() < at) {
            return;
        }
        StateRun r = e.getValue();
        runs.put(r.first(), r.slice(r.first(), at - 1));
        runs.put(at, r.slice(at, r.last()));
    }

    /** Moves the start past the runs at its head that are done. */
    private void advance() {
        while (!runs.isEmpty() && runs.firstEntry().getValue().state().done()) {
            StateRun r = runs.pollFirstEntry().getValue();
            start = r.last() + 1;
        }
        if (runs.isEmpty()) {
            start = end;
        }
    }

    /** Joins neighbouring runs that differ in nothing but their offsets, so the state stays small. */
    private void coalesce() {
        StateRun previous = null;
        for (StateRun r : List.copyOf(runs.values())) {
            if (previous != null && previous.joins(r)) {
                runs.remove(r.first());
                previous = previous.slice(previous.first(), r.last());
                runs.put(previous.first(), previous);
            } else {
                previous = r;
            }
        }
    }
}
